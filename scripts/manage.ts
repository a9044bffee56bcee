// `npm run manage -- <command> [options]`: what Django's manage.py is to Django. `--json` gives machine-readable
// output on stdout; human-readable text otherwise. Exit code 0 on success.
import path from "node:path";
import { parseArgs } from "node:util";
import { runPlanCommand } from "@/lib/build/plan-command";
import { type CheckReport, runChecks } from "@/lib/checks/check";
import { identityCommands } from "@/lib/cli/identity-commands";
import { migrateAll, migrationStatus } from "@/lib/database/migrate";
import { createPrismaClient } from "@/lib/db";
import { ConfigError, defaultPythonVersion, loadEnvOrExit } from "@/lib/env";
import { logger } from "@/lib/logger";
import { openPlatformDatabase } from "@/lib/services/database";
import { backupPlatform, restorePlatform } from "@/lib/services/platform-backup";
import { migrateSecrets } from "@/lib/services/secrets-migration";

type Io = { out(text: string): void; err(text: string): void };

type Command = {
  summary: string;
  usage: string;
  run(args: string[], io: Io): Promise<number>;
};

const log = logger({ component: "manage" });

const OPTIONS = {
  json: { type: "boolean", default: false },
  "no-ping": { type: "boolean", default: false },
  "with-logs": { type: "boolean", default: false },
  force: { type: "boolean", default: false },
} as const;

function parse(args: string[]) {
  return parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
}

function printJson(io: Io, value: unknown): void {
  io.out(`${JSON.stringify(value, null, 2)}\n`);
}

const SYMBOL = { ok: "✓", warn: "!", error: "✗" } as const;

function formatReport(report: CheckReport): string {
  const lines: string[] = [];
  for (const section of report.sections) {
    lines.push(section.name);
    for (const check of section.checks) lines.push(`  ${SYMBOL[check.status]} ${check.name}: ${check.message}`);
  }
  lines.push(report.ok ? "\nReady." : "\nNot ready: fix the items marked ✗.");
  return `${lines.join("\n")}\n`;
}

const commands: Record<string, Command> = {
  migrate: {
    summary: "Apply pending database migrations (also done by `npm start`)",
    usage: "migrate [--json]",
    async run(args, io) {
      const { values } = parse(args);
      const env = loadEnvOrExit();
      const database = await openPlatformDatabase(env, log, { attachIfRunning: true });
      try {
        const { applied } = await migrateAll(database.directUrl, log);
        await migrateSecrets(database.directUrl, log);
        const status = await migrationStatus(database.directUrl);
        if (values.json) printJson(io, { applied, total: status.applied.length });
        else
          io.out(applied.length ? `Applied ${applied.join(", ")}\n` : "Nothing to apply: the schema is up to date.\n");
        return 0;
      } finally {
        await database.stop();
      }
    },
  },
  check: {
    summary: "Report whether configuration, database, worker and host are ready",
    usage: "check [--json] [--no-ping]",
    async run(args, io) {
      const { values } = parse(args);
      const env = loadEnvOrExit();
      const database = await openPlatformDatabase(env, log, { attachIfRunning: true });
      const db = createPrismaClient(database.url, 2);
      try {
        const report = await runChecks({ env, db, databaseUrl: database.directUrl, pingWorker: !values["no-ping"] });
        if (values.json) printJson(io, report);
        else io.out(formatReport(report));
        return report.ok ? 0 : 1;
      } finally {
        await db.$disconnect();
        await database.stop();
      }
    },
  },
  plan: {
    summary: "Print the build plan Tussilago would use for a source directory",
    usage: "plan <dir> [--json]",
    async run(args, io) {
      const { values, positionals } = parse(args);
      const [dir] = positionals;
      if (!dir || positionals.length !== 1) {
        io.err("usage: npm run manage -- plan <dir> [--json]\n");
        return 2;
      }
      const result = await runPlanCommand(dir, {
        json: Boolean(values.json),
        defaultPythonVersion: defaultPythonVersion(),
      });
      if (result.stdout) io.out(result.stdout);
      if (result.stderr) io.err(result.stderr);
      return result.exitCode;
    },
  },
  backup: {
    summary: "Back up the platform database and the data files a restore needs into one archive",
    usage: "backup <file> [--with-logs] [--json]",
    async run(args, io) {
      const { values, positionals } = parse(args);
      const [file] = positionals;
      if (!file || positionals.length !== 1) {
        io.err("usage: npm run manage -- backup <file> [--with-logs] [--json]\n");
        return 2;
      }
      const env = loadEnvOrExit();
      const database = await openPlatformDatabase(env, log, { attachIfRunning: true });
      try {
        const result = await backupPlatform({
          dataDir: env.dataDir,
          secretKey: env.secretKey,
          databaseUrl: database.directUrl,
          file: path.resolve(file),
          withLogs: values["with-logs"],
          log,
        });
        if (values.json) printJson(io, result);
        else
          io.out(
            `Wrote ${path.resolve(file)} (${result.bytes} bytes, schema ${result.manifest.migration ?? "empty"}, ` +
              `data: ${result.manifest.data.join(", ") || "none"}).\nKeep TUSSILAGO_SECRET_KEY apart from it: a restore needs the same key.\n`,
          );
        return 0;
      } finally {
        await database.stop();
      }
    },
  },
  restore: {
    summary: "Restore a platform backup into a fresh data directory (see docs/operations.md)",
    usage: "restore <file> [--force] [--json]",
    async run(args, io) {
      const { values, positionals } = parse(args);
      const [file] = positionals;
      if (!file || positionals.length !== 1) {
        io.err("usage: npm run manage -- restore <file> [--force] [--json]\n");
        return 2;
      }
      const env = loadEnvOrExit();
      const database = await openPlatformDatabase(env, log, { attachIfRunning: true });
      try {
        if (database.embedded && !database.embedded.owned) {
          io.err("The platform is running with this data directory: stop it before restoring.\n");
          return 1;
        }
        const summary = await restorePlatform({
          dataDir: env.dataDir,
          secretKey: env.secretKey,
          databaseUrl: database.directUrl,
          file: path.resolve(file),
          force: values.force,
          log,
        });
        if (values.json) printJson(io, summary);
        else
          io.out(
            `Restored ${summary.tables} tables (${summary.rows} rows) from the backup of ${summary.manifest.createdAt}` +
              `${summary.migrated.length ? `, then applied ${summary.migrated.join(", ")}` : ""}.\n` +
              "Next: npm run manage -- check, then npm start. Tenant databases and Redis are not in this backup: " +
              "restore them from their own backups (docs/operations.md).\n",
          );
        return 0;
      } finally {
        await database.stop();
      }
    },
  },
  ...identityCommands,
};

function help(): string {
  const width = Math.max(...Object.values(commands).map((command) => command.usage.length));
  const rows = Object.values(commands).map((command) => `  ${command.usage.padEnd(width)}  ${command.summary}`);
  return `usage: npm run manage -- <command> [options]\n\ncommands:\n${rows.join("\n")}\n`;
}

export async function main(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    io.out(help());
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    io.err(`unknown command: ${name}\n\n${help()}`);
    return 2;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof ConfigError || (error instanceof TypeError && "code" in error)) {
      io.err(`${error.message}\n`);
      return 2;
    }
    log.error({ err: error }, `${name} failed`);
    io.err(`${name} failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

const io: Io = { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) };
main(process.argv.slice(2), io).then(
  (code) => process.exit(code),
  () => process.exit(1),
);
