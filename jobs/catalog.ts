// The job catalog: every task's name, payload schema, attempt budget and queue, and nothing else. What a job DOES
// lives in jobs/tasks/<name>.ts, which builds its task from the entry here (defineTask in jobs/define.ts); only the
// runner (jobs/runner.ts, jobs/worker.ts) loads those. Keeping the definition apart from the handler is what lets the
// web side (the domain, jobs/enqueue.ts) enqueue typed, validated jobs without importing the worker's code: when
// enqueue read the task registry, every task, the engine and the domain formed one import cycle, which left a
// constant uninitialised once and put all the worker code into the web bundle.
//
// A leaf module: it imports zod and nothing of the app (.dependency-cruiser.cjs enforces it).
import { z } from "zod";

/** The lifecycle actions an app__lifecycle job can carry (lib/domain/lifecycle.ts requests them). */
export const LIFECYCLE_ACTIONS = ["start", "stop", "restart", "rollback", "scale"] as const;
export type LifecycleAction = (typeof LIFECYCLE_ACTIONS)[number];

export type CatalogEntry<Name extends string = string, Schema extends z.ZodType = z.ZodType> = {
  name: Name;
  payload: Schema;
  /** Explicit on every task: graphile-worker retries with exponential backoff until this many attempts. */
  maxAttempts: number;
  /** Jobs in one queue run one at a time (e.g. every Caddy write). A caller may override it per job (enqueue). */
  queue?: string;
};

type Entries = Record<string, Omit<CatalogEntry, "name">>;

/** Names each entry after its key and checks the rules every task follows, when the module loads. */
function defineCatalog<const T extends Entries>(
  entries: T,
): { [Name in keyof T & string]: CatalogEntry<Name, T[Name]["payload"]> } {
  const named: Record<string, CatalogEntry> = {};
  for (const [name, entry] of Object.entries(entries)) {
    if (!/^[a-z][a-z0-9_]*__[a-z][a-z0-9_]*$/.test(name))
      throw new Error(`task name ${name} must look like entity__verb`);
    if (!Number.isInteger(entry.maxAttempts) || entry.maxAttempts < 1) {
      throw new Error(`task ${name} needs an explicit maxAttempts >= 1`);
    }
    named[name] = { ...entry, name };
  }
  return named as { [Name in keyof T & string]: CatalogEntry<Name, T[Name]["payload"]> };
}

// Cron jobs carry graphile-worker's `_cron` descriptor and nothing else.
const cronPayload = z.object({ _cron: z.object({ ts: z.string(), backfilled: z.boolean().optional() }).optional() });

export const catalog = defineCatalog({
  app__collect_logs: {
    payload: z.strictObject({ appId: z.uuid() }),
    // The next poll asks again: a retry would only fetch what that one fetches anyway.
    maxAttempts: 1,
  },
  app__delete: { payload: z.strictObject({ operationId: z.uuid(), appId: z.uuid() }), maxAttempts: 10 },
  app__lifecycle: {
    payload: z.strictObject({
      operationId: z.uuid(),
      appId: z.uuid(),
      action: z.enum(LIFECYCLE_ACTIONS),
      deploymentId: z.uuid().optional(),
    }),
    maxAttempts: 3,
  },
  backup__run: {
    payload: z.strictObject({ backupId: z.uuid(), operationId: z.uuid() }),
    // Each attempt dumps again from the start (a finished backup is a no-op); e^1..e^4 s of backoff ride out a tenant
    // server restart or a store hiccup. On give-up the backup is failed with the reason.
    maxAttempts: 5,
  },
  backup__restore: {
    payload: z.strictObject({
      backupId: z.uuid(),
      operationId: z.uuid(),
      databaseId: z.uuid(),
      safetyBackupId: z.uuid().optional(),
    }),
    // A restore into a new database waits for its provisioning by retrying: ten attempts span about six hours of
    // backoff. Each step is idempotent (the safety backup is a no-op once finished; a replace restore starts over).
    maxAttempts: 10,
  },
  backup__delete: { payload: z.strictObject({ backupId: z.uuid(), operationId: z.uuid() }), maxAttempts: 8 },
  backup__schedule: {
    payload: cronPayload,
    // The next minute's pass does whatever this one did not.
    maxAttempts: 1,
  },
  caddy__sync: {
    queue: "caddy",
    payload: z.strictObject({ operationId: z.uuid().optional() }),
    // graphile-worker waits e^attempt seconds between attempts: ten span a few hours, time for an operator to bring
    // a stopped Caddy back. Each attempt also retries the load itself with a short backoff (applyCaddyConfig).
    maxAttempts: 10,
  },
  deployment__build: { payload: z.strictObject({ deploymentId: z.uuid(), operationId: z.uuid() }), maxAttempts: 3 },
  deployment__release: {
    payload: z.strictObject({ deploymentId: z.uuid(), operationId: z.uuid() }),
    // Each attempt resumes where the last one stopped. Eight: graphile-worker's waits between them (e^1..e^7 s) add
    // up to about half an hour, which a Caddy outage (down or restarting) is ridden out for with the new containers
    // up and traffic on the previous release (lib/engine/release/switch.ts); they also cover a worker restart and a
    // podman hiccup. lib/engine/expire.ts sizes the releasing time limit from this.
    maxAttempts: 8,
  },
  domain__check: {
    payload: z.strictObject({ domainId: z.uuid() }),
    // Only DNS failures retry (SERVFAIL, timeouts): e^attempt seconds apart, four attempts span about a minute and a
    // half; past that the next scheduled check (domain__schedule_checks) tries again anyway.
    maxAttempts: 4,
  },
  domain__schedule_checks: { payload: cronPayload, maxAttempts: 2 },
  domain__check_tls: {
    payload: z.strictObject({ domainId: z.uuid() }),
    // Only an unreachable Caddy retries: e^attempt seconds apart, three attempts span about half a minute; past that
    // the next scheduled check (domain__schedule_tls_checks) looks again.
    maxAttempts: 3,
  },
  domain__schedule_tls_checks: { payload: cronPayload, maxAttempts: 2 },
  email__send: { payload: z.strictObject({ emailId: z.uuid() }), maxAttempts: 8 },
  instance__usage: {
    // The crontab's runs and the admin page's refresh carry nothing: the job measures the whole instance. A failed
    // run is measured again by the next one a quarter of an hour later, so one retry is enough.
    payload: cronPayload,
    maxAttempts: 2,
  },
  metrics__rollup: {
    queue: "metrics",
    // Each run recomputes the last hour's buckets at least: a retry or the next run covers a failed one.
    payload: cronPayload,
    maxAttempts: 2,
  },
  metrics__sample: {
    queue: "metrics",
    // From the crontab each minute (offset 0), which queues the passes at 15, 30 and 45 s; those queue nothing.
    payload: cronPayload.extend({ offset: z.union([z.literal(15), z.literal(30), z.literal(45)]).optional() }),
    // The next pass is 15 s away and reads from the saved position: a retry would only race it.
    maxAttempts: 1,
  },
  notification__deliver: {
    payload: z.strictObject({ deliveryId: z.uuid() }),
    // 5xx answers, timeouts and refused connections retry; graphile-worker waits e^attempt seconds between
    // attempts, so eight span about half an hour (e^1..e^7 s) and then the delivery is marked failed. A 4xx is final.
    maxAttempts: 8,
  },
  platform__check: {
    payload: z.strictObject({ operationId: z.uuid() }),
    // The checks report failures instead of throwing; a second attempt covers a worker restart.
    maxAttempts: 2,
  },
  platform__ping: { payload: z.strictObject({ operationId: z.uuid() }), maxAttempts: 3 },
  platform__prune: { payload: cronPayload, maxAttempts: 3 },
  platform__crash_watch: {
    queue: "platform-crash-watch",
    // From the crontab each minute; that run queues the half-minute one (followUp), which queues nothing.
    payload: cronPayload.extend({ followUp: z.boolean().optional() }),
    // The next pass is at most half a minute away: a retry would only race it.
    maxAttempts: 1,
  },
  platform__reconcile: {
    queue: "platform-reconcile",
    payload: cronPayload,
    // The next scheduled run comes in a few minutes anyway.
    maxAttempts: 2,
  },
  cron__schedule: {
    payload: cronPayload,
    // The next minute's pass picks up whatever this one did not (each job's ticks are claimed in their own
    // transaction): retrying a failed pass would only race it.
    maxAttempts: 1,
  },
  redis__export: {
    payload: z.strictObject({ backupId: z.uuid(), operationId: z.uuid() }),
    maxAttempts: 5,
  },
  redis__import: {
    payload: z.strictObject({
      backupId: z.uuid(),
      redisId: z.uuid(),
      operationId: z.uuid(),
      mode: z.enum(["merge", "replace"]),
    }),
    maxAttempts: 5,
  },
  run__execute: {
    payload: z.strictObject({ runId: z.uuid() }),
    // A retry adopts the container the earlier attempt started (deterministic name), never a second one; e^1 + e^2
    // seconds of backoff cover a worker restart or a podman hiccup. On give-up the run is failed with a reason.
    maxAttempts: 3,
  },
  team__delete: { payload: z.strictObject({ operationId: z.uuid(), teamId: z.uuid() }), maxAttempts: 10 },
  tenant_db__apply_limits: {
    payload: z.strictObject({ databaseId: z.uuid(), operationId: z.uuid() }),
    maxAttempts: 8,
    queue: "tenant_db",
  },
  tenant_db__deprovision: {
    payload: z.strictObject({ databaseId: z.uuid(), operationId: z.uuid() }),
    maxAttempts: 10,
    queue: "tenant_db",
  },
  tenant_db__provision: {
    payload: z.strictObject({ databaseId: z.uuid(), operationId: z.uuid() }),
    // About half an hour of backoff: long enough to ride out a restart of the tenant server.
    maxAttempts: 8,
    // One tenant_db job at a time: a deprovision never runs while a provision of the same database is mid-step.
    queue: "tenant_db",
  },
  tenant_db__rotate: {
    payload: z.strictObject({ databaseId: z.uuid(), operationId: z.uuid() }),
    maxAttempts: 8,
    queue: "tenant_db",
  },
  tenant_redis__deprovision: {
    payload: z.strictObject({ redisId: z.uuid(), operationId: z.uuid() }),
    maxAttempts: 10,
    queue: "tenant_redis",
  },
  tenant_redis__provision: {
    payload: z.strictObject({ redisId: z.uuid(), operationId: z.uuid() }),
    // About half an hour of backoff: long enough to ride out a restart of the tenant server.
    maxAttempts: 8,
    // One tenant_redis job at a time: a deprovision never races a provision of the same user.
    queue: "tenant_redis",
  },
  tenant_redis__rotate: {
    payload: z.strictObject({ redisId: z.uuid(), operationId: z.uuid() }),
    maxAttempts: 8,
    queue: "tenant_redis",
  },
  tenant_services__sweep: { payload: cronPayload, maxAttempts: 3 },
});

export type Catalog = typeof catalog;
export type TaskName = keyof Catalog;
/** A task's payload after validation, as its run() receives it. */
export type TaskPayload<Name extends TaskName> = z.output<Catalog[Name]["payload"]>;
