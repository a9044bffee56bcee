// Ownership checks through the real node:dns Resolver against a fake UDP DNS server (test/fake-dns.ts): proof by TXT,
// by A/AAAA to TUSSILAGO_PUBLIC_IPS, by a CNAME chain to the apps domain; a verified domain whose proof disappears is
// flagged and stays verified, and the flag clears when the proof is back; SERVFAIL and timeouts are DNS errors (the
// job retries, nothing is flagged, no resolver address in the message) while NXDOMAIN is "missing"; the schedule
// picks due domains in one query and queues ID-only jobs.
import { randomBytes } from "node:crypto";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import type { Ctx } from "@/lib/domain/context";
import { addDomain } from "@/lib/domain/domains";
import { checkDomain, dueDomainIds, scheduleDomainChecks } from "@/lib/engine/domain-verify";
import { getEnv, resetEnvForTests } from "@/lib/env";
import { AppError } from "@/lib/errors";
import { checkOwnership, createDnsLookups, createProofChecker } from "@/lib/infra/dns";
import { domainProofChecker } from "@/lib/services/domain-dns";
import { rejectionOf } from "@/test/errors";
import { createTestTeam, createTestUser, userCtx } from "@/test/factories";
import { type FakeDns, startFakeDns } from "@/test/fake-dns";
import { pendingJobs } from "@/test/helpers";

const APPS_DOMAIN = "apps.tussilago.test";
const log = pino({ level: "silent" });
let dns: FakeDns;
let ctx: Ctx;
let appId: string;
let appHost: string;

beforeAll(async () => {
  dns = await startFakeDns();
  process.env.TUSSILAGO_APPS_DOMAIN = APPS_DOMAIN;
  process.env.TUSSILAGO_PUBLIC_IPS = "203.0.113.10,2001:db8::10";
  process.env.TUSSILAGO_DNS_RESOLVERS = dns.address;
  resetEnvForTests();
  const user = await createTestUser();
  const team = await createTestTeam(user.id);
  ctx = await userCtx(user.id, team.id);
  const app = await createApp(getDb(), ctx, { name: "shop" });
  appId = app.id;
  appHost = `shop-${team.slug}.${APPS_DOMAIN}`;
});

afterAll(async () => {
  await dns.close();
  delete process.env.TUSSILAGO_APPS_DOMAIN;
  delete process.env.TUSSILAGO_PUBLIC_IPS;
  delete process.env.TUSSILAGO_DNS_RESOLVERS;
  resetEnvForTests();
});

function name(): string {
  return `n${randomBytes(4).toString("hex")}.example.com`;
}

async function newDomain(hostname = name()) {
  const domain = await addDomain(getDb(), ctx, appId, { hostname });
  return { ...domain, row: () => getDb().domain.findUniqueOrThrow({ where: { id: domain.id } }) };
}

const check = () => domainProofChecker("worker");

describe("proofs", () => {
  it("verifies by the TXT record holding the exact token (among other TXT values), and queues a routing sync", async () => {
    const domain = await newDomain();
    dns.set(domain.verification.name, "TXT", ["v=spf1 -all", domain.verification.value]);
    const outcome = await checkDomain(getDb(), domain.id, { check: check(), log });
    expect(outcome).toEqual({ kind: "proven", by: "txt" });
    expect(await domain.row()).toMatchObject({ status: "verified", verifiedBy: "txt", checkError: null });
    expect((await domain.row()).verifiedAt).toBeInstanceOf(Date);
    expect((await pendingJobs("caddy__sync")).length).toBeGreaterThan(0);
  });

  it("does not verify a TXT record with another value, and says so", async () => {
    const domain = await newDomain();
    dns.set(domain.verification.name, "TXT", [`${domain.verification.value}x`]);
    dns.set(domain.hostname, "A", ["198.51.100.1"]);
    const outcome = await checkDomain(getDb(), domain.id, { check: check(), log });
    expect(outcome?.kind).toBe("missing");
    const row = await domain.row();
    expect(row.status).toBe("pending");
    expect(row.checkError).toContain(`The TXT record _tussilago.${domain.hostname} exists but does not hold`);
  });

  it("verifies by an A or AAAA record to this installation's addresses (compared as addresses)", async () => {
    const v4 = await newDomain();
    dns.set(v4.hostname, "A", ["198.51.100.1", "203.0.113.10"]);
    expect(await checkDomain(getDb(), v4.id, { check: check(), log })).toEqual({ kind: "proven", by: "a" });
    const v6 = await newDomain();
    dns.set(v6.hostname, "AAAA", ["2001:0db8:0000::0010"]);
    expect(await checkDomain(getDb(), v6.id, { check: check(), log })).toEqual({ kind: "proven", by: "a" });
  });

  it("verifies by a CNAME chain ending at the app's host under the apps domain", async () => {
    const domain = await newDomain();
    const middle = `cdn-${name()}`;
    dns.set(domain.hostname, "CNAME", [middle]);
    dns.set(middle, "CNAME", [appHost]);
    dns.set(appHost, "A", ["198.51.100.7"]);
    expect(await checkDomain(getDb(), domain.id, { check: check(), log })).toEqual({ kind: "proven", by: "cname" });
    expect(await domain.row()).toMatchObject({ status: "verified", verifiedBy: "cname" });
  });

  it("does not verify a CNAME elsewhere, nor a CNAME loop", async () => {
    const elsewhere = await newDomain();
    dns.set(elsewhere.hostname, "CNAME", ["shop.other-paas.test"]);
    dns.set("shop.other-paas.test", "A", ["198.51.100.9"]);
    expect((await checkDomain(getDb(), elsewhere.id, { check: check(), log }))?.kind).toBe("missing");
    const loop = await newDomain();
    const other = name();
    dns.set(loop.hostname, "CNAME", [other]);
    dns.set(other, "CNAME", [loop.hostname]);
    expect((await checkDomain(getDb(), loop.id, { check: check(), log }))?.kind).toBe("missing");
  });

  it("reads NXDOMAIN as missing (a user-readable reason), not as a DNS error", async () => {
    const domain = await newDomain();
    const outcome = await checkDomain(getDb(), domain.id, { check: check(), log });
    expect(outcome?.kind).toBe("missing");
    const row = await domain.row();
    expect(row.checkError).toContain(`There is no TXT record _tussilago.${domain.hostname}`);
    expect(row.checkError).toContain(APPS_DOMAIN);
  });
});

describe("a verified domain over time", () => {
  it("is flagged, not dropped, when its proof disappears, and the flag clears when it is back", async () => {
    const domain = await newDomain();
    dns.set(domain.verification.name, "TXT", [domain.verification.value]);
    await checkDomain(getDb(), domain.id, { check: check(), log });
    dns.remove(domain.verification.name);
    const gone = new Date("2026-12-02T08:00:00Z");
    await checkDomain(getDb(), domain.id, { check: check(), log, now: () => gone });
    expect(await domain.row()).toMatchObject({ status: "verified", proofMissingSince: gone });
    expect((await domain.row()).checkError).toContain("There is no TXT record");
    dns.set(domain.hostname, "CNAME", [appHost]);
    await checkDomain(getDb(), domain.id, { check: check(), log });
    expect(await domain.row()).toMatchObject({
      status: "verified",
      verifiedBy: "cname",
      proofMissingSince: null,
      checkError: null,
    });
  });

  it("on SERVFAIL: a retryable error for the job, the reason recorded, no flag, no resolver address", async () => {
    const domain = await newDomain();
    dns.set(domain.verification.name, "TXT", [domain.verification.value]);
    await checkDomain(getDb(), domain.id, { check: check(), log });
    dns.fail(domain.verification.name, "servfail");
    dns.fail(domain.hostname, "servfail");
    const error = await rejectionOf(checkDomain(getDb(), domain.id, { check: check(), log }));
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: "unavailable", retryable: true });
    const row = await domain.row();
    expect(row).toMatchObject({ status: "verified", proofMissingSince: null });
    expect(row.checkError).toContain("SERVFAIL");
    expect(row.checkError).not.toContain("127.0.0.1");
    expect(row.checkError).not.toContain(dns.address);
  });

  it("on a timeout: a DNS error within the total deadline, nothing flagged", async () => {
    const domain = await newDomain();
    dns.fail(domain.verification.name, "drop");
    dns.fail(domain.hostname, "drop");
    const quick = createProofChecker(
      { servers: [dns.address], timeoutMs: 200, tries: 1, totalTimeoutMs: 1000 },
      { publicIps: getEnv().domains.publicIps, appsDomain: APPS_DOMAIN },
    );
    const outcome = await quick({ hostname: domain.hostname, token: domain.verification.value });
    expect(outcome.kind).toBe("dns_error");
    if (outcome.kind === "dns_error") {
      expect(outcome.codes).toContain("ETIMEOUT");
      expect(outcome.message).toContain("timed out");
      expect(outcome.message).not.toContain("127.0.0.1");
    }
  });

  it("cancels the lookups left when the total deadline passes", async () => {
    const hostname = name();
    dns.fail(`_tussilago.${hostname}`, "drop");
    dns.fail(hostname, "drop");
    const lookups = createDnsLookups({ servers: [dns.address], timeoutMs: 5000, tries: 3 });
    setTimeout(() => lookups.cancel(), 100);
    const outcome = await checkOwnership(lookups, { hostname, token: "t" }, { publicIps: [], appsDomain: APPS_DOMAIN });
    expect(outcome).toMatchObject({ kind: "dns_error", codes: expect.arrayContaining(["ECANCELLED"]) });
  });
});

describe("the schedule", () => {
  it("picks the due domains in one query, skips recent checks and apps being deleted, and queues ID-only jobs", async () => {
    const now = new Date();
    const due = await newDomain();
    const recent = await newDomain();
    await getDb().domain.update({ where: { id: recent.id }, data: { lastCheckedAt: now } });
    const verifiedStale = await newDomain();
    await getDb().domain.update({
      where: { id: verifiedStale.id },
      data: { status: "verified", lastCheckedAt: new Date(now.getTime() - 2 * 60 * 60_000) },
    });
    const verifiedFresh = await newDomain();
    await getDb().domain.update({
      where: { id: verifiedFresh.id },
      data: { status: "verified", lastCheckedAt: new Date(now.getTime() - 20 * 60_000) },
    });
    const doomedApp = await createApp(getDb(), ctx, { name: `gone-${randomBytes(3).toString("hex")}` });
    const doomed = await addDomain(getDb(), ctx, doomedApp.id, { hostname: name() });
    await getDb().app.update({ where: { id: doomedApp.id }, data: { status: "deleting" } });

    const { result: ids, count } = await countQueries(() => dueDomainIds(getDb(), now));
    expect(count).toBe(1);
    expect(ids).toEqual(expect.arrayContaining([due.id, verifiedStale.id]));
    expect(ids).not.toContain(recent.id);
    expect(ids).not.toContain(verifiedFresh.id);
    expect(ids).not.toContain(doomed.id);

    await scheduleDomainChecks(getDb(), log, now);
    await scheduleDomainChecks(getDb(), log, now);
    const jobs = (await pendingJobs("domain__check")).map((job) => job.payload);
    expect(jobs.filter((payload) => JSON.stringify(payload) === JSON.stringify({ domainId: due.id }))).toHaveLength(1);
    for (const payload of jobs) expect(Object.keys(payload as object)).toEqual(["domainId"]);
  });

  it("does nothing for a domain that is gone", async () => {
    expect(await checkDomain(getDb(), "00000000-0000-4000-8000-000000000000", { check: check(), log })).toBeNull();
  });
});
