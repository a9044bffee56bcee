// The Runs tab's server actions and data loads: a member runs a command (queued with its job, redirected to the run's
// page); a viewer and another team start nothing; the run page follows the output by offset until complete with the
// final status; cancel; the list and one run load in a constant number of queries, with who started each run.
import { randomBytes, randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { runLogPath } from "@/lib/data-paths";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import type { PublicUser } from "@/lib/domain/users";
import { getEnv } from "@/lib/env";
import type { Role } from "@/lib/generated/prisma/enums";
import { form, redirectTarget } from "@/test/actions";
import { addMember, createTestTeam, createTestUser, userCtx } from "@/test/factories";
import { pendingJobs } from "@/test/helpers";

const session = vi.hoisted(() => ({ user: null as PublicUser | null }));

vi.mock("@/lib/auth/session", () => ({
  currentUser: async () => session.user,
  currentRequestMeta: async () => ({ requestId: randomUUID(), ip: "203.0.113.9", userAgent: "vitest" }),
}));
vi.mock("next/cache", () => ({ refresh: () => {}, revalidatePath: () => {} }));

const { cancelRunAction, createRunAction, pollAppRuns, pollRun } = await import(
  "@/app/(portal)/teams/[teamId]/apps/[appId]/runs/actions"
);
const { loadAppRuns, loadRun } = await import("@/app/(portal)/teams/[teamId]/apps/[appId]/runs/runs-data");

beforeEach(() => {
  session.user = null;
});

const idle = { status: "idle" } as const;

/** An app with a release (runs need one), its owner, and a member of `role`. */
async function releasedApp(role: Role) {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  const user = await createTestUser();
  await addMember(team.id, user.id, role);
  const ownerCtx = await userCtx(owner.id, team.id);
  const app = await createApp(getDb(), ownerCtx, { name: `web-${randomBytes(3).toString("hex")}` });
  const deployment = await getDb().deployment.create({
    data: { appId: app.id, teamId: team.id, number: 1, status: "running", sourceType: "upload" },
  });
  await getDb().app.update({ where: { id: app.id }, data: { currentDeploymentId: deployment.id } });
  return { team, owner, user, ownerCtx, app, deployment, fields: { teamId: team.id, appId: app.id } };
}

async function storedRun(
  appId: string,
  teamId: string,
  data: { createdBy?: string; status?: "queued" | "running" | "succeeded"; exitCode?: number; createdAt?: Date } = {},
) {
  return await getDb().run.create({
    data: { appId, teamId, kind: "oneoff", command: "echo hello", timeoutSeconds: 60, ...data },
  });
}

describe("createRunAction", () => {
  it("queues a member's command with its job and goes to the run's page", async () => {
    const { user, app, fields } = await releasedApp("member");
    session.user = user;
    const target = await redirectTarget(
      createRunAction(idle, form({ ...fields, command: "python manage.py migrate", timeoutSeconds: "120" })),
    );
    const run = await getDb().run.findFirstOrThrow({ where: { appId: app.id } });
    expect(target).toBe(`/teams/${fields.teamId}/apps/${app.id}/runs/${run.id}`);
    expect(run).toMatchObject({ status: "queued", command: "python manage.py migrate", timeoutSeconds: 120 });
    expect(run.createdBy).toBe(user.id);
    const jobs = await pendingJobs("run__execute");
    expect(jobs.some((job) => (job.payload as { runId?: string }).runId === run.id)).toBe(true);
  });

  it("answers on the field for an empty command or a time limit past the maximum, and queues nothing", async () => {
    const { user, app, fields } = await releasedApp("member");
    session.user = user;
    const empty = await createRunAction(idle, form({ ...fields, command: "  " }));
    expect(empty.status).toBe("error");
    expect(empty.fieldErrors).toEqual({ command: "Give a command." });
    const tooLong = await createRunAction(
      idle,
      form({ ...fields, command: "echo hi", timeoutSeconds: String(getEnv().runs.maxTimeoutS + 1) }),
    );
    expect(tooLong.status).toBe("error");
    expect(Object.keys(tooLong.fieldErrors ?? {})).toEqual(["timeoutSeconds"]);
    expect(await getDb().run.count({ where: { appId: app.id } })).toBe(0);
  });

  it("refuses a viewer and another team's member, and queues nothing", async () => {
    const { user, app, fields } = await releasedApp("viewer");
    session.user = user;
    const viewer = await createRunAction(idle, form({ ...fields, command: "echo hi" }));
    expect(viewer.status).toBe("error");
    const stranger = await createTestUser();
    await createTestTeam(stranger.id);
    session.user = stranger;
    const other = await createRunAction(idle, form({ ...fields, command: "echo hi" }));
    expect(other).toMatchObject({ status: "error", message: "Team not found." });
    expect(await getDb().run.count({ where: { appId: app.id } })).toBe(0);
  });
});

describe("pollRun", () => {
  it("follows the output from an offset and says complete with the final status and exit code", async () => {
    const { user, team, app } = await releasedApp("viewer");
    session.user = user;
    const run = await storedRun(app.id, team.id, { status: "running" });
    const waiting = await pollRun(team.id, app.id, run.id, 0);
    expect(waiting.data?.chunk).toEqual({ text: "", nextOffset: 0, complete: false });
    expect(waiting.data?.run.status).toBe("running");

    const file = runLogPath(getEnv().dataDir, run.id);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, "hello\nworld\n");
    await getDb().run.update({ where: { id: run.id }, data: { status: "succeeded", exitCode: 0 } });
    const first = await pollRun(team.id, app.id, run.id, 0);
    expect(first.data?.chunk).toEqual({ text: "hello\nworld\n", nextOffset: 12, complete: true });
    expect(first.data?.run).toMatchObject({ status: "succeeded", exitCode: 0 });
    const from = await pollRun(team.id, app.id, run.id, 6);
    expect(from.data?.chunk.text).toBe("world\n");
  });

  it("does not show another app's run or another team's", async () => {
    const { user, team, app, ownerCtx } = await releasedApp("member");
    const sibling = await createApp(getDb(), ownerCtx, { name: `web-${randomBytes(3).toString("hex")}` });
    const siblingRun = await storedRun(sibling.id, team.id);
    session.user = user;
    expect(await pollRun(team.id, app.id, siblingRun.id, 0)).toMatchObject({
      status: "error",
      message: "Run not found.",
    });
    const elsewhere = await releasedApp("member");
    const foreign = await storedRun(elsewhere.app.id, elsewhere.team.id);
    expect(await pollRun(team.id, app.id, foreign.id, 0)).toMatchObject({ status: "error", message: "Run not found." });
  });
});

describe("cancelRunAction", () => {
  it("cancels a queued run for a member; a viewer changes nothing", async () => {
    const { user, team, app, owner } = await releasedApp("viewer");
    const run = await storedRun(app.id, team.id);
    session.user = user;
    const refused = await cancelRunAction(idle, form({ teamId: team.id, runId: run.id }));
    expect(refused.status).toBe("error");
    expect((await getDb().run.findUniqueOrThrow({ where: { id: run.id } })).status).toBe("queued");
    session.user = owner;
    const state = await cancelRunAction(idle, form({ teamId: team.id, runId: run.id }));
    expect(state).toEqual({ status: "success", message: "Cancelled." });
    expect((await getDb().run.findUniqueOrThrow({ where: { id: run.id } })).status).toBe("cancelled");
  });
});

describe("loadAppRuns", () => {
  it("lists runs newest first with who started them, in the same number of queries for 1 or 6 runs", async () => {
    const small = await releasedApp("member");
    const large = await releasedApp("member");
    await storedRun(small.app.id, small.team.id, { createdBy: small.owner.id });
    const starters = [large.owner, large.user];
    const made: { id: string }[] = [];
    for (let index = 0; index < 6; index += 1) {
      // Distinct times: rows made in one millisecond would order by their random IDs.
      const createdAt = new Date(Date.UTC(2026, 0, 1, index));
      made.push(await storedRun(large.app.id, large.team.id, { createdBy: starters[index % 2]?.id ?? "", createdAt }));
    }
    const few = await countQueries(() => loadAppRuns(getDb(), small.ownerCtx, small.app.id));
    const many = await countQueries(() => loadAppRuns(getDb(), large.ownerCtx, large.app.id));
    expect(few.result.items).toHaveLength(1);
    expect(many.result.items.map((run) => run.id)).toEqual(made.map((run) => run.id).reverse());
    expect(many.result.items[0]?.startedBy).toBe(large.user.name ?? large.user.email);
    expect(many.result.items[1]?.startedBy).toBe(large.owner.name ?? large.owner.email);
    expect(many.count).toBe(few.count);
    expect(many.result.more).toBe(false);

    session.user = large.user;
    const polled = await pollAppRuns(large.team.id, large.app.id);
    expect(polled.data?.items).toHaveLength(6);
    const one = await countQueries(() => loadRun(getDb(), large.ownerCtx, made[0]?.id ?? ""));
    expect(one.result.startedBy).toBe(large.owner.name ?? large.owner.email);
  });
});
