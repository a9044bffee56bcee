// Strings PostgreSQL or Prisma cannot store (a lone UTF-16 surrogate, NUL) and control characters in names, commands
// and paths answer 422 in the error shape through the route handlers, never 500 (issue #22).
import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { PUT as putEnvRoute } from "@/app/api/v1/apps/[appId]/env/route";
import { PATCH as patchAppRoute } from "@/app/api/v1/apps/[appId]/route";
import { POST as createAppRoute } from "@/app/api/v1/apps/route";
import { GET as auditRoute } from "@/app/api/v1/audit-events/route";
import { POST as inviteRoute } from "@/app/api/v1/invitations/route";
import { errorBody } from "@/lib/api/endpoint";
import { call } from "@/test/api";
import { createTestTeam, createTestToken, createTestUser } from "@/test/factories";

const HOSTILE: [string, string][] = [
  ["a lone high surrogate", "\ud800"],
  ["a lone low surrogate", "run \udc00 now"],
  ["NUL", "a\u0000b"],
  ["ESC", "echo \u001b[2J"],
  ["BEL", "a\u0007"],
  ["DEL", "a\u007f"],
  ["a C1 control", "a\u009b31m"],
  ["a bidi override", "gunicorn \u202eppa"],
];
const FIELDS = ["webCommand", "installCommand", "releaseCommand", "subdirectory"];

let write: string;
let appId: string;

function name(): string {
  return `txt-${randomBytes(4).toString("hex")}`;
}

async function expect422(response: Response): Promise<void> {
  expect(response.status).toBe(422);
  const body = errorBody.parse(await response.json());
  expect(body.error.code).toBe("invalid");
}

beforeAll(async () => {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  write = await createTestToken(team.id, ["write"]);
  const created = await call(createAppRoute, "/api/v1/apps", { method: "POST", token: write, body: { name: name() } });
  expect(created.status).toBe(201);
  appId = ((await created.json()) as { app: { id: string } }).app.id;
});

describe("hostile strings through the API", () => {
  for (const field of FIELDS) {
    for (const [label, value] of HOSTILE) {
      it(`refuses ${label} in settings.${field} on create and update with 422`, async () => {
        const body = { settings: { [field]: value } };
        await expect422(
          await call(createAppRoute, "/api/v1/apps", { method: "POST", token: write, body: { name: name(), ...body } }),
        );
        await expect422(
          await call(patchAppRoute, `/api/v1/apps/${appId}`, {
            method: "PATCH",
            token: write,
            body,
            params: { appId },
          }),
        );
      });
    }
  }

  it("refuses a lone surrogate or a control character in the git source with 422", async () => {
    for (const source of [
      { type: "git", url: "https://github.com/acme/\ud800.git" },
      { type: "git", url: "https://github.com/acme/shop.git", ref: "ma\ud800in" },
      { type: "git", url: "https://github.com/acme/shop.git", ref: "ma\u001bin" },
    ]) {
      await expect422(
        await call(patchAppRoute, `/api/v1/apps/${appId}`, {
          method: "PATCH",
          token: write,
          body: { source },
          params: { appId },
        }),
      );
    }
  });

  it("refuses a lone surrogate or NUL in an env value with 422 and stores multi-line values", async () => {
    for (const value of ["\ud800", "x\u0000y"]) {
      await expect422(
        await call(putEnvRoute, `/api/v1/apps/${appId}/env`, {
          method: "PUT",
          token: write,
          body: { env: { SECRET: value } },
          params: { appId },
        }),
      );
    }
    const ok = await call(putEnvRoute, `/api/v1/apps/${appId}/env`, {
      method: "PUT",
      token: write,
      body: { env: { SECRET: "-----BEGIN KEY-----\nab\tcd\r\n-----END KEY-----\n" } },
      params: { appId },
    });
    expect(ok.status).toBe(200);
  });

  it("refuses NUL and control characters in the audit action filter with 422", async () => {
    for (const action of ["%00", "app.%00created", "%1B%5B2J", "app%07"]) {
      await expect422(await call(auditRoute, `/api/v1/audit-events?action=${action}`, { token: write }));
    }
    expect((await call(auditRoute, "/api/v1/audit-events?action=app.created", { token: write })).status).toBe(200);
  });

  it("refuses a lone surrogate in an invitation email with 422", async () => {
    await expect422(
      await call(inviteRoute, "/api/v1/invitations", {
        method: "POST",
        token: write,
        body: { email: "a\ud800@example.com", role: "member" },
      }),
    );
  });
});
