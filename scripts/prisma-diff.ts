// Runs `prisma migrate diff` offline against a throwaway embedded PostgreSQL (its wasm engine needs a server for
// the shadow database). Two uses:
//   npm run db:drift              fails when prisma/schema.prisma and prisma/migrations disagree
//   npm run db:migration -- NAME  writes prisma/migrations/<timestamp>_NAME/migration.sql from the difference
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { startEmbeddedPostgres, withDatabase } from "@/lib/database/embedded";

const require = createRequire(import.meta.url);
const log = pino({ level: process.env.LOG_LEVEL ?? "warn" });

function prisma(args: string[], databaseUrl: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [require.resolve("prisma/build/index.js"), ...args],
      {
        timeout: 180_000,
        maxBuffer: 16 * 1024 * 1024,
        env: {
          ...process.env,
          PRISMA_CLI_DATABASE_URL: databaseUrl,
          DATABASE_URL: databaseUrl,
          CHECKPOINT_DISABLE: "1",
        },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function main(): Promise<number> {
  const [mode, name] = process.argv.slice(2);
  if (mode !== "--check" && mode !== "--create") {
    process.stderr.write("usage: prisma-diff.ts --check | --create NAME\n");
    return 2;
  }
  if (mode === "--create" && !/^[a-z0-9_]+$/.test(name ?? "")) {
    process.stderr.write("the migration name must match ^[a-z0-9_]+$\n");
    return 2;
  }
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-prisma-"));
  await fs.chmod(scratch, 0o755);
  const server = await startEmbeddedPostgres({
    dataDir: scratch,
    directory: path.join(scratch, "pg"),
    log,
    settings: { fsync: "off", synchronous_commit: "off", full_page_writes: "off" },
  });
  try {
    const url = withDatabase(server.url, "postgres");
    const migrationsDir = path.join("prisma", "migrations");
    const hasMigrations = await fs
      .readdir(migrationsDir)
      .then((entries) => entries.length > 0)
      .catch(() => false);
    const from = hasMigrations ? ["--from-migrations", migrationsDir] : ["--from-empty"];
    const base = ["migrate", "diff", ...from, "--to-schema-datamodel", path.join("prisma", "schema.prisma")];
    if (mode === "--check") {
      const result = await prisma([...base, "--exit-code"], url);
      if (result.code === 0) {
        process.stdout.write("prisma/migrations matches prisma/schema.prisma\n");
        return 0;
      }
      process.stderr.write(`${result.stdout}${result.stderr}\n`);
      process.stderr.write(
        result.code === 2
          ? "Drift: prisma/schema.prisma differs from prisma/migrations. Run `npm run db:migration -- <name>`.\n"
          : "prisma migrate diff failed.\n",
      );
      return 1;
    }
    const result = await prisma([...base, "--script"], url);
    if (result.code !== 0) {
      process.stderr.write(`${result.stdout}${result.stderr}\n`);
      return 1;
    }
    if (/^-- This is an empty migration\.\s*$/.test(result.stdout.trim()) || result.stdout.trim() === "") {
      process.stdout.write("No changes: the schema matches the migrations.\n");
      return 0;
    }
    const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
    const dir = path.join(migrationsDir, `${stamp}_${name}`);
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, "migration.sql"), result.stdout);
    process.stdout.write(`wrote ${path.join(dir, "migration.sql")}\n`);
    return 0;
  } finally {
    await server.stop();
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    log.error({ err: error }, "prisma-diff failed");
    process.exit(1);
  },
);
