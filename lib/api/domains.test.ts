// The custom domains API through its route handlers: the answer shapes (parsed with the endpoint schemas), 201 on add,
// list with items + nextCursor in a constant number of queries, verify-now through the real resolver against the fake
// DNS server, PATCH, DELETE 204, 422 for hostile names, 409 for a taken name, 404 across teams, read tokens refused.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST as addDomainRoute, GET as listDomainsRoute } from "@/app/api/v1/apps/[appId]/domains/route";
import {
  DELETE as deleteDomainRoute,
  GET as getDomainRoute,
  PATCH as patchDomainRoute,
} from "@/app/api/v1/domains/[id]/route";
import { POST as verifyDomainRoute } from "@/app/api/v1/domains/[id]/verify/route";
import {
  addDomainEndpoint,
  getDomainEndpoint,
  listDomainsEndpoint,
  updateDomainEndpoint,
  verifyDomainEndpoint,
} from "@/lib/api/endpoints/domains";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import { resetEnvForTests } from "@/lib/env";
import { call, errorOf } from "@/test/api";
import { createTestTeam, createTestToken, createTestUser, userCtx } from "@/test/factories";
import { type FakeDns, startFakeDns } from "@/test/fake-dns";

const APPS_DOMAIN = "apps.tussilago.test";
let dns: FakeDns;

beforeAll(async () => {
  dns = await startFakeDns();
  process.env.TUSSILAGO_APPS_DOMAIN = APPS_DOMAIN;
  process.env.TUSSILAGO_DNS_RESOLVERS = dns.address;
  resetEnvForTests();
});

afterAll(async () => {
  await dns.close();
  delete process.env.TUSSILAGO_APPS_DOMAIN;
  delete process.env.TUSSILAGO_DNS_RESOLVERS;
  resetEnvForTests();
});

async function freshApp() {
  const user = await createTestUser();
  const team = await createTestTeam(user.id);
  const app = await createApp(getDb(), await userCtx(user.id, team.id), {
    name: `web-${randomBytes(3).toString("hex")}`,
  });
  return {
    team,
    app,
    write: await createTestToken(team.id, ["write"]),
    read: await createTestToken(team.id, ["read"]),
  };
}

function hostname(): string {
  return `h${randomBytes(4).toString("hex")}.example.com`;
}

function add(appId: string, token: string, body: unknown, headers: Record<string, string> = {}) {
  return call(addDomainRoute, `/api/v1/apps/${appId}/domains`, {
    method: "POST",
    token,
    body,
    params: { appId },
    headers,
  });
}

describe("domains API", () => {
  it("adds (201), shows, verifies now through DNS, changes, lists and removes (204)", async () => {
    const { app, write, read } = await freshApp();
    const name = hostname();
    const created = await add(app.id, write, { hostname: name.toUpperCase() });
    expect(created.status).toBe(201);
    const { domain } = addDomainEndpoint.responses[201].schema.parse(await created.json());
    expect(domain).toMatchObject({
      appId: app.id,
      hostname: name,
      status: "pending",
      verification: { type: "TXT", name: `_tussilago.${name}` },
      tls: { status: "pending", issuer: null, expiresAt: null, error: null },
      redirectHttps: true,
      hsts: false,
      proofMissingSince: null,
      checkError: null,
    });
    expect(domain.alternatives.at(-1)?.type).toBe("CNAME");

    const shown = await call(getDomainRoute, `/api/v1/domains/${domain.id}`, {
      token: read,
      params: { id: domain.id },
    });
    expect(getDomainEndpoint.responses[200].schema.parse(await shown.json()).domain.id).toBe(domain.id);

    const verifyPath = `/api/v1/domains/${domain.id}/verify`;
    const notYet = await call(verifyDomainRoute, verifyPath, {
      method: "POST",
      token: write,
      params: { id: domain.id },
    });
    expect(notYet.status).toBe(200);
    const pending = verifyDomainEndpoint.responses[200].schema.parse(await notYet.json()).domain;
    expect(pending.status).toBe("pending");
    expect(pending.checkError).toContain("There is no TXT record");

    dns.set(domain.verification.name, "TXT", [domain.verification.value]);
    const now = await call(verifyDomainRoute, verifyPath, { method: "POST", token: write, params: { id: domain.id } });
    const verified = verifyDomainEndpoint.responses[200].schema.parse(await now.json()).domain;
    expect(verified).toMatchObject({ status: "verified", verifiedBy: "txt", checkError: null });
    expect(verified.verifiedAt).not.toBeNull();

    const patched = await call(patchDomainRoute, `/api/v1/domains/${domain.id}`, {
      method: "PATCH",
      token: write,
      body: { hsts: true },
      params: { id: domain.id },
    });
    expect(updateDomainEndpoint.responses[200].schema.parse(await patched.json()).domain.hsts).toBe(true);

    const listed = await call(listDomainsRoute, `/api/v1/apps/${app.id}/domains`, {
      token: read,
      params: { appId: app.id },
    });
    const page = listDomainsEndpoint.responses[200].schema.parse(await listed.json());
    expect(page.items.map((item) => item.id)).toEqual([domain.id]);
    expect(page.nextCursor).toBeNull();

    const removed = await call(deleteDomainRoute, `/api/v1/domains/${domain.id}`, {
      method: "DELETE",
      token: write,
      params: { id: domain.id },
    });
    expect(removed.status).toBe(204);
    expect(await removed.text()).toBe("");
    const after = await call(getDomainRoute, `/api/v1/domains/${domain.id}`, {
      token: read,
      params: { id: domain.id },
    });
    expect(after.status).toBe(404);
  });

  it("lists in a constant number of queries", async () => {
    const { app, write, read } = await freshApp();
    const list = () =>
      call(listDomainsRoute, `/api/v1/apps/${app.id}/domains`, { token: read, params: { appId: app.id } });
    await add(app.id, write, { hostname: hostname() });
    // The token's first use records its last-used time: measure after it.
    await list();
    const one = await countQueries(list);
    for (let index = 0; index < 4; index += 1) await add(app.id, write, { hostname: hostname() });
    const many = await countQueries(list);
    expect(many.count).toBe(one.count);
    expect(listDomainsEndpoint.responses[200].schema.parse(await many.result.json()).items).toHaveLength(5);
  });

  it.each([
    ["an IP address", "192.0.2.1"],
    ["a wildcard", "*.example.com"],
    ["a name under the apps domain", `x.${APPS_DOMAIN}`],
    ["CR/LF", "a.example.com\r\nX-Evil: 1"],
  ])("refuses %s with 422 in the error shape", async (_label, name) => {
    const { app, write } = await freshApp();
    const response = await add(app.id, write, { hostname: name });
    expect(response.status).toBe(422);
    const error = await errorOf(response);
    expect(error.code).toBe("invalid");
    expect(error.details?.[0]?.path).toBe("hostname");
  });

  it("refuses unknown fields (422), a taken name (409), another team's app (404) and read tokens (403)", async () => {
    const mine = await freshApp();
    const theirs = await freshApp();
    expect((await add(mine.app.id, mine.write, { hostname: hostname(), status: "verified" })).status).toBe(422);
    const name = hostname();
    expect((await add(theirs.app.id, theirs.write, { hostname: name })).status).toBe(201);
    const taken = await add(mine.app.id, mine.write, { hostname: name });
    expect(taken.status).toBe(409);
    expect((await errorOf(taken)).code).toBe("conflict");
    expect((await add(theirs.app.id, mine.write, { hostname: hostname() })).status).toBe(404);
    expect((await add(mine.app.id, mine.read, { hostname: hostname() })).status).toBe(403);
  });

  it("replays an idempotent add with the same key instead of adding twice", async () => {
    const { app, write } = await freshApp();
    const body = { hostname: hostname() };
    const key = { "idempotency-key": randomBytes(8).toString("hex") };
    const first = await add(app.id, write, body, key);
    const second = await add(app.id, write, body, key);
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect((await second.json()).domain.id).toBe((await first.json()).domain.id);
  });
});
