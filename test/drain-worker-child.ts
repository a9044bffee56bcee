// Test-only: a real worker process (jobs/runner.ts) with one task that never finishes, stopped on SIGTERM the way
// jobs/worker.ts stops it (worker.stop with a drain time, then exit). Used by jobs/worker-drain.test.ts; argv[2] is
// the drain time in milliseconds. It prints "started <jobId>" when the task runs, so the test knows when to signal.
import pino from "pino";
import { startWorker } from "@/jobs/runner";
import { disconnectDb, getDb } from "@/lib/db";
import { getEnv } from "@/lib/env";

async function main(): Promise<void> {
  const drainMs = Number(process.argv[2]);
  // Installed first: the task may start before startWorker resolves, and the test signals as soon as it does.
  let stop: ((drainMs: number) => Promise<{ handedBack: string[] }>) | undefined;
  const stopped = new Promise<{ handedBack: string[] }>((resolve) => {
    process.once("SIGTERM", () => {
      const attempt = () => (stop ? resolve(stop(drainMs)) : setTimeout(attempt, 10));
      attempt();
    });
  });
  void stopped.then(async ({ handedBack }) => {
    process.stdout.write(`handed back ${handedBack.join(",")}\n`);
    await disconnectDb();
    process.exit(0);
  });
  const worker = await startWorker({
    connectionString: getEnv().databaseDirectUrl ?? "",
    db: getDb(),
    log: pino({ level: "silent" }),
    concurrency: 1,
    pollInterval: 100,
    // An hour: the job must come back through the hand-back, not because a later worker finds this one stale.
    staleAfterMs: 3_600_000,
    extraTasks: {
      test__block: async (_payload, helpers) => {
        process.stdout.write(`started ${helpers.job.id}\n`);
        await new Promise<never>(() => undefined);
      },
    },
  });
  stop = (ms) => worker.stop({ drainMs: ms });
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
