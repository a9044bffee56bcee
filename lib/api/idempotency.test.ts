// Idempotency-Key on POSTs: a retried request with the same key and body gets the first answer and does no work.
import { describe, expect, it } from "vitest";
import { POST as createAppRoute } from "@/app/api/v1/apps/route";
import { POST as createInvitationRoute } from "@/app/api/v1/invitations/route";
import { getDb } from "@/lib/db";
import { call, type Route } from "@/test/api";
import { createTestTeam, createTestToken, createTestUser } from "@/test/factories";

function post(route: Route, path: string, token: string, body: unknown, key?: string): Promise<Response> {
  return call(route, path, { method: "POST", token, body, headers: key ? { "idempotency-key": key } : {} });
}

async function seed() {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  return { team, token: await createTestToken(team.id, ["write"]) };
}

describe("Idempotency-Key", () => {
  it("answers a retried POST with the first answer and creates one resource", async () => {
    const { team, token } = await seed();
    const key = crypto.randomUUID();
    const first = await post(createAppRoute, "/api/v1/apps", token, { name: "retried" }, key);
    const second = await post(createAppRoute, "/api/v1/apps", token, { name: "retried" }, key);
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(await second.json()).toEqual(await first.json());
    expect(await getDb().app.count({ where: { teamId: team.id } })).toBe(1);
  });

  it("refuses the same key with a different body", async () => {
    const { token } = await seed();
    const key = crypto.randomUUID();
    expect((await post(createAppRoute, "/api/v1/apps", token, { name: "one" }, key)).status).toBe(201);
    const other = await post(createAppRoute, "/api/v1/apps", token, { name: "two" }, key);
    expect(other.status).toBe(422);
    expect((await other.json()).error.message).toContain("different request");
  });

  it("replays a refusal too, and without a key each request does its own work", async () => {
    const { team, token } = await seed();
    const key = crypto.randomUUID();
    const body = { email: `someone-${crypto.randomUUID()}@example.test`, role: "member" };
    expect((await post(createInvitationRoute, "/api/v1/invitations", token, body, key)).status).toBe(201);
    const replay = await post(createInvitationRoute, "/api/v1/invitations", token, body, key);
    expect(replay.status).toBe(201);
    const again = await post(createInvitationRoute, "/api/v1/invitations", token, body);
    expect(again.status).toBe(409);
    expect(await getDb().invitation.count({ where: { teamId: team.id } })).toBe(1);
  });

  it("stores no secret: a replayed invitation answers the same status without its link", async () => {
    const { team, token } = await seed();
    const key = crypto.randomUUID();
    const body = { email: `secret-${crypto.randomUUID()}@example.test`, role: "member" };
    const first = await post(createInvitationRoute, "/api/v1/invitations", token, body, key);
    expect(first.status).toBe(201);
    const { link } = (await first.json()) as { link: string };
    expect(link).toMatch(/^https?:\/\//);
    const rows = await getDb().idempotencyKey.findMany({ where: { teamId: team.id } });
    expect(rows).toHaveLength(1);
    const secretToken = new URL(link).pathname.split("/").at(-1) ?? link;
    expect(JSON.stringify(rows)).not.toContain(secretToken);
    const replay = await post(createInvitationRoute, "/api/v1/invitations", token, body, key);
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    const replayed = (await replay.json()) as { link: string | null; invitation: { email: string } };
    expect(replayed.link).toBeNull();
    expect(replayed.invitation.email).toBe(body.email);
  });

  it("keeps keys per team: another team's identical key is independent", async () => {
    const a = await seed();
    const b = await seed();
    const key = crypto.randomUUID();
    expect((await post(createAppRoute, "/api/v1/apps", a.token, { name: "same" }, key)).status).toBe(201);
    const other = await post(createAppRoute, "/api/v1/apps", b.token, { name: "same" }, key);
    expect(other.status).toBe(201);
    expect(other.headers.get("idempotent-replayed")).toBeNull();
    expect(await getDb().app.count({ where: { teamId: b.team.id } })).toBe(1);
  });
});
