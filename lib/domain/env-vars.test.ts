// Env vars through PUT/GET /api/v1/apps/{appId}/env and the domain: set and unset in one request, values sealed at
// rest and masked on every read, hostile keys and values refused with the whole change rolled back, the key limit,
// audit rows without values, and role checks.
import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { GET as getEnvRoute, PUT as putEnvRoute } from "@/app/api/v1/apps/[appId]/env/route";
import { getEnvEndpoint, putEnvEndpoint } from "@/lib/api/endpoints/env";
import { getDb } from "@/lib/db";
import { ENV_MAX_KEYS, ENV_TOTAL_MAX_BYTES, ENV_VALUE_MAX_BYTES } from "@/lib/domain/app-rules";
import { createApp } from "@/lib/domain/apps";
import type { Ctx } from "@/lib/domain/context";
import { listEnvVars, MASK, resolveEnvForRelease, setEnvVars } from "@/lib/domain/env-vars";
import type { TeamView } from "@/lib/domain/teams";
import type { Role } from "@/lib/generated/prisma/enums";
import { call, errorOf } from "@/test/api";
import { expectAppError } from "@/test/errors";
import { addMember, createTestTeam, createTestToken, createTestUser, userCtx } from "@/test/factories";

function putEnv(appId: string, token: string, body: unknown): Promise<Response> {
  return call(putEnvRoute, `/api/v1/apps/${appId}/env`, { method: "PUT", token, body, params: { appId } });
}

function getEnv(appId: string, token: string): Promise<Response> {
  return call(getEnvRoute, `/api/v1/apps/${appId}/env`, { token, params: { appId } });
}

function secret(): string {
  return `s3cr3t-${randomBytes(12).toString("hex")}`;
}

function manyKeys(count: number, prefix: string): Record<string, string> {
  return Object.fromEntries(Array.from({ length: count }, (_, index) => [`${prefix}_${index}`, `v${index}`]));
}

describe("env vars", () => {
  let team: TeamView;
  let owner: Ctx;
  let write: string;

  beforeAll(async () => {
    const user = await createTestUser();
    team = await createTestTeam(user.id);
    owner = await userCtx(user.id, team.id);
    write = await createTestToken(team.id, ["write"]);
  });

  async function newApp(): Promise<string> {
    return (await createApp(getDb(), owner, { name: `env-${randomBytes(4).toString("hex")}` })).id;
  }

  describe("PUT and GET", () => {
    it("sets and unsets (null) in one request, and answers the masked result", async () => {
      const appId = await newApp();
      expect((await putEnv(appId, write, { env: { KEEP: "1", DROP: "2" } })).status).toBe(200);
      const response = await putEnv(appId, write, { env: { DROP: null, ADDED: "3", KEEP: "1b" } });
      expect(response.status).toBe(200);
      const body = putEnvEndpoint.responses[200].schema.parse(await response.json());
      expect(body.env).toEqual({ ADDED: MASK, KEEP: MASK });
      expect(body.variables.map((variable) => variable.key)).toEqual(["ADDED", "KEEP"]);
      expect(await resolveEnvForRelease(getDb(), appId)).toEqual({ ADDED: "3", KEEP: "1b" });
    });

    it("unsetting a key that does not exist is a no-op, not an error", async () => {
      const appId = await newApp();
      const response = await putEnv(appId, write, { env: { NEVER_SET: null } });
      expect(response.status).toBe(200);
      expect(await resolveEnvForRelease(getDb(), appId)).toEqual({});
    });

    it("GET masks every value and never returns one, to a read token too", async () => {
      const appId = await newApp();
      const values = { API_KEY: secret(), OTHER: secret(), EMPTY: "" };
      expect((await putEnv(appId, write, { env: values })).status).toBe(200);
      const read = await createTestToken(team.id, ["read"]);
      const response = await getEnv(appId, read);
      expect(response.status).toBe(200);
      const text = await response.text();
      for (const value of Object.values(values).filter(Boolean)) expect(text).not.toContain(value);
      const body = getEnvEndpoint.responses[200].schema.parse(JSON.parse(text));
      expect(body.env).toEqual({ API_KEY: MASK, EMPTY: MASK, OTHER: MASK });
      expect(body.variables.map((variable) => Object.keys(variable).sort())).toEqual([
        ["key", "secret", "updatedAt"],
        ["key", "secret", "updatedAt"],
        ["key", "secret", "updatedAt"],
      ]);
    });

    it("seals values at rest: the stored text does not contain the plaintext, and decrypts to it", async () => {
      const appId = await newApp();
      const value = secret();
      const put = await putEnv(appId, write, { env: { TOKEN: value } });
      expect(put.status).toBe(200);
      expect(await put.text()).not.toContain(value);
      const row = await getDb().envVar.findUniqueOrThrow({ where: { appId_key: { appId, key: "TOKEN" } } });
      expect(row.valueEncrypted).not.toContain(value);
      expect(row.valueEncrypted).not.toContain(Buffer.from(value).toString("base64url"));
      expect(row.valueEncrypted).not.toContain(Buffer.from(value).toString("base64"));
      expect(await resolveEnvForRelease(getDb(), appId)).toEqual({ TOKEN: value });

      // A fresh IV each time: the same value set twice is sealed differently.
      expect((await putEnv(appId, write, { env: { TOKEN: value } })).status).toBe(200);
      const again = await getDb().envVar.findUniqueOrThrow({ where: { appId_key: { appId, key: "TOKEN" } } });
      expect(again.valueEncrypted).not.toBe(row.valueEncrypted);
    });

    it("round-trips multi-byte, multi-line and maximal values exactly", async () => {
      const appId = await newApp();
      const env = {
        UNICODE: "blåbär – 🌼 – ﬁ",
        MULTILINE: "-----BEGIN KEY-----\nabc\r\ndef\n-----END KEY-----\n",
        LARGEST: "x".repeat(ENV_VALUE_MAX_BYTES),
      };
      expect((await putEnv(appId, write, { env })).status).toBe(200);
      expect(await resolveEnvForRelease(getDb(), appId)).toEqual(env);
    });
  });

  describe("refused changes roll back entirely", () => {
    const hostile: [string, Record<string, string | null>][] = [
      ["a lower-case key", { lower: "x" }],
      ["a key starting with a digit", { "1ABC": "x" }],
      ["a key with a hyphen", { "A-B": "x" }],
      ["a key with a space", { "A B": "x" }],
      ["a key with '='", { "A=B": "x" }],
      ["a key with a NUL", { "A\u0000B": "x" }],
      ["a look-alike key (Cyrillic А)", { "\u0410PI_KEY": "x" }],
      ["the empty key", { "": "x" }],
      ["a key over 128 characters", { ["K".repeat(129)]: "x" }],
      ["the reserved PORT", { PORT: "1" }],
      ["the reserved DATABASE_URL", { DATABASE_URL: "postgres://evil" }],
      ["the reserved TUSSILAGO_ prefix", { TUSSILAGO_X: "1" }],
      ["the reserved PATH", { PATH: "/tmp" }],
      ["a reserved key being unset", { PORT: null }],
      ["a value with a NUL", { GOOD_KEY: "a\u0000b" }],
      ["a value over 32 KiB", { BIG: "x".repeat(ENV_VALUE_MAX_BYTES + 1) }],
      // Bytes, not characters: 16 385 two-byte characters are 32 770 bytes in 16 385 UTF-16 code units.
      ["a multi-byte value over 32 KiB", { BIG: "é".repeat(ENV_VALUE_MAX_BYTES / 2 + 1) }],
    ];

    it.each(hostile)("refuses %s with 422 and stores nothing of the request", async (_label, change) => {
      const appId = await newApp();
      expect((await putEnv(appId, write, { env: { EXISTING: "before" } })).status).toBe(200);
      const audits = await getDb().auditEvent.count({ where: { teamId: team.id, action: "app.env_changed" } });
      // A valid change in the same request must not be applied either.
      const response = await putEnv(appId, write, { env: { VALID_TOO: "yes", EXISTING: "after", ...change } });
      expect(response.status).toBe(422);
      const error = await errorOf(response);
      expect(error.code).toBe("invalid");
      expect(error.details?.length).toBeGreaterThan(0);
      expect(await resolveEnvForRelease(getDb(), appId)).toEqual({ EXISTING: "before" });
      expect(await getDb().auditEvent.count({ where: { teamId: team.id, action: "app.env_changed" } })).toBe(audits);
    });

    it("refuses more than 200 keys in one request, storing none of them", async () => {
      const appId = await newApp();
      const response = await putEnv(appId, write, { env: manyKeys(ENV_MAX_KEYS + 1, "K") });
      expect(response.status).toBe(422);
      expect(await getDb().envVar.count({ where: { appId } })).toBe(0);
    });

    it("refuses a change that takes the app over 200 keys, and rolls back the keys it had already written", async () => {
      const appId = await newApp();
      expect((await putEnv(appId, write, { env: manyKeys(ENV_MAX_KEYS, "A") })).status).toBe(200);
      expect(await getDb().envVar.count({ where: { appId } })).toBe(ENV_MAX_KEYS);
      // Unsetting one and setting two: the upserts run before the count, so the transaction must undo them.
      const response = await putEnv(appId, write, { env: { A_0: null, NEW_1: "x", NEW_2: "y", A_1: "changed" } });
      expect(response.status).toBe(422);
      const stored = await resolveEnvForRelease(getDb(), appId);
      expect(Object.keys(stored)).toHaveLength(ENV_MAX_KEYS);
      expect(stored).toMatchObject({ A_0: "v0", A_1: "v1" });
      expect(stored).not.toHaveProperty("NEW_1");
      // Swapping one key for another stays at the limit and is fine.
      expect((await putEnv(appId, write, { env: { A_0: null, NEW_1: "x" } })).status).toBe(200);
    });

    it("keeps the 200-key limit when two requests add keys at the same time", async () => {
      const appId = await newApp();
      // Each request alone stays within the limit; together they would hold 240 keys. The window between a
      // transaction's count and its commit is short, so a trigger in this file's own database widens it: the audit
      // insert that follows the count waits a second. Correct code serializes the two requests (a lock on the app
      // row) and refuses the second whatever the timing; code without the lock lets both count 120 and commit.
      await getDb().$executeRawUnsafe(`
        CREATE FUNCTION test_slow_env_audit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.action = 'app.env_changed' THEN PERFORM pg_sleep(1); END IF;
          RETURN NEW;
        END $$`);
      await getDb().$executeRawUnsafe(
        `CREATE TRIGGER test_slow_env_audit BEFORE INSERT ON "AuditEvent"
         FOR EACH ROW EXECUTE FUNCTION test_slow_env_audit()`,
      );
      try {
        const halves = [manyKeys(120, "LEFT"), manyKeys(120, "RIGHT")];
        const responses = await Promise.all(halves.map((env) => putEnv(appId, write, { env })));
        expect(await getDb().envVar.count({ where: { appId } })).toBeLessThanOrEqual(ENV_MAX_KEYS);
        expect(responses.map((response) => response.status).sort()).toEqual([200, 422]);
      } finally {
        await getDb().$executeRawUnsafe(`DROP TRIGGER test_slow_env_audit ON "AuditEvent"`);
        await getDb().$executeRawUnsafe("DROP FUNCTION test_slow_env_audit()");
      }
    });

    it(`refuses a change that takes the app's values over ${ENV_TOTAL_MAX_BYTES / 1024} KiB in total`, async () => {
      const appId = await newApp();
      const full = Object.fromEntries(
        Array.from({ length: ENV_TOTAL_MAX_BYTES / ENV_VALUE_MAX_BYTES }, (_, index) => [
          `CHUNK_${index}`,
          "x".repeat(ENV_VALUE_MAX_BYTES),
        ]),
      );
      // Exactly the documented total is allowed...
      expect((await putEnv(appId, write, { env: full })).status).toBe(200);
      // ...and one more full value (the error message promises "at most 256 KiB") is not.
      const response = await putEnv(appId, write, { env: { ONE_MORE: "x".repeat(ENV_VALUE_MAX_BYTES) } });
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(await resolveEnvForRelease(getDb(), appId)).not.toHaveProperty("ONE_MORE");
    });
  });

  describe("audit", () => {
    it("records app.env_changed with the keys set and unset, never a value", async () => {
      const appId = await newApp();
      const first = secret();
      const second = secret();
      expect((await putEnv(appId, write, { env: { SECRET_A: first, GONE: "plain-old" } })).status).toBe(200);
      expect((await putEnv(appId, write, { env: { SECRET_A: second, GONE: null } })).status).toBe(200);
      const rows = await getDb().auditEvent.findMany({
        where: { teamId: team.id, targetId: appId, action: "app.env_changed" },
      });
      // Two requests can share a millisecond, so the rows are compared without relying on their order.
      expect(rows).toHaveLength(2);
      expect(rows.map((row) => row.metadata)).toEqual(
        expect.arrayContaining([
          { set: ["SECRET_A", "GONE"], unset: [] },
          { set: ["SECRET_A"], unset: ["GONE"] },
        ]),
      );
      const serialized = JSON.stringify(rows);
      for (const value of [first, second, "plain-old"]) expect(serialized).not.toContain(value);
    });
  });

  describe("roles and scoping in the domain", () => {
    async function ctxWithRole(role: Role): Promise<Ctx> {
      const user = await createTestUser();
      await addMember(team.id, user.id, role);
      return await userCtx(user.id, team.id);
    }

    it("refuses a viewer setEnvVars: forbidden, nothing stored, no audit", async () => {
      const appId = await newApp();
      const viewer = await ctxWithRole("viewer");
      await expectAppError(setEnvVars(getDb(), viewer, appId, { FROM_VIEWER: "x" }), "forbidden");
      expect(await getDb().envVar.count({ where: { appId } })).toBe(0);
      expect(await getDb().auditEvent.count({ where: { requestId: viewer.meta.requestId } })).toBe(0);
      // Reading (masked) is a viewer's right.
      expect(await listEnvVars(getDb(), viewer, appId)).toEqual([]);
    });

    it("lets a member set variables", async () => {
      const appId = await newApp();
      const member = await ctxWithRole("member");
      const result = await setEnvVars(getDb(), member, appId, { FROM_MEMBER: "x" });
      expect(result.map((variable) => [variable.key, variable.value])).toEqual([["FROM_MEMBER", MASK]]);
      expect(await resolveEnvForRelease(getDb(), appId)).toEqual({ FROM_MEMBER: "x" });
    });

    it("refuses hostile changes passed to the domain directly, as AppError invalid", async () => {
      const appId = await newApp();
      await expectAppError(setEnvVars(getDb(), owner, appId, { OK_KEY: "x", DATABASE_URL: "postgres://x" }), "invalid");
      expect(await getDb().envVar.count({ where: { appId } })).toBe(0);
    });

    it("answers not_found for another team's app, to reads and writes", async () => {
      const appId = await newApp();
      const stranger = await createTestUser();
      const other = await createTestTeam(stranger.id);
      const intruder = await userCtx(stranger.id, other.id);
      await expectAppError(listEnvVars(getDb(), intruder, appId), "not_found");
      await expectAppError(setEnvVars(getDb(), intruder, appId, { INJECTED: "x" }), "not_found");
      expect(await getDb().envVar.count({ where: { appId } })).toBe(0);
    });
  });
});
