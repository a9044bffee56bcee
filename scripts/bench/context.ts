// What every metric shares: the run's temporary directory, its own embedded PostgreSQL (never the user's data),
// a clean-up stack that also runs on Ctrl-C, progress lines on stderr (stdout carries only the table or the JSON),
// and the environment switch for in-process platform code.
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pino, { type Logger } from "pino";
import { type EmbeddedPostgresHandle, startEmbeddedPostgres } from "@/lib/database/embedded";
import { migrateAll } from "@/lib/database/migrate";
import { createPrismaClient, type Db } from "@/lib/db";
import { resetEnvForTests } from "@/lib/env";
import { resetInfraForTests } from "@/lib/services/infra";

export const execFileAsync = promisify(execFile);

export type BenchOptions = { quick: boolean };

type Cleanup = { label: string; run: () => Promise<void> };

export class BenchContext {
  readonly options: BenchOptions;
  /** Everything the run writes lives under here and goes at the end. */
  readonly root: string;
  /** process.env as the user started the bench, for children that must not see the in-process switches. */
  readonly originalEnv: NodeJS.ProcessEnv;
  readonly log: Logger;
  private readonly cleanups: Cleanup[] = [];
  private database: Promise<{ url: string; db: Db }> | null = null;

  private constructor(options: BenchOptions, root: string, originalEnv: NodeJS.ProcessEnv) {
    this.options = options;
    this.root = root;
    this.originalEnv = originalEnv;
    // The platform code logs through pino; the bench's own output is the progress lines below.
    this.log = pino({ level: "silent" });
  }

  static async create(options: BenchOptions, originalEnv: NodeJS.ProcessEnv): Promise<BenchContext> {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-bench-"));
    // Started as root, PostgreSQL runs as the postgres user, which must be able to enter this directory.
    await fs.chmod(root, 0o711);
    const context = new BenchContext(options, root, originalEnv);
    context.defer("temporary directory", () => fs.rm(root, { recursive: true, force: true }));
    return context;
  }

  progress(text: string): void {
    process.stderr.write(`[bench] ${text}\n`);
  }

  /** Registers a clean-up step; they run last-in first-out, each on its own so one failure does not skip the rest. */
  defer(label: string, run: () => Promise<void>): void {
    this.cleanups.push({ label, run });
  }

  async cleanup(): Promise<void> {
    while (this.cleanups.length > 0) {
      const step = this.cleanups.pop();
      if (!step) break;
      try {
        await step.run();
      } catch (error) {
        this.progress(`clean-up of ${step.label} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  async dir(name: string): Promise<string> {
    const dir = path.join(this.root, name);
    await fs.mkdir(dir, { recursive: true, mode: 0o711 });
    return dir;
  }

  /**
   * The run's own PostgreSQL, migrated, with default durability settings: the platform runs with them, and job
   * pickup includes a commit's fsync. Started once, on first use.
   */
  benchDatabase(): Promise<{ url: string; db: Db }> {
    this.database ??= (async () => {
      this.progress("starting the bench's embedded PostgreSQL");
      const dataDir = await this.dir("bench-data");
      const server: EmbeddedPostgresHandle = await startEmbeddedPostgres({
        dataDir,
        directory: path.join(dataDir, "postgres"),
        log: this.log,
      });
      this.defer("bench PostgreSQL", () => server.stop());
      await migrateAll(server.url, this.log);
      const db = createPrismaClient(server.url, 10);
      this.defer("bench Prisma client", () => db.$disconnect());
      return { url: server.url, db };
    })();
    return this.database;
  }

  /**
   * Points the in-process platform code (getEnv, getInfra) at another configuration. They cache what they read, so
   * each metric sets what it needs and the caches are dropped.
   */
  switchEnv(values: Record<string, string | undefined>): void {
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    resetEnvForTests();
    resetInfraForTests();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns a value, or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | null | undefined>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await sleep(intervalMs);
  }
}
