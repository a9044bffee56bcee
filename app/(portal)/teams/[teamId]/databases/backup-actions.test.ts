// The Backups section's server actions and the portal's download link, called directly with a mocked session:
// members back up, viewers cannot; the schedule form's field errors are words under the right fields; restoring over
// a database needs its name typed; a Redis replace-import needs the instance's name; the download link streams the
// plain dump to an admin, 403 to a member and 404 for another team's backup.
import { randomBytes, randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { getDb } from "@/lib/db";
import { listTeamRedisExports } from "@/lib/domain/redis-exports";
import type { PublicUser } from "@/lib/domain/users";
import { backupStoreConfig, getEnv, resetEnvForTests } from "@/lib/env";
import type { Role } from "@/lib/generated/prisma/enums";
import { backupEncryptionKey, createBackupStore } from "@/lib/infra/backup-store";
import { form } from "@/test/actions";
import { addMember, createTestTeam, createTestUser, userCtx } from "@/test/factories";

const session = vi.hoisted(() => ({ user: null as PublicUser | null }));

vi.mock("@/lib/auth/session", () => ({
  currentUser: async () => session.user,
  currentRequestMeta: async () => ({ requestId: randomUUID(), ip: "203.0.113.9", userAgent: "vitest" }),
}));
vi.mock("next/cache", () => ({ refresh: () => {}, revalidatePath: () => {} }));

const { backUpNowAction, changeBackupSettingsAction, importRedisAction, pollBackups, restoreBackupAction } =
  await import("@/app/(portal)/teams/[teamId]/databases/backup-actions");
const { GET: downloadLink } = await import("@/app/(portal)/teams/[teamId]/backups/[backupId]/download/route");

const idle = { status: "idle" } as const;
let work: string;

beforeAll(async () => {
  process.env.TENANT_PG_ADMIN_URL = "postgresql://tussilago:admin-secret@127.0.0.1:55432/postgres";
  resetEnvForTests();
  work = await fs.mkdtemp(path.join(os.tmpdir(), "backup-actions-"));
});

afterAll(async () => {
  delete process.env.TENANT_PG_ADMIN_URL;
  resetEnvForTests();
  await fs.rm(work, { recursive: true, force: true });
});

beforeEach(() => {
  session.user = null;
});

async function teamWith(role: Role) {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  const user = await createTestUser();
  await addMember(team.id, user.id, role);
  const database = await getDb().tenantDatabase.create({
    data: { teamId: team.id, name: `shop-${randomBytes(3).toString("hex")}`, status: "ready" },
  });
  return { team, owner, user, database, fields: { teamId: team.id, databaseId: database.id } };
}

async function verifiedBackup(teamId: string, databaseId: string, name: string, plain?: Buffer) {
  const backup = await getDb().backup.create({
    data: { teamId, kind: "postgres", databaseId, sourceName: name, trigger: "manual", status: "verified" },
  });
  const storageKey = `${teamId}/${databaseId}/${backup.id}.dump`;
  await getDb().backup.update({ where: { id: backup.id }, data: { storageKey, finishedAt: new Date() } });
  if (plain) {
    const file = path.join(work, backup.id);
    await fs.writeFile(file, plain);
    const env = getEnv();
    await createBackupStore(backupStoreConfig(env), backupEncryptionKey(env.secretKey)).put(storageKey, file);
  }
  return backup;
}

describe("backup actions", () => {
  it("let a member back up now (listed by the poll) and refuse a viewer", async () => {
    const member = await teamWith("member");
    session.user = member.user;
    expect(await backUpNowAction(idle, form(member.fields))).toMatchObject({ status: "success" });
    const polled = await pollBackups(member.fields);
    expect(polled.data?.map((b) => [b.status, b.trigger])).toEqual([["running", "manual"]]);

    const viewer = await teamWith("viewer");
    session.user = viewer.user;
    expect(await backUpNowAction(idle, form(viewer.fields))).toEqual({
      status: "error",
      message: "Your role in this team does not allow this.",
    });
    expect(await getDb().backup.count({ where: { teamId: viewer.team.id } })).toBe(0);
  });

  it("say what is wrong with the schedule form under each field, and save a valid one", async () => {
    const { user, database, fields } = await teamWith("admin");
    session.user = user;
    const numbers = await changeBackupSettingsAction(
      idle,
      form({ ...fields, enabled: "on", schedule: "", keepDaily: "91", keepWeekly: "x" }),
    );
    expect(numbers.fieldErrors).toEqual({
      keepDaily: "Daily backups kept is at most 90.",
      keepWeekly: "Weekly backups kept must be a whole number.",
    });
    const tooOften = await changeBackupSettingsAction(
      idle,
      form({ ...fields, enabled: "on", schedule: "*/30 * * * *", keepDaily: "7", keepWeekly: "4" }),
    );
    expect(tooOften.status).toBe("error");
    expect(Object.keys(tooOften.fieldErrors ?? {})).toEqual(["schedule"]);
    expect(tooOften.fieldErrors?.schedule).toMatch(/hour/i);
    expect(
      await changeBackupSettingsAction(
        idle,
        form({ ...fields, schedule: "15 3 * * *", keepDaily: "3", keepWeekly: "0" }),
      ),
    ).toMatchObject({ status: "success" });
    expect(await getDb().tenantDatabase.findUniqueOrThrow({ where: { id: database.id } })).toMatchObject({
      backupEnabled: false,
      backupSchedule: "15 3 * * *",
      backupKeepDaily: 3,
      backupKeepWeekly: 0,
    });
  });

  it("restore over the database only with its name typed", async () => {
    const { team, user, database, fields } = await teamWith("admin");
    session.user = user;
    const backup = await verifiedBackup(team.id, database.id, database.name);
    const wrong = await restoreBackupAction(
      idle,
      form({ ...fields, backupId: backup.id, target: "same", confirmName: "nope" }),
    );
    expect(wrong).toMatchObject({ status: "error", fieldErrors: { confirmName: `Type “${database.name}” exactly.` } });
    expect(await getDb().operation.count({ where: { teamId: team.id, kind: "backup.restore" } })).toBe(0);
    const right = await restoreBackupAction(
      idle,
      form({ ...fields, backupId: backup.id, target: "same", confirmName: database.name }),
    );
    expect(right).toMatchObject({ status: "success" });
    expect(await getDb().operation.count({ where: { teamId: team.id, kind: "backup.restore" } })).toBe(1);
  });

  it("import into a Redis with replace only with the instance's name typed", async () => {
    const { team, user } = await teamWith("admin");
    session.user = user;
    const redis = await getDb().tenantRedis.create({
      data: { teamId: team.id, name: `cache-${randomBytes(3).toString("hex")}`, status: "ready" },
    });
    const exported = await getDb().backup.create({
      data: {
        teamId: team.id,
        kind: "redis",
        redisId: redis.id,
        sourceName: redis.name,
        trigger: "manual",
        status: "succeeded",
        storageKey: `${team.id}/${redis.id}/x.redis`,
      },
    });
    const fields = { teamId: team.id, redisId: redis.id, exportId: exported.id };
    expect(await importRedisAction(idle, form({ ...fields, mode: "replace", confirmName: "" }))).toMatchObject({
      status: "error",
      fieldErrors: { confirmName: `Type “${redis.name}” exactly.` },
    });
    expect(await getDb().operation.count({ where: { teamId: team.id, kind: "redis.import" } })).toBe(0);
    // The page's choice: the team's succeeded exports only (not a failed one, not another team's).
    await getDb().backup.create({
      data: {
        teamId: team.id,
        kind: "redis",
        redisId: redis.id,
        sourceName: redis.name,
        trigger: "manual",
        status: "failed",
      },
    });
    const stranger = await teamWith("admin");
    await getDb().backup.create({
      data: { teamId: stranger.team.id, kind: "redis", sourceName: "theirs", trigger: "manual", status: "succeeded" },
    });
    const choices = await listTeamRedisExports(getDb(), await userCtx(user.id, team.id));
    expect(choices.map((choice) => choice.id)).toEqual([exported.id]);
    expect(await importRedisAction(idle, form({ ...fields, mode: "merge" }))).toMatchObject({ status: "success" });
    expect(await getDb().operation.count({ where: { teamId: team.id, kind: "redis.import" } })).toBe(1);
  });
});

describe("the portal's download link", () => {
  const open = (teamId: string, backupId: string) =>
    downloadLink(new Request(`http://tussilago.test/teams/${teamId}/backups/${backupId}/download`), {
      params: Promise.resolve({ teamId, backupId }),
    });

  it("streams the plain dump to an admin, refuses a member and another team's backup", async () => {
    const { team, owner, user, database } = await teamWith("member");
    const plain = Buffer.concat([Buffer.from("PGDMP", "latin1"), randomBytes(70_000)]);
    const backup = await verifiedBackup(team.id, database.id, database.name, plain);

    session.user = owner;
    const response = await open(team.id, backup.id);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-disposition")).toMatch(
      /^attachment; filename="shop-[0-9a-f]{6}-\d{12}\.dump"$/,
    );
    expect(Buffer.from(await response.arrayBuffer()).equals(plain)).toBe(true);

    session.user = user;
    expect((await open(team.id, backup.id)).status).toBe(403);

    const other = await teamWith("admin");
    session.user = other.owner;
    expect((await open(other.team.id, backup.id)).status).toBe(404);
    session.user = null;
    expect((await open(team.id, backup.id)).status).toBe(401);
  });
});
