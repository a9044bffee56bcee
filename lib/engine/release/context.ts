// What every step of the release engine shares: its dependencies (injected, so tests drive it with fakes), the
// deterministic container names, the timing constants, and small helpers (the deployment log, container output).
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import { z } from "zod";
import { deploymentLogPath } from "@/lib/data-paths";
import type { Db } from "@/lib/db";
import { hostNotReady } from "@/lib/engine/failure";
import { httpProbe, type Probe } from "@/lib/engine/health-probe";
import { type RoutingConfig, routingConfigFromEnv } from "@/lib/engine/routing";
import { getEnv } from "@/lib/env";
import type { App, Deployment } from "@/lib/generated/prisma/client";
import type { CaddyClient, RetryPolicy } from "@/lib/infra/caddy";
import type { ContainerHost } from "@/lib/infra/container-host";
import { CommandError } from "@/lib/infra/exec";
import { type Podman, PodmanError, toResourceName } from "@/lib/infra/podman";
import { getInfra, MissingExecutableError } from "@/lib/services/infra";

export type ReleaseDeps = {
  db: Db;
  /** Where replicas run: podman on this host today (the seam for more hosts, docs/scaling.md). */
  podman: ContainerHost;
  caddy: CaddyClient;
  routing: RoutingConfig;
  log: Logger;
  dataDir: string;
  /** How long draining replicas keep running after traffic left them, for requests in flight. */
  drainMs: number;
  healthTimeoutMs: number;
  releaseCommandTimeoutMs: number;
  caddyRetry: RetryPolicy;
  probe: Probe;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  /**
   * How long a non-web process must keep running after its start to count as up (it has no HTTP health check).
   * Default PROCESS_SETTLE_MS.
   */
  processSettleMs?: number;
  /** Called after each step; tests throw here to simulate a worker that died between two steps. */
  checkpoint?: (step: string) => Promise<void> | void;
};

export const PROBE_TIMEOUT_MS = 5_000;
// Health probing starts fast (an app that is up in 100 ms is switched to then, not a quarter second later) and
// doubles up to the max, so a slow app is not hammered (#19).
export const HEALTH_BACKOFF_BASE_MS = 25;
export const HEALTH_BACKOFF_MAX_MS = 5_000;
export const OUTPUT_TAIL_LINES = 20;
export const PROCESS_SETTLE_MS = 5_000;
export const RELEASE_OUTPUT_LINES = 2_000;
/** A bit more patient than the default: a deploy should survive Caddy restarting under it. */
export const CADDY_RELEASE_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 500, maxDelayMs: 8_000 };
export const CADDY_CLEANUP_RETRY: RetryPolicy = { attempts: 2, baseDelayMs: 250, maxDelayMs: 1_000 };

export const NO_PODMAN =
  "This host has no container engine (podman) set up, so apps cannot be started. An operator needs to run the host setup.";

export function teamNetworkName(teamId: string): string {
  return toResourceName(teamId);
}

/**
 * web keeps the names it always had (tsl-<app>-<number>-<index>), so rows from before process types stay right;
 * another type adds a tag: up to 8 of its letters and digits (readable in `podman ps`) and 4 hex digits of its
 * hash (so "my-worker" and "myworker" differ), within the 12 characters a name suffix may have.
 */
export function replicaContainerName(appId: string, deploymentNumber: number, index: number, process = "web"): string {
  if (process === "web") return toResourceName(appId, deploymentNumber, index);
  return toResourceName(appId, deploymentNumber, processTag(process), index);
}

export function processTag(process: string): string {
  const letters = process.replace(/[^a-z0-9]/g, "").slice(0, 8);
  return `${letters}${createHash("sha256").update(process).digest("hex").slice(0, 4)}`;
}

export function releaseContainerName(appId: string, deploymentNumber: number): string {
  return toResourceName(appId, deploymentNumber, "release");
}

export const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The worker's dependencies from configuration; a final AppError (hostNotReady) when this host has no podman. */
export function releaseDepsFromEnv(base: { db: Db; log: Logger }): ReleaseDeps {
  const env = getEnv();
  const infra = getInfra();
  let podman: Podman;
  try {
    podman = infra.podman();
  } catch (error) {
    if (error instanceof MissingExecutableError) throw hostNotReady(NO_PODMAN);
    throw error;
  }
  return {
    db: base.db,
    log: base.log,
    podman,
    caddy: infra.caddy(),
    routing: routingConfigFromEnv(env),
    dataDir: env.dataDir,
    drainMs: env.release.drainMs,
    healthTimeoutMs: env.release.healthTimeoutMs,
    releaseCommandTimeoutMs: env.release.releaseCommandTimeoutMs,
    caddyRetry: CADDY_RELEASE_RETRY,
    probe: httpProbe,
    sleep: defaultSleep,
    now: Date.now,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Small helpers

export type AppRow = App & { team: { slug: string } };

export type Spec = {
  app: AppRow;
  deployment: Deployment;
  image: string;
  network: string;
  env: Record<string, string>;
  /** The deployment plan's process types, web first when it has one. */
  types: string[];
};

export type Say = (text: string) => Promise<void>;

export const silent: Say = async () => undefined;

export async function step(deps: ReleaseDeps, name: string): Promise<void> {
  await deps.checkpoint?.(name);
}

export function deploymentSay(dataDir: string, deploymentId: string): Say {
  const file = deploymentLogPath(dataDir, deploymentId);
  return async (text) => {
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await fs.appendFile(file, text.endsWith("\n") ? text : `${text}\n`, { mode: 0o600 });
  };
}

export function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

/** The last lines a container printed (the tenant's own output, so safe to show the tenant). */
export async function outputOf(podman: ContainerHost, name: string, lines: number): Promise<string> {
  const logs = await podman.logs(name, { tail: lines }).catch(() => null);
  if (!logs) return "";
  const text = [logs.stdout, logs.stderr]
    .map((part) => part.trimEnd())
    .filter(Boolean)
    .join("\n");
  return text.split("\n").slice(-lines).join("\n");
}

export function withOutput(message: string, output: string): string {
  return output ? `${message} The end of its output:\n${output}` : message;
}

export function isTimeout(error: unknown): boolean {
  return error instanceof PodmanError && error.cause instanceof CommandError && error.cause.kind === "timeout";
}

export const planSchema = z.object({ release: z.string().nullable().optional() }).loose();

/** The plan's release command (which already includes the app's override at build time), else the app setting. */
export function releaseCommandOf(deployment: Deployment, app: App): string | null {
  const plan = planSchema.safeParse(deployment.plan);
  if (plan.success && plan.data.release !== undefined) return plan.data.release?.trim() || null;
  return app.releaseCommand?.trim() || null;
}

export async function loadApp(db: Db, appId: string): Promise<AppRow | null> {
  return await db.app.findUnique({ where: { id: appId }, include: { team: { select: { slug: true } } } });
}
