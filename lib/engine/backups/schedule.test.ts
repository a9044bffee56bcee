// backup__schedule's pass against the database: only due, enabled, ready databases get a scheduled backup (and their
// next time moves on), a database with a backup running skips its slot, retention queues backup__delete for exactly
// the scheduled backups beyond keepDaily/keepWeekly, and retentionVictims' day/week rule on its own.
import { randomUUID } from "node:crypto";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { getDb } from "@/lib/db";
import { retentionVictims } from "@/lib/domain/backup-rules";
import { createTestTeam, createTestUser } from "@/test/factories";
import { pendingJobs } from "@/test/helpers";
import { scheduleBackups } from "./schedule";

const log = pino({ level: "silent" });
const NOW = new Date("2026-06-10T12:00:30Z");
let counter = 0;

async function teamId(): Promise<string> {
  const owner = await createTestUser();
  return (await createTestTeam(owner.id)).id;
}

async function database(
  team: string,
  data: { backupNextAt?: Date | null; backupEnabled?: boolean; status?: "ready" | "provisioning" } = {},
) {
  counter += 1;
  return await getDb().tenantDatabase.create({
    data: { teamId: team, name: `s-${process.pid}-${counter}`, status: "ready", backupSchedule: "0 * * * *", ...data },
  });
}

describe("scheduleBackups", () => {
  it("starts scheduled backups of due databases only, moves their next time on, skips one with a backup running", async () => {
    const team = await teamId();
    const due = await database(team, { backupNextAt: new Date("2026-06-10T12:00:00Z") });
    const later = await database(team, { backupNextAt: new Date("2026-06-10T13:00:00Z") });
    const disabled = await database(team, { backupNextAt: new Date("2026-06-10T11:00:00Z"), backupEnabled: false });
    const provisioning = await database(team, {
      backupNextAt: new Date("2026-06-10T11:00:00Z"),
      status: "provisioning",
    });
    const busy = await database(team, { backupNextAt: new Date("2026-06-10T11:00:00Z") });
    const fresh = await database(team, { backupNextAt: null });
    await getDb().backup.create({
      data: { teamId: team, kind: "postgres", databaseId: busy.id, sourceName: busy.name, trigger: "manual" },
    });

    const result = await scheduleBackups({ db: getDb(), log, pg: null }, NOW);
    expect(result.started).toContain(due.id);
    expect(result.skipped).toContain(busy.id);
    for (const id of [later.id, disabled.id, provisioning.id, fresh.id]) expect(result.started).not.toContain(id);
    const started = await getDb().backup.findMany({ where: { teamId: team, trigger: "scheduled" } });
    expect(started.map((row) => row.databaseId)).toEqual([due.id]);
    const jobs = await pendingJobs("backup__run");
    expect(jobs.map((job) => (job.payload as { backupId: string }).backupId)).toContain(started[0]?.id);
    const after = await getDb().tenantDatabase.findMany({ where: { teamId: team } });
    const nextOf = (id: string) => after.find((row) => row.id === id)?.backupNextAt?.toISOString();
    expect(nextOf(due.id)).toBe("2026-06-10T13:00:00.000Z");
    expect(nextOf(busy.id)).toBe("2026-06-10T13:00:00.000Z");
    // First seen: planned, not backed up on the spot.
    expect(nextOf(fresh.id)).toBe("2026-06-10T13:00:00.000Z");

    // The same minute again starts nothing more.
    const again = await scheduleBackups({ db: getDb(), log, pg: null }, NOW);
    expect(again.started).not.toContain(due.id);
  });

  it("retention queues backup__delete for the scheduled backups beyond keepDaily and keepWeekly, once", async () => {
    const team = await teamId();
    const db = await database(team, { backupNextAt: new Date("2026-07-01T00:00:00Z") });
    await getDb().tenantDatabase.update({ where: { id: db.id }, data: { backupKeepDaily: 2, backupKeepWeekly: 1 } });
    const ids: string[] = [];
    // Two a day over four days (Mon 2026-06-01 .. Thu 2026-06-04), plus a manual one that retention never touches.
    for (let day = 1; day <= 4; day += 1) {
      for (const hour of [3, 15]) {
        const row = await getDb().backup.create({
          data: {
            teamId: team,
            kind: "postgres",
            databaseId: db.id,
            sourceName: db.name,
            trigger: "scheduled",
            status: "verified",
            startedAt: new Date(Date.UTC(2026, 5, day, hour)),
          },
        });
        ids.push(row.id);
      }
    }
    const manual = await getDb().backup.create({
      data: {
        teamId: team,
        kind: "postgres",
        databaseId: db.id,
        sourceName: db.name,
        trigger: "manual",
        status: "verified",
        startedAt: new Date(Date.UTC(2026, 5, 1)),
      },
    });
    const result = await scheduleBackups({ db: getDb(), log, pg: null }, NOW);
    // Kept: the newest of 06-04 and of 06-03 (daily); the week's newest is the 06-04 one already.
    const kept = [ids[7], ids[5]];
    expect(new Set(result.expired)).toEqual(new Set(ids.filter((id) => !kept.includes(id))));
    expect(result.expired).not.toContain(manual.id);
    const deletes = await pendingJobs("backup__delete");
    const queued = deletes.map((job) => (job.payload as { backupId: string }).backupId);
    for (const id of result.expired) expect(queued).toContain(id);
    const second = await scheduleBackups({ db: getDb(), log, pg: null }, NOW);
    expect(second.expired.filter((id) => result.expired.includes(id))).toEqual([]);
  });
});

describe("retentionVictims", () => {
  const at = (iso: string, status: "verified" | "failed" = "verified") => ({
    id: randomUUID(),
    status,
    startedAt: new Date(iso),
  });

  it("keeps the newest of each of N days and M ISO weeks; failed ones go once a newer verified exists", () => {
    const weekAgo = at("2026-06-01T03:00:00Z"); // Monday, week 23
    const older = at("2026-05-25T03:00:00Z"); // week 22
    const oldest = at("2026-05-18T03:00:00Z"); // week 21
    const today = at("2026-06-08T03:00:00Z"); // week 24
    const todayEarlier = at("2026-06-08T01:00:00Z");
    const failed = at("2026-06-07T03:00:00Z", "failed");
    const victims = retentionVictims([weekAgo, older, oldest, today, todayEarlier, failed], 1, 3);
    expect(new Set(victims)).toEqual(new Set([oldest.id, todayEarlier.id, failed.id]));
    expect(retentionVictims([today, weekAgo], 0, 0)).toHaveLength(2);
    expect(retentionVictims([at("2026-06-08T03:00:00Z", "failed")], 1, 1)).toEqual([]);
  });
});
