// Shared by the deploy metrics: a seeded team, the example's tarball as an upload, an in-process worker running the
// platform's own task list, and a tracker that times the build and release jobs and says when a deployment's
// operation finished, without polling the database in a loop.
import { randomBytes, randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { type Runner, run, type Task, type TaskList } from "graphile-worker";
import { buildTaskList } from "@/jobs/runner";
import { workerLogger } from "@/lib/database/migrate";
import type { Db } from "@/lib/db";
import { type Ctx, type RequestMeta, userContext } from "@/lib/domain/context";
import { createTeam } from "@/lib/domain/teams";
import { createUpload } from "@/lib/domain/uploads";
import { createUser } from "@/lib/domain/users";
import { type BenchContext, execFileAsync } from "@/scripts/bench/context";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const EXAMPLE_DIR = path.join(REPO_ROOT, "examples", "wsgi-stdlib");

export function benchMeta(): RequestMeta {
  return { requestId: randomUUID(), ip: "127.0.0.1", userAgent: "tussilago-bench" };
}

export type SeededTeam = { ctx: Ctx; teamId: string; slug: string; userId: string };

/** A user and a team through the domain functions, so the rows look like real ones (owner membership, audit). */
export async function seedTeam(db: Db, label: string): Promise<SeededTeam> {
  const suffix = randomBytes(4).toString("hex");
  const user = await createUser(db, { email: `bench-${label}-${suffix}@example.test`, name: `Bench ${label}` });
  const team = await createTeam(db, { userId: user.id, name: `Bench ${label}`, meta: benchMeta() });
  const ctx = await userContext(db, user.id, team.id, benchMeta());
  return { ctx, teamId: team.id, slug: team.slug, userId: user.id };
}

/** examples/wsgi-stdlib as a .tar.gz upload, the way `POST /api/v1/uploads` stores one. */
export async function uploadExample(context: BenchContext, db: Db, ctx: Ctx): Promise<string> {
  const dir = await context.dir("tarballs");
  const file = path.join(dir, `wsgi-stdlib-${randomBytes(4).toString("hex")}.tar.gz`);
  await execFileAsync("tar", ["-czf", file, "-C", EXAMPLE_DIR, "."]);
  const buffer = await fs.readFile(file);
  async function* body(): AsyncIterable<Uint8Array> {
    yield buffer;
  }
  const upload = await createUpload(db, ctx, body());
  return upload.id;
}

type TaskTiming = { startedAt: number; endedAt: number };

/** Times deployment__build and deployment__release per deployment, and wakes waiters when either ends. */
export class DeployTracker {
  private readonly timings = new Map<string, Map<string, TaskTiming>>();
  private wakers = new Set<() => void>();

  wrap(list: TaskList): TaskList {
    const wrapped: TaskList = { ...list };
    for (const name of ["deployment__build", "deployment__release"]) {
      const inner = list[name];
      if (!inner) continue;
      const task: Task = async (payload, helpers) => {
        const startedAt = performance.now();
        const deploymentId =
          typeof payload === "object" && payload !== null && "deploymentId" in payload
            ? String(payload.deploymentId)
            : "";
        try {
          await inner(payload, helpers);
        } finally {
          const perDeployment = this.timings.get(deploymentId) ?? new Map<string, TaskTiming>();
          perDeployment.set(name, { startedAt, endedAt: performance.now() });
          this.timings.set(deploymentId, perDeployment);
          const wakers = this.wakers;
          this.wakers = new Set();
          for (const wake of wakers) wake();
        }
      };
      wrapped[name] = task;
    }
    return wrapped;
  }

  timing(deploymentId: string, task: "deployment__build" | "deployment__release"): TaskTiming | undefined {
    return this.timings.get(deploymentId)?.get(task);
  }

  /** Resolves when a tracked task ends, or after `ms` at the latest (the caller then checks the database again). */
  nextEvent(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakers.delete(done);
        resolve();
      }, ms);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.wakers.add(done);
    });
  }

  /** Waits until the operation is finished; its status and the deployment's. */
  async waitForOperation(
    db: Db,
    operationId: string,
    deploymentId: string,
    timeoutMs: number,
  ): Promise<{ operation: string; deployment: string; error: string | null }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // Subscribed before the read: a task ending between the read and the wait must still wake us.
      const event = this.nextEvent(1_000);
      const operation = await db.operation.findUniqueOrThrow({ where: { id: operationId } });
      if (operation.status === "succeeded" || operation.status === "failed") {
        const deployment = await db.deployment.findUniqueOrThrow({ where: { id: deploymentId } });
        return { operation: operation.status, deployment: deployment.status, error: operation.error };
      }
      if (Date.now() > deadline) {
        throw new Error(`deployment ${deploymentId} did not finish within ${Math.round(timeoutMs / 1000)} s`);
      }
      await event;
    }
  }
}

/** graphile-worker in this process with the platform's task list (jobs/runner.ts), as the worker process runs it. */
export async function startBenchWorker(
  context: BenchContext,
  db: Db,
  url: string,
  tracker: DeployTracker,
): Promise<Runner> {
  const runner = await run({
    connectionString: url,
    concurrency: 4,
    noHandleSignals: true,
    pollInterval: 2_000,
    logger: workerLogger(context.log),
    taskList: tracker.wrap(buildTaskList({ db, log: context.log, workerId: `bench-${randomUUID()}` })),
  });
  return runner;
}
