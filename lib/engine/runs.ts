// Executing a run: the command in a one-off container of the release the run was created against, like the release
// command (lib/engine/release/release-command.ts): same image, environment, gVisor runtime, hardening and limits, the
// team network, no published port, `/bin/sh -c <command>` inside the tenant's own container.
//
// Idempotent: the container's name comes from the run's id, so a retried attempt (worker restart, podman hiccup)
// adopts the container the earlier attempt started instead of starting a second one; the status is written before
// the container is removed, so a retry after that finds a finished run and stops. A container left behind by a
// worker that died in between is an orphan to lib/engine/reconcile.ts, which keeps only those of active runs.
import fs from "node:fs/promises";
import path from "node:path";
import { runLogPath } from "@/lib/data-paths";
import type { Db } from "@/lib/db";
import { claimOperation, failOperation, succeedOperation } from "@/lib/domain/operations";
import { isFinished } from "@/lib/domain/runs";
import { userFailure } from "@/lib/engine/failure";
import { specFor } from "@/lib/engine/release/containers";
import { isTimeout, loadApp, type ReleaseDeps } from "@/lib/engine/release/context";
import type { Run, RunStatus } from "@/lib/generated/prisma/client";
import { PodmanError, toResourceName } from "@/lib/infra/podman";

/** How often a running run's output is copied to its log and its cancellation looked for. */
export const RUN_POLL_MS = 2_000;
/** Stop grace for a run's container: a command past its time limit or cancelled gets SIGTERM, then SIGKILL. */
const STOP_SECONDS = 5;
/** Lines of a run's output kept in its log (the container's log file is size-capped by podman too). */
const OUTPUT_LINES = 100_000;

export type RunDeps = ReleaseDeps & { pollMs?: number };

export function runContainerName(runId: string): string {
  return toResourceName(runId, "run");
}

type Outcome = { status: Exclude<RunStatus, "queued" | "running">; exitCode?: number | null; reason?: string | null };

/** Records the end of a running run and of its operation; false when it had already ended. */
export async function finishRun(db: Db, run: Pick<Run, "id" | "operationId">, outcome: Outcome): Promise<boolean> {
  const done = await db.run.updateMany({
    where: { id: run.id, status: { in: ["queued", "running"] } },
    data: {
      status: outcome.status,
      exitCode: outcome.exitCode ?? null,
      reason: outcome.reason?.slice(0, 2000) ?? null,
      finishedAt: new Date(),
    },
  });
  if (run.operationId) {
    if (outcome.status === "succeeded") await succeedOperation(db, run.operationId);
    else await failOperation(db, run.operationId, outcome.reason ?? `The run ended ${outcome.status}.`);
  }
  return done.count === 1;
}

/** The container's output, stdout and stderr interleaved in time order, as the run's log (replaced whole). */
async function copyOutput(deps: RunDeps, name: string, file: string): Promise<void> {
  const logs = await deps.podman.logs(name, { tail: OUTPUT_LINES, timestamps: true }).catch(() => null);
  if (!logs) return;
  const lines = [logs.stdout, logs.stderr]
    .flatMap((part) => part.split("\n").filter(Boolean))
    .map((line) => {
      const space = line.indexOf(" ");
      return { time: space === -1 ? "" : line.slice(0, space), text: space === -1 ? line : line.slice(space + 1) };
    });
  // RFC 3339 times of one clock: a stable sort by their text keeps each stream's own order for equal times.
  lines.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  const text = lines.map((line) => `${line.text}\n`).join("");
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  // Whole-file replacement through a rename: a reader polling by offset never sees a half-written file.
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, text, { mode: 0o600 });
  await fs.rename(tmp, file);
}

async function stopAndRecord(deps: RunDeps, run: Run, name: string, file: string, outcome: Outcome): Promise<void> {
  await deps.podman.stop(name, { timeoutSeconds: STOP_SECONDS });
  await copyOutput(deps, name, file);
  await finishRun(deps.db, run, outcome);
  await deps.podman.remove(name);
  deps.log.info({ runId: run.id, container: name, status: outcome.status }, "run container stopped");
}

/** Moves a queued run to running (its time limit starts now). The run as it stands, or null when it has ended. */
async function claimRun(deps: RunDeps, runId: string): Promise<Run | null> {
  await deps.db.run.updateMany({
    where: { id: runId, status: "queued" },
    data: { status: "running", startedAt: new Date(deps.now()) },
  });
  const run = await deps.db.run.findUnique({ where: { id: runId } });
  if (!run || isFinished(run.status)) return null;
  if (run.operationId) await claimOperation(deps.db, run.operationId);
  return run;
}

async function startContainer(deps: RunDeps, run: Run, name: string): Promise<void> {
  const app = await loadApp(deps.db, run.appId);
  const deployment = run.deploymentId ? await deps.db.deployment.findUnique({ where: { id: run.deploymentId } }) : null;
  if (!app || !deployment) throw userFailure("The release this run was to use no longer exists.");
  const spec = await specFor(deps, app, deployment);
  try {
    await deps.podman.run({
      name,
      image: spec.image,
      network: spec.network,
      labels: { team: app.teamId, app: app.id, deployment: deployment.id, process: "run" },
      env: spec.env,
      memoryMiB: app.memoryMb,
      cpus: app.cpuMillis / 1000,
      command: ["/bin/sh", "-c", run.command],
    });
  } catch (error) {
    // A concurrent attempt started it a moment ago: waiting for that one below is right.
    if (error instanceof PodmanError && error.kind === "already_exists") return;
    if (error instanceof PodmanError && error.kind === "not_found" && error.resource === "image") {
      throw userFailure(
        `The image of deployment #${deployment.number} is no longer on this host. Deploy again, then run the command.`,
      );
    }
    throw error;
  }
  deps.log.info({ runId: run.id, container: name }, "run container started");
}

export async function executeRun(deps: RunDeps, runId: string): Promise<void> {
  const run = await claimRun(deps, runId);
  if (!run) return;
  const { podman } = deps;
  const name = runContainerName(run.id);
  const file = runLogPath(deps.dataDir, run.id);
  if (run.cancelRequestedAt) {
    await stopAndRecord(deps, run, name, file, { status: "cancelled", reason: "Cancelled." });
    return;
  }
  if ((await podman.inspectContainer(name)) === null) await startContainer(deps, run, name);
  const startedAt = (run.startedAt ?? new Date(deps.now())).getTime();
  const deadline = startedAt + run.timeoutSeconds * 1000;
  const pollMs = deps.pollMs ?? RUN_POLL_MS;
  for (;;) {
    const remaining = deadline - deps.now();
    if (remaining <= 0) {
      await stopAndRecord(deps, run, name, file, {
        status: "timed_out",
        reason: `The command did not finish within ${run.timeoutSeconds} seconds and was stopped.`,
      });
      return;
    }
    let exitCode: number;
    try {
      exitCode = await podman.wait(name, { timeoutMs: Math.max(1, Math.min(pollMs, remaining)) });
    } catch (error) {
      if (!isTimeout(error)) throw error;
      await copyOutput(deps, name, file);
      const fresh = await deps.db.run.findUnique({ where: { id: run.id }, select: { cancelRequestedAt: true } });
      if (fresh?.cancelRequestedAt) {
        await stopAndRecord(deps, run, name, file, { status: "cancelled", reason: "Cancelled while running." });
        return;
      }
      continue;
    }
    await copyOutput(deps, name, file);
    await finishRun(
      deps.db,
      run,
      exitCode === 0
        ? { status: "succeeded", exitCode }
        : { status: "failed", exitCode, reason: `The command exited with code ${exitCode}.` },
    );
    await podman.remove(name);
    deps.log.info({ runId: run.id, container: name, exitCode }, "run finished");
    return;
  }
}

/** A run still queued after this long lost its job (its enqueue was rolled back with a crash, or it was removed). */
export const RUN_QUEUED_LIMIT_MS = 60 * 60_000;

/**
 * Runs past their time limit, for lib/engine/expire.ts: running ones past their own timeout plus `marginMs` (a worker
 * killed mid-run leaves its job locked for hours), queued ones past RUN_QUEUED_LIMIT_MS plus the margin. They end
 * timed_out or failed with a reason, their operations fail, and their containers are then orphans to the reconcile
 * pass. Two statements whatever their number.
 */
export async function expireRuns(db: Db, now: Date, marginMs: number): Promise<string[]> {
  const limitReason = "The run was interrupted and did not finish within its time limit.";
  const queuedReason = "The run did not start within its time limit. Try it again.";
  const ended = await db.$queryRaw<{ id: string; operationId: string | null; reason: string }[]>`
    UPDATE "Run"
       SET status = CASE WHEN status = 'running' THEN 'timed_out'::"RunStatus" ELSE 'failed'::"RunStatus" END,
           reason = CASE WHEN status = 'running' THEN ${limitReason} ELSE ${queuedReason} END,
           "finishedAt" = ${now}
     WHERE (status = 'running'
            AND "startedAt" + make_interval(secs => "timeoutSeconds") < ${new Date(now.getTime() - marginMs)})
        OR (status = 'queued' AND "queuedAt" < ${new Date(now.getTime() - marginMs - RUN_QUEUED_LIMIT_MS)})
    RETURNING id::text AS id, "operationId"::text AS "operationId", reason`;
  const operations = ended.flatMap((row) => (row.operationId ? [{ id: row.operationId, reason: row.reason }] : []));
  if (operations.length > 0) {
    await db.$executeRaw`
      UPDATE "Operation" AS o
         SET status = 'failed', error = v.reason, "finishedAt" = ${now}, "updatedAt" = ${now}
        FROM unnest(${operations.map((row) => row.id)}::uuid[], ${operations.map((row) => row.reason)}::text[])
             AS v(id, reason)
       WHERE o.id = v.id AND o.status IN ('queued', 'running')`;
  }
  return ended.map((row) => row.id);
}
