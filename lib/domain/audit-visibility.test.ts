// Who reads which audit field: addresses, user agents and invitees' emails go to admins and owners (and an actor
// sees their own addresses); viewers, members and read tokens get the events without them.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { getDb } from "@/lib/db";
import { authenticateApiToken, createApiToken } from "@/lib/domain/api-tokens";
import { type AuditEventView, listAuditEvents, recordAudit } from "@/lib/domain/audit";
import { type Ctx, type RequestMeta, userContext } from "@/lib/domain/context";
import { createInvitation } from "@/lib/domain/invitations";
import { createTeam } from "@/lib/domain/teams";

let counter = 0;
function meta(): RequestMeta {
  counter += 1;
  return { requestId: randomUUID(), ip: `203.0.113.${counter % 250}`, userAgent: `visibility-test/${counter}` };
}

async function newUser(label: string) {
  return await getDb().user.create({ data: { email: `${label}-${randomUUID().slice(0, 12)}@example.test` } });
}

async function seed() {
  const owner = await newUser("owner");
  const team = await createTeam(getDb(), { userId: owner.id, name: `Vis ${randomUUID().slice(0, 6)}`, meta: meta() });
  const ownerCtx = await userContext(getDb(), owner.id, team.id, meta());
  const inviteeEmail = `invitee-${randomUUID().slice(0, 12)}@example.test`;
  await createInvitation(getDb(), ownerCtx, { email: inviteeEmail, role: "member" });
  const contexts: Record<string, Ctx> = { owner: ownerCtx };
  for (const role of ["admin", "member", "viewer"] as const) {
    const user = await newUser(role);
    await getDb().membership.create({ data: { teamId: team.id, userId: user.id, role } });
    contexts[role] = await userContext(getDb(), user.id, team.id, meta());
    // An event of their own, to check that each actor sees their own address.
    await recordAudit(getDb(), contexts[role], { action: `test.${role}_acted`, target: { type: "team", id: team.id } });
  }
  const read = await createApiToken(getDb(), ownerCtx, { name: "reader", scopes: ["read"] });
  contexts.read = await authenticateApiToken(getDb(), read.token, meta());
  return { team, inviteeEmail, contexts };
}

async function eventsFor(ctx: Ctx): Promise<AuditEventView[]> {
  return (await listAuditEvents(getDb(), ctx, {}, { limit: 100 })).items;
}

describe("audit field visibility", () => {
  it("admins and owners see addresses, user agents and invitees' emails", async () => {
    const { inviteeEmail, contexts } = await seed();
    for (const who of ["owner", "admin"]) {
      const events = await eventsFor(contexts[who] as Ctx);
      const invited = events.find((event) => event.action === "invitation.created");
      expect(invited?.metadata).toMatchObject({ email: inviteeEmail });
      expect(invited?.ip).toMatch(/^203\.0\.113\./);
      expect(invited?.userAgent).toMatch(/^visibility-test\//);
      expect(events.every((event) => event.ip !== null)).toBe(true);
    }
  });

  it("viewers, members and read tokens see no other actor's address or user agent and no invitee's email", async () => {
    const { inviteeEmail, contexts } = await seed();
    for (const who of ["viewer", "member", "read"]) {
      const events = await eventsFor(contexts[who] as Ctx);
      expect(events.length).toBeGreaterThan(3);
      expect(JSON.stringify(events)).not.toContain(inviteeEmail);
      const invited = events.find((event) => event.action === "invitation.created");
      expect(invited?.metadata).toMatchObject({ role: "member" });
      const others = events.filter((event) => event.action !== `test.${who}_acted`);
      expect(others.every((event) => event.ip === null && event.userAgent === null)).toBe(true);
    }
  });

  it("a viewer and a member see the address and user agent of their own events", async () => {
    const { contexts } = await seed();
    for (const who of ["viewer", "member"]) {
      const own = (await eventsFor(contexts[who] as Ctx)).find((event) => event.action === `test.${who}_acted`);
      expect(own?.ip).toBe((contexts[who] as Ctx).meta.ip);
      expect(own?.userAgent).toBe((contexts[who] as Ctx).meta.userAgent);
    }
  });
});
