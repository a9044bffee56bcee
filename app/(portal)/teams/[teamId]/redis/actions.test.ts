// The Redis pages' server actions, called directly: an admin creates, attaches, reveals, rotates and deletes (typed
// confirmation); a viewer is refused with nothing changed; another team's instance is not found. The jobs run
// against a real redis-server in jobs/tasks/tenant_redis.test.ts.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { getDb } from "@/lib/db";
import { createRedis } from "@/lib/domain/redis";
import type { PublicUser } from "@/lib/domain/users";
import { resetEnvForTests } from "@/lib/env";
import type { Role } from "@/lib/generated/prisma/enums";
import { form, redirectTarget } from "@/test/actions";
import { addMember, createTestTeam, createTestUser, userCtx } from "@/test/factories";

const session = vi.hoisted(() => ({ user: null as PublicUser | null }));

vi.mock("@/lib/auth/session", () => ({
  currentUser: async () => session.user,
  currentRequestMeta: async () => ({ requestId: randomUUID(), ip: "203.0.113.9", userAgent: "vitest" }),
}));
vi.mock("next/cache", () => ({ refresh: () => {}, revalidatePath: () => {} }));

const {
  attachRedisAction,
  createRedisAction,
  deleteRedisAction,
  pollRedis,
  revealRedisCredentialsAction,
  rotateRedisAction,
} = await import("@/app/(portal)/teams/[teamId]/redis/actions");

const idle = { status: "idle" } as const;

async function teamWith(role: Role) {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  const user = await createTestUser();
  await addMember(team.id, user.id, role);
  const app = await getDb().app.create({ data: { teamId: team.id, name: `app-${randomUUID().slice(0, 6)}` } });
  const { redis, operation } = await createRedis(getDb(), await userCtx(owner.id, team.id), {
    name: `cache-${randomUUID().slice(0, 6)}`,
  });
  await getDb().tenantRedis.update({ where: { id: redis.id }, data: { status: "ready" } });
  await getDb().operation.update({ where: { id: operation.id }, data: { status: "succeeded" } });
  return { team, user, app, redis, fields: { teamId: team.id, redisId: redis.id } };
}

beforeAll(() => {
  process.env.TENANT_REDIS_ADMIN_URL = "redis://tussilago-admin:admin-secret-0123456789@127.0.0.1:56379";
  resetEnvForTests();
});

afterAll(() => {
  delete process.env.TENANT_REDIS_ADMIN_URL;
  resetEnvForTests();
});

beforeEach(() => {
  session.user = null;
});

describe("redis actions", () => {
  it("refuse a viewer on every change; nothing changes", async () => {
    const { team, user, app, redis, fields } = await teamWith("viewer");
    session.user = user;
    const refused = { status: "error", message: "Your role in this team does not allow this." };
    const before = await getDb().tenantRedis.findUniqueOrThrow({ where: { id: redis.id } });
    expect(await createRedisAction(idle, form({ teamId: team.id, name: "x", appId: "" }))).toEqual(refused);
    expect(await attachRedisAction(idle, form({ ...fields, appId: app.id }))).toEqual(refused);
    expect(await rotateRedisAction(idle, form(fields))).toEqual(refused);
    expect(await revealRedisCredentialsAction(idle, form(fields))).toEqual(refused);
    expect(await deleteRedisAction(idle, form({ ...fields, confirmName: redis.name }))).toEqual(refused);
    expect(await getDb().tenantRedis.findUniqueOrThrow({ where: { id: redis.id } })).toEqual(before);
    expect(await getDb().tenantRedis.count({ where: { teamId: team.id } })).toBe(1);
  });

  it("answer not found for another team's instance", async () => {
    const mine = await teamWith("admin");
    const theirs = await teamWith("admin");
    session.user = mine.user;
    const crossed = { teamId: mine.team.id, redisId: theirs.redis.id };
    expect(await revealRedisCredentialsAction(idle, form(crossed))).toMatchObject({
      status: "error",
      message: "Redis instance not found.",
    });
    expect(await deleteRedisAction(idle, form({ ...crossed, confirmName: theirs.redis.name }))).toMatchObject({
      status: "error",
      message: "Redis instance not found.",
    });
    expect((await pollRedis(mine.team.id, [theirs.redis.id])).data).toEqual({ [theirs.redis.id]: null });
    expect((await getDb().tenantRedis.findUniqueOrThrow({ where: { id: theirs.redis.id } })).status).toBe("ready");
  });

  it("create, attach, reveal, rotate and delete for an admin", async () => {
    const { team, user, app, redis, fields } = await teamWith("admin");
    session.user = user;
    const target = await redirectTarget(
      createRedisAction(idle, form({ teamId: team.id, name: "sessions", appId: "" })),
    );
    const created = await getDb().tenantRedis.findFirstOrThrow({ where: { teamId: team.id, name: "sessions" } });
    expect(target).toBe(`/teams/${team.id}/redis/${created.id}`);

    expect(await attachRedisAction(idle, form({ ...fields, appId: app.id }))).toMatchObject({ status: "success" });
    expect((await getDb().tenantRedis.findUniqueOrThrow({ where: { id: redis.id } })).appId).toBe(app.id);

    const revealed = await revealRedisCredentialsAction(idle, form(fields));
    expect(revealed.data).toMatchObject({ host: "127.0.0.1", port: 56379, keyPrefix: expect.stringMatching(/^t_/) });
    expect(await rotateRedisAction(idle, form(fields))).toMatchObject({ status: "success" });
    expect((await pollRedis(team.id, [redis.id])).data?.[redis.id]?.pending).toBe("redis.rotate");

    const wrong = await deleteRedisAction(idle, form({ ...fields, confirmName: "nope" }));
    expect(wrong.fieldErrors).toHaveProperty("confirmName");
    expect(await redirectTarget(deleteRedisAction(idle, form({ ...fields, confirmName: redis.name })))).toBe(
      `/teams/${team.id}/redis`,
    );
    expect((await getDb().tenantRedis.findUniqueOrThrow({ where: { id: redis.id } })).status).toBe("deleting");
  });
});
