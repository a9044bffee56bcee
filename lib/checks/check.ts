// `npm run manage -- check`: is this installation ready? Sections for configuration, the database, the worker and
// the host (disk, podman, the sandbox runtime, the base image, Caddy's admin API, the firewall; lib/checks/readiness.ts).
import fs from "node:fs/promises";
import { enqueue } from "@/jobs/enqueue";
import { baseImageFor } from "@/lib/build/containerfile";
import { backupStoreSection } from "@/lib/checks/backup-store-check";
import { pgToolsCheck } from "@/lib/checks/pg-tools-check";
import { podmanCveChecks } from "@/lib/checks/podman-cves";
import { defaultReachDeps, probeGitHosts, probeRegistry } from "@/lib/checks/reachability";
import { probeBaseImage, probeCaddy, probePodman, readinessDepsFromEnv } from "@/lib/checks/readiness";
import type { CheckReport, CheckResult, CheckSection } from "@/lib/checks/report";
import { tenantServicesSection } from "@/lib/checks/tenant-check";
import { migrationStatus } from "@/lib/database/migrate";
import type { Db } from "@/lib/db";
import { createOperation } from "@/lib/domain/operations";
import { defaultPythonVersion, type Env } from "@/lib/env";
import { WORKER_STALE_AFTER_MS } from "@/lib/health";
import { execFileExecutor } from "@/lib/infra/exec";
import { resolveExecutable } from "@/lib/services/infra";

export type { CheckReport, CheckResult, CheckSection, CheckStatus } from "@/lib/checks/report";

export type CheckDeps = {
  env: Env;
  db: Db;
  /** The direct database URL the platform uses. */
  databaseUrl: string;
  /** Whether to prove the worker by sending it a job and waiting for the answer. */
  pingWorker: boolean;
  pingTimeoutMs?: number;
};

const MIN_SECRET_LENGTH = 32;
const MIN_FREE_BYTES = 2 * 1024 ** 3;

async function configurationSection(env: Env): Promise<CheckSection> {
  const checks: CheckResult[] = [
    env.secretKey.length >= MIN_SECRET_LENGTH
      ? { name: "secret key", status: "ok", message: "TUSSILAGO_SECRET_KEY is set" }
      : {
          name: "secret key",
          status: "warn",
          message: `TUSSILAGO_SECRET_KEY is shorter than ${MIN_SECRET_LENGTH} characters; use 32 random bytes`,
        },
  ];
  try {
    await fs.access(env.dataDir, fs.constants.W_OK);
    checks.push({ name: "data directory", status: "ok", message: `${env.dataDir} is writable` });
  } catch {
    checks.push({ name: "data directory", status: "error", message: `${env.dataDir} is missing or not writable` });
  }
  checks.push({ name: "public URL", status: "ok", message: env.publicUrl });
  return { name: "configuration", checks };
}

async function databaseSection(db: Db, databaseUrl: string): Promise<CheckSection> {
  const checks: CheckResult[] = [];
  try {
    const [row] = await db.$queryRaw<{ version: string }[]>`SELECT current_setting('server_version') AS version`;
    checks.push({ name: "connection", status: "ok", message: `PostgreSQL ${row?.version ?? "?"} answers` });
  } catch (error) {
    checks.push({ name: "connection", status: "error", message: `cannot connect: ${(error as Error).message}` });
    return { name: "database", checks };
  }
  const status = await migrationStatus(databaseUrl);
  if (status.pending.length > 0) {
    checks.push({
      name: "migrations",
      status: "error",
      message: `${status.pending.length} pending (${status.pending.join(", ")}); run \`npm run manage -- migrate\``,
    });
  } else if (status.modified.length > 0) {
    checks.push({
      name: "migrations",
      status: "warn",
      message: `edited after being applied: ${status.modified.join(", ")}`,
    });
  } else {
    checks.push({ name: "migrations", status: "ok", message: `${status.applied.length} applied, none pending` });
  }
  if (status.unknown.length > 0) {
    checks.push({
      name: "migration history",
      status: "warn",
      message: `applied but not in this release: ${status.unknown.join(", ")} (is this an older release?)`,
    });
  }
  const [queue] = await db.$queryRaw<
    { present: boolean }[]
  >`SELECT to_regnamespace('graphile_worker') IS NOT NULL AS present`;
  checks.push(
    queue?.present
      ? { name: "job queue", status: "ok", message: "graphile-worker schema installed" }
      : {
          name: "job queue",
          status: "error",
          message: "graphile-worker schema missing; run `npm run manage -- migrate`",
        },
  );
  return { name: "database", checks };
}

async function workerSection(deps: CheckDeps): Promise<CheckSection> {
  const { db } = deps;
  const checks: CheckResult[] = [];
  const latest = await db.workerHeartbeat.findFirst({ orderBy: { beatAt: "desc" } });
  const ageMs = latest ? Date.now() - latest.beatAt.getTime() : null;
  if (ageMs === null || ageMs > WORKER_STALE_AFTER_MS) {
    checks.push({
      name: "heartbeat",
      status: "error",
      message:
        ageMs === null
          ? "no worker has ever reported; start the platform with `npm start`"
          : `the newest heartbeat is ${Math.round(ageMs / 1000)}s old; is the worker running?`,
    });
    return { name: "worker", checks };
  }
  checks.push({ name: "heartbeat", status: "ok", message: `last heartbeat ${Math.round(ageMs / 100) / 10}s ago` });
  if (!deps.pingWorker) return { name: "worker", checks };

  const started = Date.now();
  const operation = await db.$transaction(async (tx) => {
    const created = await createOperation(tx, { kind: "platform.ping" });
    await enqueue(tx, "platform__ping", { operationId: created.id });
    return created;
  });
  const deadline = started + (deps.pingTimeoutMs ?? 15_000);
  let delay = 25;
  while (Date.now() < deadline) {
    const current = await db.operation.findUnique({ where: { id: operation.id }, select: { status: true } });
    if (current?.status === "succeeded") {
      checks.push({ name: "job round trip", status: "ok", message: `a job ran in ${Date.now() - started} ms` });
      return { name: "worker", checks };
    }
    if (current?.status === "failed") break;
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 1_000);
  }
  checks.push({ name: "job round trip", status: "error", message: "the worker did not run a test job in time" });
  return { name: "worker", checks };
}

type HostCheck = (env: Env) => Promise<CheckResult>;

async function podmanCheck(env: Env): Promise<CheckResult[]> {
  const deps = readinessDepsFromEnv(env);
  const probe = await probePodman(deps);
  const results: CheckResult[] = [...probe.results];
  if (probe.podman && probe.info) {
    const podman = probe.podman;
    const image = baseImageFor(env.infra.pythonImage, defaultPythonVersion());
    results.push(await probeBaseImage(podman, image));
    results.push(await probeRegistry(defaultReachDeps, image, () => podman.imageExists(image)));
    // Root podman builds hostile Containerfiles: known build CVEs of this version, and what mitigates them here.
    results.push(...podmanCveChecks(probe.info.version));
  }
  results.push(await probeCaddy(deps));
  return results;
}

/**
 * The tenant data services the firewall's INPUT chain does not open (host setup writes their fixed ports to host.env
 * and opens exactly those). Only fixed ports (TENANT_PG_PORT, TENANT_REDIS_PORT, an embedded PgBouncer's
 * TENANT_PGBOUNCER_PORT) are checked.
 */
export function tenantPortsClosed(env: Env, inputRules: string | null): string[] {
  const wanted: [string, number | undefined][] = [
    ["the tenant PostgreSQL", env.tenantServices.pgPort],
    ["the tenant Redis", env.tenantServices.redisPort],
    [
      "the tenant PgBouncer",
      env.tenantServices.pgBouncerMode === "embedded" ? env.tenantServices.pgBouncerPort : undefined,
    ],
  ];
  const open = new Set(
    [...(inputRules ?? "").matchAll(/--dport (\d+)\b.*-j RETURN/g)].map((match) => Number(match[1])),
  );
  return wanted.flatMap(([name, port]) => (port !== undefined && !open.has(port) ? [name] : []));
}

async function firewallCheck(env: Env): Promise<CheckResult> {
  const chain = env.infra.firewallChain;
  if (chain === "none") {
    return {
      name: "firewall",
      status: "warn",
      message: "host setup ran with --no-firewall: tenant networks reach the host",
    };
  }
  try {
    const iptables = resolveExecutable("iptables");
    await execFileExecutor(iptables, ["-S", chain], { timeoutMs: 5_000 });
    const input = await execFileExecutor(iptables, ["-S", `${chain}-INPUT`], { timeoutMs: 5_000 }).catch(() => null);
    const closed = tenantPortsClosed(env, input?.stdout ?? null);
    if (closed.length > 0) {
      return {
        name: "firewall",
        status: "warn",
        message: `iptables chain ${chain} installed, but tenant networks cannot reach ${closed.join(" and ")}: run scripts/host-setup.sh again`,
      };
    }
    return { name: "firewall", status: "ok", message: `iptables chain ${chain} installed` };
  } catch {
    return {
      name: "firewall",
      status: "error",
      message: `iptables chain ${chain} is missing (or this user cannot read it): run scripts/host-setup.sh as root`,
    };
  }
}

/** Host readiness: what a deploy needs from this machine. */
export const HOST_CHECKS: HostCheck[] = [
  async (env) => {
    const stats = await fs.statfs(env.dataDir);
    const free = stats.bavail * stats.bsize;
    const gib = (free / 1024 ** 3).toFixed(1);
    return free >= MIN_FREE_BYTES
      ? { name: "disk space", status: "ok", message: `${gib} GiB free for platform data` }
      : { name: "disk space", status: "warn", message: `only ${gib} GiB free in ${env.dataDir}` };
  },
];

export async function hostChecks(env: Env): Promise<CheckResult[]> {
  const basics = await Promise.all(HOST_CHECKS.map((check) => check(env)));
  return [...basics, ...(await podmanCheck(env)), await firewallCheck(env), await pgToolsCheck(env)];
}

/** The git hosts the apps deploy from (the most recently changed apps first), each asked for DNS and TCP. */
async function gitHostsCheck(db: Db): Promise<CheckResult> {
  const apps = await db.app.findMany({
    where: { sourceType: "git", gitUrl: { not: null } },
    select: { gitUrl: true },
    orderBy: [{ updatedAt: "desc" }, { id: "asc" }],
    take: 500,
  });
  return await probeGitHosts(
    defaultReachDeps,
    apps.flatMap((app) => (app.gitUrl ? [app.gitUrl] : [])),
  );
}

export async function runChecks(deps: CheckDeps): Promise<CheckReport> {
  const sections = [await configurationSection(deps.env), await databaseSection(deps.db, deps.databaseUrl)];
  const databaseOk = sections[1]?.checks.every((check) => check.status !== "error") ?? false;
  if (databaseOk) sections.push(await workerSection(deps));
  const gitHosts = databaseOk ? [await gitHostsCheck(deps.db)] : [];
  sections.push({ name: "host", checks: [...(await hostChecks(deps.env)), ...gitHosts] });
  sections.push(await tenantServicesSection(deps.env));
  sections.push(await backupStoreSection(deps.env));
  const ok = sections.every((section) => section.checks.every((check) => check.status !== "error"));
  return { ok, sections };
}
