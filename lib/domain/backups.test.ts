// Backups' domain rules (no dump runs here: lib/engine/backups/backups.integration.test.ts does the real round trip):
// who may do what, another team's IDs answering 404, the kept-backups quota, one backup running per database, the
// list's constant query count, restore targets a tenant cannot name, Redis imports of the team's own exports, and the
// settings PATCH validates schedules (at most hourly) and retention bounds.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import {
  createBackup,
  deleteBackup,
  getBackup,
  latestBackup,
  listDatabaseBackups,
  restoreBackup,
} from "@/lib/domain/backups";
import type { Ctx } from "@/lib/domain/context";
import { updateDatabase } from "@/lib/domain/databases";
import { createRedisExport, importRedisExport } from "@/lib/domain/redis-exports";
import { resetEnvForTests } from "@/lib/env";
import type { Role } from "@/lib/generated/prisma/enums";
import { expectAppError } from "@/test/errors";
import { addMember, createTestTeam, createTestUser, userCtx } from "@/test/factories";
import { pendingJobs } from "@/test/helpers";

const { adminUrl } = inject("testDatabase");

beforeAll(() => {
  process.env.TENANT_PG_ADMIN_URL = adminUrl;
  resetEnvForTests();
});

afterAll(() => {
  delete process.env.TENANT_PG_ADMIN_URL;
  resetEnvForTests();
});

let counter = 0;

async function team(): Promise<{ owner: Ctx; as: (role: Role) => Promise<Ctx> }> {
  const owner = await createTestUser();
  const created = await createTestTeam(owner.id);
  return {
    owner: await userCtx(owner.id, created.id),
    as: async (role) => {
      const user = await createTestUser();
      await addMember(created.id, user.id, role);
      return await userCtx(user.id, created.id);
    },
  };
}

/** A ready database row: the domain only reads its status (no server is touched before a job runs). */
async function readyDatabase(ctx: Ctx): Promise<string> {
  counter += 1;
  const row = await getDb().tenantDatabase.create({
    data: { teamId: ctx.teamId, name: `d-${process.pid}-${counter}`, status: "ready" },
  });
  return row.id;
}

async function finishedBackup(ctx: Ctx, databaseId: string | null, trigger: "manual" | "scheduled" = "manual") {
  return await getDb().backup.create({
    data: {
      teamId: ctx.teamId,
      kind: "postgres",
      databaseId,
      sourceName: "orig",
      trigger,
      status: "verified",
      storageKey: `${ctx.teamId}/x/${randomUUID()}.dump`,
      finishedAt: new Date(),
    },
  });
}

describe("backups: authorization and scoping", () => {
  it("members take backups, viewers cannot; admins delete and restore, members cannot", async () => {
    const t = await team();
    const databaseId = await readyDatabase(t.owner);
    const member = await t.as("member");
    const viewer = await t.as("viewer");
    await expectAppError(createBackup(getDb(), viewer, databaseId), "forbidden");
    const { backup, operation } = await createBackup(getDb(), member, databaseId);
    expect(backup).toMatchObject({ status: "running", trigger: "manual", databaseId, sizeBytes: null });
    expect(operation.kind).toBe("backup.run");
    const jobs = await pendingJobs("backup__run");
    expect(jobs.map((job) => job.payload)).toContainEqual({ backupId: backup.id, operationId: operation.id });
    const done = await finishedBackup(t.owner, databaseId);
    await expectAppError(deleteBackup(getDb(), member, done.id), "forbidden");
    await expectAppError(restoreBackup(getDb(), member, done.id, { target: "new" }), "forbidden");
    expect((await getBackup(getDb(), viewer, done.id)).id).toBe(done.id);
    // The store's key never leaves the domain.
    expect(JSON.stringify(await getBackup(getDb(), viewer, done.id))).not.toContain("storageKey");
  });

  it("another team's database and backup IDs answer 404, as do IDs that name nothing", async () => {
    const mine = await team();
    const theirs = await team();
    const theirDb = await readyDatabase(theirs.owner);
    const theirBackup = await finishedBackup(theirs.owner, theirDb);
    await expectAppError(createBackup(getDb(), mine.owner, theirDb), "not_found");
    await expectAppError(listDatabaseBackups(getDb(), mine.owner, theirDb, { limit: 10 }), "not_found");
    await expectAppError(getBackup(getDb(), mine.owner, theirBackup.id), "not_found");
    await expectAppError(deleteBackup(getDb(), mine.owner, theirBackup.id), "not_found");
    await expectAppError(restoreBackup(getDb(), mine.owner, theirBackup.id, { target: "same" }), "not_found");
    await expectAppError(getBackup(getDb(), mine.owner, "../../etc/passwd"), "not_found");
    expect(await getDb().backup.count({ where: { teamId: mine.owner.teamId } })).toBe(0);
  });
});

describe("backups: limits", () => {
  it("one backup runs per database at a time (409 with a reason); another database is free", async () => {
    const t = await team();
    const first = await readyDatabase(t.owner);
    const second = await readyDatabase(t.owner);
    await createBackup(getDb(), t.owner, first);
    const error = await expectAppError(createBackup(getDb(), t.owner, first), "conflict");
    expect(error.message).toMatch(/already running/);
    await createBackup(getDb(), t.owner, second);
  });

  it("kept manual backups count against TUSSILAGO_QUOTA_BACKUPS; scheduled and failed ones do not", async () => {
    const t = await team();
    const databaseId = await readyDatabase(t.owner);
    await getDb().teamQuota.create({ data: { teamId: t.owner.teamId, backups: 2 } });
    await finishedBackup(t.owner, databaseId);
    await finishedBackup(t.owner, databaseId, "scheduled");
    await getDb().backup.create({
      data: { teamId: t.owner.teamId, kind: "postgres", sourceName: "x", trigger: "manual", status: "failed" },
    });
    await createBackup(getDb(), t.owner, databaseId);
    const other = await readyDatabase(t.owner);
    const error = await expectAppError(createBackup(getDb(), t.owner, other), "quota_exceeded");
    expect(error.details).toEqual({ quota: "backups", limit: 2 });
  });

  it("lists with a constant number of queries, newest first, paginated", async () => {
    const t = await team();
    const databaseId = await readyDatabase(t.owner);
    await finishedBackup(t.owner, databaseId);
    const few = await countQueries(() => listDatabaseBackups(getDb(), t.owner, databaseId, { limit: 50 }));
    for (let i = 0; i < 6; i += 1) await finishedBackup(t.owner, databaseId);
    const many = await countQueries(() => listDatabaseBackups(getDb(), t.owner, databaseId, { limit: 50 }));
    expect(many.count).toBe(few.count);
    expect(many.result.items).toHaveLength(7);
    const page = await listDatabaseBackups(getDb(), t.owner, databaseId, { limit: 4 });
    const next = await listDatabaseBackups(getDb(), t.owner, databaseId, {
      limit: 4,
      cursor: page.nextCursor ?? undefined,
    });
    expect(new Set([...page.items, ...next.items].map((item) => item.id)).size).toBe(7);
  });
});

describe("backups: restore", () => {
  it("'same' writes a safety backup and refuses while one runs; 'new' creates a provisioning database", async () => {
    const t = await team();
    const databaseId = await readyDatabase(t.owner);
    const backup = await finishedBackup(t.owner, databaseId);
    const same = await restoreBackup(getDb(), t.owner, backup.id, { target: "same" });
    expect(same.databaseId).toBe(databaseId);
    const safety = await getDb().backup.findUniqueOrThrow({ where: { id: same.safetyBackupId ?? "" } });
    expect(safety).toMatchObject({ trigger: "safety", status: "running", databaseId });
    // The safety backup is running: neither a second restore nor a backup now.
    await expectAppError(restoreBackup(getDb(), t.owner, backup.id, { target: "same" }), "conflict");
    await expectAppError(createBackup(getDb(), t.owner, databaseId), "conflict");

    const fresh = await restoreBackup(getDb(), t.owner, backup.id, { target: "new" });
    const created = await getDb().tenantDatabase.findUniqueOrThrow({ where: { id: fresh.databaseId } });
    expect(created).toMatchObject({ teamId: t.owner.teamId, status: "provisioning", name: "orig-restored" });
    const again = await restoreBackup(getDb(), t.owner, backup.id, { target: "new" });
    expect((await getDb().tenantDatabase.findUniqueOrThrow({ where: { id: again.databaseId } })).name).toBe(
      "orig-restored-2",
    );
  });

  it("a backup whose database is gone restores only into a new one; unverified backups do not restore", async () => {
    const t = await team();
    const orphan = await finishedBackup(t.owner, null);
    const error = await expectAppError(restoreBackup(getDb(), t.owner, orphan.id, { target: "same" }), "conflict");
    expect(error.message).toMatch(/new database/);
    await restoreBackup(getDb(), t.owner, orphan.id, { target: "new", name: "picked" });
    const failed = await getDb().backup.create({
      data: { teamId: t.owner.teamId, kind: "postgres", sourceName: "x", trigger: "manual", status: "failed" },
    });
    await expectAppError(restoreBackup(getDb(), t.owner, failed.id, { target: "new" }), "conflict");
    await expectAppError(restoreBackup(getDb(), t.owner, orphan.id, { target: "new", name: "../x" }), "invalid");
  });
});

describe("the database page's warning", () => {
  it("reads the newest manual or scheduled backup (not a safety one), of the caller's team only", async () => {
    const t = await team();
    const other = await team();
    const databaseId = await readyDatabase(t.owner);
    expect(await latestBackup(getDb(), t.owner, databaseId)).toBeNull();
    await finishedBackup(t.owner, databaseId);
    const failed = await getDb().backup.create({
      data: {
        teamId: t.owner.teamId,
        kind: "postgres",
        databaseId,
        sourceName: "x",
        trigger: "scheduled",
        status: "failed",
        error: "why",
        startedAt: new Date(Date.now() + 1000),
      },
    });
    await getDb().backup.create({
      data: {
        teamId: t.owner.teamId,
        kind: "postgres",
        databaseId,
        sourceName: "x",
        trigger: "safety",
        status: "verified",
        startedAt: new Date(Date.now() + 2000),
      },
    });
    expect(await latestBackup(getDb(), t.owner, databaseId)).toMatchObject({
      id: failed.id,
      status: "failed",
      error: "why",
    });
    expect(await latestBackup(getDb(), other.owner, databaseId)).toBeNull();
  });
});

describe("backup settings", () => {
  it("validates the schedule (at most hourly) and the retention bounds, and sets the next run", async () => {
    const t = await team();
    const databaseId = await readyDatabase(t.owner);
    await expectAppError(
      updateDatabase(getDb(), t.owner, databaseId, { backups: { schedule: "*/30 * * * *" } }),
      "invalid",
    );
    await expectAppError(
      updateDatabase(getDb(), t.owner, databaseId, { backups: { schedule: "nonsense" } }),
      "invalid",
    );
    await expectAppError(updateDatabase(getDb(), t.owner, databaseId, { backups: { keepDaily: 91 } }), "invalid");
    await expectAppError(updateDatabase(getDb(), t.owner, databaseId, { backups: { keepWeekly: -1 } }), "invalid");
    const { database } = await updateDatabase(getDb(), t.owner, databaseId, {
      backups: { schedule: "15 3 * * *", keepDaily: 3, keepWeekly: 2 },
    });
    expect(database.backups).toMatchObject({ schedule: "15 3 * * *", defaultSchedule: false, keepDaily: 3 });
    expect(database.backups.nextAt?.getUTCHours()).toBe(3);
    expect(database.backups.nextAt?.getUTCMinutes()).toBe(15);
  });
});

describe("redis export and import", () => {
  it("imports only the team's own finished exports", async () => {
    const mine = await team();
    const theirs = await team();
    const redis = await getDb().tenantRedis.create({
      data: { teamId: mine.owner.teamId, name: "r1", status: "ready" },
    });
    const theirExport = await getDb().backup.create({
      data: { teamId: theirs.owner.teamId, kind: "redis", sourceName: "x", trigger: "manual", status: "succeeded" },
    });
    await expectAppError(
      importRedisExport(getDb(), mine.owner, redis.id, { exportId: theirExport.id, mode: "merge" }),
      "not_found",
    );
    const { export: created } = await createRedisExport(getDb(), mine.owner, redis.id);
    expect(created).toMatchObject({ kind: "redis", status: "running", redisId: redis.id });
    await expectAppError(
      importRedisExport(getDb(), mine.owner, redis.id, { exportId: created.id, mode: "replace" }),
      "conflict",
    );
  });
});
