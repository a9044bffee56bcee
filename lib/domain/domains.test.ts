// Custom domains in the domain layer: hostile hostnames refused with 422 and no row, normalisation (case, trailing
// dot, IDN → punycode), one holder per hostname across teams (case-insensitive, 409), the quota, roles and token
// scopes, an app being deleted (409), audit rows, and how check outcomes move a domain: verified on proof (with a
// routing sync), flagged but kept when a verified domain's proof disappears, untouched by DNS failures.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import type { Ctx } from "@/lib/domain/context";
import {
  addDomain,
  getDomain,
  listDomains,
  recordDomainCheck,
  removeDomain,
  updateDomain,
  VERIFY_PER_TEAM,
  verifyDomain,
} from "@/lib/domain/domains";
import { resetEnvForTests } from "@/lib/env";
import type { ProofChecker, ProofOutcome } from "@/lib/infra/dns/types";
import { expectAppError } from "@/test/errors";
import { addMember, createTestTeam, createTestUser, testMeta, userCtx } from "@/test/factories";
import { pendingJobs } from "@/test/helpers";

const APPS_DOMAIN = "apps.tussilago.test";

beforeAll(() => {
  process.env.TUSSILAGO_APPS_DOMAIN = APPS_DOMAIN;
  process.env.TUSSILAGO_PUBLIC_URL = "https://portal.tussilago.test";
  process.env.TUSSILAGO_PUBLIC_IPS = "203.0.113.10, 2001:db8::10";
  resetEnvForTests();
});

afterAll(() => {
  delete process.env.TUSSILAGO_APPS_DOMAIN;
  delete process.env.TUSSILAGO_PUBLIC_URL;
  delete process.env.TUSSILAGO_PUBLIC_IPS;
  resetEnvForTests();
});

function unique(): string {
  return randomBytes(4).toString("hex");
}

async function teamWithApp() {
  const user = await createTestUser();
  const team = await createTestTeam(user.id);
  const ctx = await userCtx(user.id, team.id);
  const app = await createApp(getDb(), ctx, { name: `web-${unique()}` });
  return { user, team, ctx, app };
}

const proven: ProofChecker = async () => ({ kind: "proven", by: "txt" });
const checker =
  (outcome: ProofOutcome): ProofChecker =>
  async () =>
    outcome;

describe("hostnames", () => {
  let ctx: Ctx;
  let appId: string;

  beforeAll(async () => {
    const fresh = await teamWithApp();
    ctx = fresh.ctx;
    appId = fresh.app.id;
  });

  it.each([
    ["an IPv4 address", "203.0.113.5"],
    ["a short IPv4 form", "127.1"],
    ["a hex IPv4 form", "0x7f.1"],
    ["an IPv6 address", "::1"],
    ["a bracketed IPv6 address", "[2001:db8::1]"],
    ["a wildcard", "*.example.com"],
    ["the portal's own host", "portal.tussilago.test"],
    ["the apps domain", APPS_DOMAIN],
    ["a name under the apps domain", `web-team.${APPS_DOMAIN}`],
    ["localhost", "localhost"],
    ["a name under localhost", "shop.localhost"],
    ["a single label", "intranet"],
    ["a label over 63 characters", `${"a".repeat(64)}.example.com`],
    ["a name over 253 characters", `${Array.from({ length: 5 }, () => "a".repeat(60)).join(".")}.com`],
    ["an underscore", "my_shop.example.com"],
    ["a leading hyphen", "-shop.example.com"],
    ["empty labels", "shop..example.com"],
    ["a NUL", "shop.example.com\u0000.evil.test"],
    ["a CR/LF", "shop.example.com\r\n"],
    ["a tab", "shop\t.example.com"],
    ["a Caddy placeholder", "{http.request.host}.example.com"],
    ["a URL", "https://shop.example.com/"],
    ["a port", "shop.example.com:443"],
    ["a percent-encoding", "ex%41mple.com"],
    ["a numeric top-level label", "example.123"],
    ["an empty name", "   "],
  ])("refuses %s with 422 and writes nothing", async (_label, hostname) => {
    const error = await expectAppError(addDomain(getDb(), ctx, appId, { hostname }), "invalid");
    expect(error.status).toBe(422);
    expect(error.message).not.toMatch(/prisma|sql/i);
    expect(await getDb().domain.count({ where: { appId } })).toBe(0);
  });

  it("stores one spelling: trimmed, lower-case, no trailing dot, IDNs as punycode", async () => {
    const id = unique();
    const plain = await addDomain(getDb(), ctx, appId, { hostname: `  Shop-${id}.Example.COM.  ` });
    expect(plain.hostname).toBe(`shop-${id}.example.com`);
    // Each test file has its own database: a fixed name is this test's alone.
    const idn = await addDomain(getDb(), ctx, appId, { hostname: "Bücher.Example" });
    expect(idn.hostname).toBe("xn--bcher-kva.example");
    const fullwidth = await addDomain(getDb(), ctx, appId, { hostname: "ｆｕｌｌ.example" });
    expect(fullwidth.hostname).toBe("full.example");
  });

  it("answers the TXT record to create (≥ 128 random bits) and the A/AAAA/CNAME alternatives", async () => {
    const hostname = `www-${unique()}.example.org`;
    const domain = await addDomain(getDb(), ctx, appId, { hostname });
    const other = await addDomain(getDb(), ctx, appId, { hostname: `api-${unique()}.example.org` });
    expect(domain.status).toBe("pending");
    expect(domain.verification).toEqual({
      type: "TXT",
      name: `_tussilago.${hostname}`,
      value: expect.stringMatching(/^tussilago-verify-[0-9a-f]{40}$/),
    });
    expect(other.verification.value).not.toBe(domain.verification.value);
    const app = await getDb().app.findUniqueOrThrow({ where: { id: appId }, include: { team: true } });
    expect(domain.alternatives).toEqual([
      { type: "A", name: hostname, value: "203.0.113.10" },
      { type: "AAAA", name: hostname, value: "2001:db8::10" },
      { type: "CNAME", name: hostname, value: `${app.name}-${app.team.slug}.${APPS_DOMAIN}` },
    ]);
    expect(domain.tls).toEqual({ status: "pending", issuer: null, expiresAt: null, error: null });
    expect(domain).toMatchObject({ redirectHttps: true, hsts: false, proofMissingSince: null, checkError: null });
  });
});

describe("one holder per hostname", () => {
  it("refuses a name another team holds, whatever its case or trailing dot (409), and a repeat on the same app", async () => {
    const first = await teamWithApp();
    const second = await teamWithApp();
    const hostname = `shop-${unique()}.example.net`;
    await addDomain(getDb(), first.ctx, first.app.id, { hostname });
    const taken = await expectAppError(
      addDomain(getDb(), second.ctx, second.app.id, { hostname: `${hostname.toUpperCase()}.` }),
      "conflict",
    );
    expect(taken.status).toBe(409);
    // Which team holds it is not said.
    expect(taken.message).not.toContain(first.team.name);
    await expectAppError(addDomain(getDb(), first.ctx, first.app.id, { hostname }), "conflict");
  });

  it("lets another team take a name once it was removed", async () => {
    const first = await teamWithApp();
    const second = await teamWithApp();
    const hostname = `moved-${unique()}.example.net`;
    const domain = await addDomain(getDb(), first.ctx, first.app.id, { hostname });
    await removeDomain(getDb(), first.ctx, domain.id);
    expect((await addDomain(getDb(), second.ctx, second.app.id, { hostname })).hostname).toBe(hostname);
  });
});

describe("quota, roles, deletion", () => {
  it("refuses the domain past the team's quota (409 quota_exceeded, details name it)", async () => {
    const { team, ctx, app } = await teamWithApp();
    await getDb().teamQuota.create({ data: { teamId: team.id, domains: 2 } });
    await addDomain(getDb(), ctx, app.id, { hostname: `a-${unique()}.example.com` });
    await addDomain(getDb(), ctx, app.id, { hostname: `b-${unique()}.example.com` });
    const error = await expectAppError(
      addDomain(getDb(), ctx, app.id, { hostname: `c-${unique()}.example.com` }),
      "quota_exceeded",
    );
    expect(error.details).toEqual({ quota: "domains", limit: 2 });
    expect(error.message).toContain("2 custom domains");
  });

  it("follows the env vars rule: viewers read, members change; a read-only token cannot change", async () => {
    const { team, ctx, app } = await teamWithApp();
    const domain = await addDomain(getDb(), ctx, app.id, { hostname: `roles-${unique()}.example.com` });
    const viewer = await createTestUser();
    await addMember(team.id, viewer.id, "viewer");
    const viewerCtx = await userCtx(viewer.id, team.id);
    expect((await getDomain(getDb(), viewerCtx, domain.id)).id).toBe(domain.id);
    expect((await listDomains(getDb(), viewerCtx, app.id, { limit: 10 })).items).toHaveLength(1);
    await expectAppError(addDomain(getDb(), viewerCtx, app.id, { hostname: `v-${unique()}.example.com` }), "forbidden");
    await expectAppError(removeDomain(getDb(), viewerCtx, domain.id), "forbidden");
    await expectAppError(verifyDomain(getDb(), viewerCtx, domain.id, proven), "forbidden");
    await expectAppError(updateDomain(getDb(), viewerCtx, domain.id, { hsts: true }), "forbidden");
    const member = await createTestUser();
    await addMember(team.id, member.id, "member");
    const memberCtx = await userCtx(member.id, team.id);
    expect((await updateDomain(getDb(), memberCtx, domain.id, { hsts: true })).hsts).toBe(true);
    const readToken: Ctx = {
      actor: {
        type: "token",
        tokenId: ctx.actor.type === "user" ? ctx.actor.userId : "",
        label: "t",
        scopes: ["read"],
      },
      teamId: team.id,
      role: "owner",
      meta: testMeta(),
    };
    await expectAppError(addDomain(getDb(), readToken, app.id, { hostname: `t-${unique()}.example.com` }), "forbidden");
  });

  it("answers 404 for another team's app and domain", async () => {
    const mine = await teamWithApp();
    const theirs = await teamWithApp();
    const domain = await addDomain(getDb(), theirs.ctx, theirs.app.id, { hostname: `x-${unique()}.example.com` });
    await expectAppError(
      addDomain(getDb(), mine.ctx, theirs.app.id, { hostname: `y-${unique()}.example.com` }),
      "not_found",
    );
    await expectAppError(getDomain(getDb(), mine.ctx, domain.id), "not_found");
    await expectAppError(removeDomain(getDb(), mine.ctx, domain.id), "not_found");
  });

  it("refuses to add, verify or change a domain of an app being deleted (409)", async () => {
    const { ctx, app } = await teamWithApp();
    const domain = await addDomain(getDb(), ctx, app.id, { hostname: `del-${unique()}.example.com` });
    await getDb().app.update({ where: { id: app.id }, data: { status: "deleting" } });
    await expectAppError(addDomain(getDb(), ctx, app.id, { hostname: `del2-${unique()}.example.com` }), "conflict");
    await expectAppError(verifyDomain(getDb(), ctx, domain.id, proven), "conflict");
    await expectAppError(updateDomain(getDb(), ctx, domain.id, { hsts: true }), "conflict");
  });
});

describe("checks and audit", () => {
  it("verifies on proof: verifiedAt/verifiedBy, a routing sync, and domain.add/verify/remove audit rows", async () => {
    const { ctx, app } = await teamWithApp();
    const domain = await addDomain(getDb(), ctx, app.id, { hostname: `ok-${unique()}.example.com` });
    const verified = await verifyDomain(getDb(), ctx, domain.id, checker({ kind: "proven", by: "cname" }));
    expect(verified).toMatchObject({ status: "verified", verifiedBy: "cname", checkError: null });
    expect(verified.verifiedAt).toBeInstanceOf(Date);
    expect(await pendingJobs("caddy__sync")).toHaveLength(1);
    // TLS is on (the apps domain is not localhost): the first certificate check is queued with the verification.
    expect(await pendingJobs("domain__check_tls")).toContainEqual({
      task_identifier: "domain__check_tls",
      payload: { domainId: domain.id },
    });
    await removeDomain(getDb(), ctx, domain.id);
    const actions = await getDb().auditEvent.findMany({
      where: { targetId: domain.id },
      orderBy: { createdAt: "asc" },
      select: { action: true, actorType: true, metadata: true },
    });
    expect(actions.map((row) => row.action)).toEqual(["domain.add", "domain.verify", "domain.remove"]);
    expect(actions[1]).toMatchObject({ actorType: "user", metadata: { hostname: domain.hostname, by: "cname" } });
    expect(await getDb().domain.findUnique({ where: { id: domain.id } })).toBeNull();
  });

  it("queues no certificate check on verification when TLS is off", async () => {
    process.env.TUSSILAGO_TLS = "off";
    resetEnvForTests();
    try {
      const { ctx, app } = await teamWithApp();
      const domain = await addDomain(getDb(), ctx, app.id, { hostname: `plain-${unique()}.example.com` });
      expect(await verifyDomain(getDb(), ctx, domain.id, proven)).toMatchObject({ status: "verified" });
      const queued = await pendingJobs("domain__check_tls");
      expect(queued.map((job) => job.payload)).not.toContainEqual({ domainId: domain.id });
    } finally {
      delete process.env.TUSSILAGO_TLS;
      resetEnvForTests();
    }
  });

  it("keeps a pending domain pending with the reason when the records are missing or DNS fails", async () => {
    const { ctx, app } = await teamWithApp();
    const domain = await addDomain(getDb(), ctx, app.id, { hostname: `wait-${unique()}.example.com` });
    const missing = await verifyDomain(getDb(), ctx, domain.id, checker({ kind: "missing", message: "No TXT." }));
    expect(missing).toMatchObject({ status: "pending", checkError: "No TXT.", proofMissingSince: null });
    expect(missing.lastCheckedAt).toBeInstanceOf(Date);
    const failed = await verifyDomain(
      getDb(),
      ctx,
      domain.id,
      checker({ kind: "dns_error", message: "DNS failed.", codes: ["ESERVFAIL"] }),
    );
    expect(failed).toMatchObject({ status: "pending", checkError: "DNS failed." });
  });

  it("flags a verified domain whose proof is gone, keeps it verified, and clears the flag when the proof is back", async () => {
    const { ctx, app } = await teamWithApp();
    const added = await addDomain(getDb(), ctx, app.id, { hostname: `flag-${unique()}.example.com` });
    await verifyDomain(getDb(), ctx, added.id, proven);
    const row = () => getDb().domain.findUniqueOrThrow({ where: { id: added.id } });
    const first = new Date("2026-12-01T10:00:00Z");
    await getDb().$transaction((tx) =>
      recordDomainCheck(
        tx,
        { ...added, status: "verified", teamId: ctx.teamId },
        { kind: "missing", message: "Gone." },
        { system: true },
        first,
      ),
    );
    expect(await row()).toMatchObject({ status: "verified", proofMissingSince: first, checkError: "Gone." });
    // A later miss keeps the time of the first; a DNS failure changes neither the status nor the flag.
    await getDb().$transaction((tx) =>
      recordDomainCheck(
        tx,
        { ...added, status: "verified", teamId: ctx.teamId },
        { kind: "missing", message: "Still gone." },
        { system: true },
        new Date("2026-12-01T11:00:00Z"),
      ),
    );
    await getDb().$transaction((tx) =>
      recordDomainCheck(
        tx,
        { ...added, status: "verified", teamId: ctx.teamId },
        { kind: "dns_error", message: "DNS failed.", codes: ["ETIMEOUT"] },
        { system: true },
      ),
    );
    expect(await row()).toMatchObject({ status: "verified", proofMissingSince: first, checkError: "DNS failed." });
    const back = await verifyDomain(getDb(), ctx, added.id, proven);
    expect(back).toMatchObject({ status: "verified", proofMissingSince: null, checkError: null });
    // Re-proving an already verified domain is not a new verification.
    const verifications = await getDb().auditEvent.count({ where: { targetId: added.id, action: "domain.verify" } });
    expect(verifications).toBe(1);
  });
});

describe("checks on request", () => {
  it("are rate-limited per team (429 rate_limited with Retry-After), before any DNS query", async () => {
    const { ctx, app } = await teamWithApp();
    const domain = await addDomain(getDb(), ctx, app.id, { hostname: `rl-${unique()}.example.com` });
    let lookups = 0;
    const counting: ProofChecker = async () => {
      lookups += 1;
      return { kind: "missing", message: "No TXT." };
    };
    for (let index = 0; index < VERIFY_PER_TEAM.limit; index += 1)
      await verifyDomain(getDb(), ctx, domain.id, counting);
    const error = await expectAppError(verifyDomain(getDb(), ctx, domain.id, counting), "rate_limited");
    expect(error.status).toBe(429);
    expect(error.retryAfter).toBeGreaterThan(0);
    expect(lookups).toBe(VERIFY_PER_TEAM.limit);
    // Another team is not affected.
    const other = await teamWithApp();
    const theirs = await addDomain(getDb(), other.ctx, other.app.id, { hostname: `rl-${unique()}.example.com` });
    expect((await verifyDomain(getDb(), other.ctx, theirs.id, counting)).status).toBe("pending");
  });
});

describe("list", () => {
  it("pages newest first in a constant number of queries", async () => {
    const { ctx, app } = await teamWithApp();
    await addDomain(getDb(), ctx, app.id, { hostname: `l0-${unique()}.example.com` });
    const one = await countQueries(() => listDomains(getDb(), ctx, app.id, { limit: 50 }));
    for (let index = 1; index < 6; index += 1) {
      await addDomain(getDb(), ctx, app.id, { hostname: `l${index}-${unique()}.example.com` });
    }
    const many = await countQueries(() => listDomains(getDb(), ctx, app.id, { limit: 50 }));
    expect(many.result.items).toHaveLength(6);
    expect(many.count).toBe(one.count);
    const firstPage = await listDomains(getDb(), ctx, app.id, { limit: 4 });
    expect(firstPage.items).toHaveLength(4);
    const secondPage = await listDomains(getDb(), ctx, app.id, { limit: 4, cursor: firstPage.nextCursor ?? "" });
    expect(secondPage.items).toHaveLength(2);
    expect(secondPage.nextCursor).toBeNull();
    const ids = [...firstPage.items, ...secondPage.items].map((item) => item.id);
    expect(new Set(ids).size).toBe(6);
  });
});
