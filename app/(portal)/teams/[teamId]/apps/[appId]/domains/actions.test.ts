// The Domains tab's server actions and its data load: add (hostile names refused on the hostname field), check now
// through the real resolver against the fake DNS server, the HTTPS settings, remove, the poll; viewers change nothing;
// another team's domain is not found; the tab's data load is a constant number of queries.
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import { addDomain } from "@/lib/domain/domains";
import type { PublicUser } from "@/lib/domain/users";
import { resetEnvForTests } from "@/lib/env";
import type { Role } from "@/lib/generated/prisma/enums";
import { form } from "@/test/actions";
import { addMember, createTestTeam, createTestUser, userCtx } from "@/test/factories";
import { type FakeDns, startFakeDns } from "@/test/fake-dns";

const session = vi.hoisted(() => ({ user: null as PublicUser | null }));

vi.mock("@/lib/auth/session", () => ({
  currentUser: async () => session.user,
  currentRequestMeta: async () => ({ requestId: randomUUID(), ip: "203.0.113.9", userAgent: "vitest" }),
}));
// refresh() needs a live Next request; there is no page to refresh in a test.
vi.mock("next/cache", () => ({ refresh: () => {}, revalidatePath: () => {} }));

const { addDomainAction, pollAppDomains, removeDomainAction, updateDomainAction, verifyDomainAction } = await import(
  "@/app/(portal)/teams/[teamId]/apps/[appId]/domains/actions"
);
const { loadAppDomains } = await import("@/app/(portal)/teams/[teamId]/apps/[appId]/domains/domains-data");

let dns: FakeDns;

beforeAll(async () => {
  dns = await startFakeDns();
  process.env.TUSSILAGO_APPS_DOMAIN = "apps.tussilago.test";
  process.env.TUSSILAGO_DNS_RESOLVERS = dns.address;
  resetEnvForTests();
});

afterAll(async () => {
  await dns.close();
  delete process.env.TUSSILAGO_APPS_DOMAIN;
  delete process.env.TUSSILAGO_DNS_RESOLVERS;
  resetEnvForTests();
});

beforeEach(() => {
  session.user = null;
});

function hostname(): string {
  return `h${randomBytes(4).toString("hex")}.example.com`;
}

async function appWith(role: Role) {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  const user = await createTestUser();
  await addMember(team.id, user.id, role);
  const ownerCtx = await userCtx(owner.id, team.id);
  const app = await createApp(getDb(), ownerCtx, { name: `web-${randomBytes(3).toString("hex")}` });
  return { team, owner, user, ownerCtx, app, fields: { teamId: team.id, appId: app.id } };
}

const idle = { status: "idle" } as const;

describe("addDomainAction", () => {
  it("adds a member's hostname as pending and the poll lists it with its TXT record", async () => {
    const { user, app, fields } = await appWith("member");
    session.user = user;
    const name = hostname();
    const state = await addDomainAction(idle, form({ ...fields, hostname: ` ${name.toUpperCase()} ` }));
    expect(state).toEqual({
      status: "success",
      message: `${name} added. Create one of the DNS records shown for it, then check it.`,
    });
    const polled = await pollAppDomains(fields.teamId, app.id);
    expect(polled.status).toBe("success");
    expect(polled.data?.more).toBe(false);
    expect(polled.data?.items).toHaveLength(1);
    expect(polled.data?.items[0]).toMatchObject({
      hostname: name,
      status: "pending",
      verification: { type: "TXT", name: `_tussilago.${name}` },
    });
  });

  it("refuses IPs, wildcards, the apps domain and malformed names on the hostname field, writing nothing", async () => {
    const { user, app, fields } = await appWith("member");
    session.user = user;
    const cases: [string, RegExp][] = [
      ["192.0.2.10", /IP addresses cannot be added/],
      ["[2001:db8::1]", /hostname alone|IP addresses/],
      ["*.example.com", /Wildcard/],
      ["shop.apps.tussilago.test", /belong to the platform/],
      ["bad_label.example.com", /letters, digits/],
      ["", /Give a hostname/],
    ];
    for (const [input, message] of cases) {
      const state = await addDomainAction(idle, form({ ...fields, hostname: input }));
      expect(state.status, input).toBe("error");
      expect(state.fieldErrors?.hostname, input).toMatch(message);
    }
    expect(await getDb().domain.count({ where: { appId: app.id } })).toBe(0);
  });

  it("refuses a hostname another team holds on the hostname field", async () => {
    const mine = await appWith("member");
    const theirs = await appWith("member");
    const name = hostname();
    await addDomain(getDb(), theirs.ownerCtx, theirs.app.id, { hostname: name });
    session.user = mine.user;
    const state = await addDomainAction(idle, form({ ...mine.fields, hostname: name }));
    expect(state.status).toBe("error");
    expect(state.message).toBe(`${name} is already in use on this platform; remove it there first.`);
    expect(state.fieldErrors).toEqual({ hostname: "already in use" });
  });

  it("refuses a viewer and writes nothing; the viewer can still poll the list", async () => {
    const { user, app, fields } = await appWith("viewer");
    session.user = user;
    const state = await addDomainAction(idle, form({ ...fields, hostname: hostname() }));
    expect(state).toEqual({ status: "error", message: "Your role in this team does not allow this." });
    expect(await getDb().domain.count({ where: { appId: app.id } })).toBe(0);
    expect((await pollAppDomains(fields.teamId, app.id)).data?.items).toEqual([]);
  });

  it("answers not found for another team's app", async () => {
    const { user, fields } = await appWith("member");
    const other = await appWith("member");
    session.user = user;
    const state = await addDomainAction(idle, form({ ...fields, appId: other.app.id, hostname: hostname() }));
    expect(state).toEqual({ status: "error", message: "App not found." });
    expect(await getDb().domain.count({ where: { appId: other.app.id } })).toBe(0);
  });
});

describe("verifyDomainAction", () => {
  it("says why a domain is not proven, then verifies it once its TXT record exists", async () => {
    const { user, ownerCtx, app, fields } = await appWith("member");
    const domain = await addDomain(getDb(), ownerCtx, app.id, { hostname: hostname() });
    session.user = user;
    const before = await verifyDomainAction(idle, form({ ...fields, domainId: domain.id }));
    expect(before.status).toBe("error");
    expect(before.message).toMatch(new RegExp(`^${domain.hostname.replaceAll(".", "\\.")} is not proven yet: .+`));
    expect((await getDb().domain.findUniqueOrThrow({ where: { id: domain.id } })).status).toBe("pending");

    dns.set(domain.verification.name, "TXT", [domain.verification.value]);
    const after = await verifyDomainAction(idle, form({ ...fields, domainId: domain.id }));
    expect(after).toEqual({ status: "success", message: `${domain.hostname} is verified.` });
    expect((await pollAppDomains(fields.teamId, app.id)).data?.items[0]).toMatchObject({
      status: "verified",
      verifiedBy: "txt",
    });
  });

  it("refuses a viewer before any DNS query", async () => {
    const { user, ownerCtx, app, fields } = await appWith("viewer");
    const domain = await addDomain(getDb(), ownerCtx, app.id, { hostname: hostname() });
    session.user = user;
    const asked = dns.queries.length;
    const state = await verifyDomainAction(idle, form({ ...fields, domainId: domain.id }));
    expect(state).toEqual({ status: "error", message: "Your role in this team does not allow this." });
    expect(dns.queries.length).toBe(asked);
  });
});

describe("updateDomainAction and removeDomainAction", () => {
  it("turns HSTS on and the redirect off, then removes the domain", async () => {
    const { user, ownerCtx, app, fields } = await appWith("member");
    const domain = await addDomain(getDb(), ownerCtx, app.id, { hostname: hostname() });
    session.user = user;
    const ids = { ...fields, domainId: domain.id };
    const hsts = await updateDomainAction(idle, form({ ...ids, setting: "hsts", enabled: "on" }));
    expect(hsts).toEqual({ status: "success", message: `HSTS on for ${domain.hostname}.` });
    await updateDomainAction(idle, form({ ...ids, setting: "redirectHttps", enabled: "off" }));
    expect(await getDb().domain.findUniqueOrThrow({ where: { id: domain.id } })).toMatchObject({
      hsts: true,
      redirectHttps: false,
    });
    const bogus = await updateDomainAction(idle, form({ ...ids, setting: "status", enabled: "on" }));
    expect(bogus.fieldErrors).toHaveProperty("setting");

    expect(await removeDomainAction(idle, form(ids))).toEqual({ status: "success", message: "Domain removed." });
    expect(await getDb().domain.count({ where: { id: domain.id } })).toBe(0);
  });

  it("answers not found for another team's domain and refuses a viewer, changing nothing", async () => {
    const mine = await appWith("viewer");
    const theirs = await appWith("member");
    const foreign = await addDomain(getDb(), theirs.ownerCtx, theirs.app.id, { hostname: hostname() });
    const own = await addDomain(getDb(), mine.ownerCtx, mine.app.id, { hostname: hostname() });
    const member = await createTestUser();
    await addMember(mine.team.id, member.id, "member");
    session.user = member;
    const foreignIds = { ...mine.fields, domainId: foreign.id };
    expect(await removeDomainAction(idle, form(foreignIds))).toEqual({ status: "error", message: "Domain not found." });
    const toggled = await updateDomainAction(idle, form({ ...foreignIds, setting: "hsts", enabled: "on" }));
    expect(toggled).toEqual({ status: "error", message: "Domain not found." });
    expect(await verifyDomainAction(idle, form(foreignIds))).toEqual({ status: "error", message: "Domain not found." });

    session.user = mine.user;
    const refused = await removeDomainAction(idle, form({ ...mine.fields, domainId: own.id }));
    expect(refused).toEqual({ status: "error", message: "Your role in this team does not allow this." });
    expect(await getDb().domain.count({ where: { id: { in: [foreign.id, own.id] } } })).toBe(2);
    expect(await getDb().domain.findUniqueOrThrow({ where: { id: foreign.id } })).toMatchObject({ hsts: false });
  });
});

describe("loadAppDomains", () => {
  it("loads the tab in a constant number of queries, newest first", async () => {
    const small = await appWith("member");
    const large = await appWith("member");
    await addDomain(getDb(), small.ownerCtx, small.app.id, { hostname: hostname() });
    const names: string[] = [];
    for (let i = 0; i < 6; i++) {
      const name = hostname();
      names.push(name);
      await addDomain(getDb(), large.ownerCtx, large.app.id, { hostname: name });
    }
    const few = await countQueries(() => loadAppDomains(getDb(), small.ownerCtx, small.app.id));
    const many = await countQueries(() => loadAppDomains(getDb(), large.ownerCtx, large.app.id));
    expect(few.result.items).toHaveLength(1);
    expect(many.result.items.map((domain) => domain.hostname)).toEqual(names.reverse());
    expect(many.count).toBe(few.count);
  });
});
