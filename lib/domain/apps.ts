// Apps: create, list, show, change settings, delete (asynchronous). Names are DNS labels, unique per team.
import { enqueue, requestRoutingSync } from "@/jobs/enqueue";
import { appQueue } from "@/jobs/queues";
import { validateGitRef, validateGitUrl } from "@/lib/build/source-git/url-policy";
import type { Db } from "@/lib/db";
import { type AppSettingsInput, appName, appSettings, storedProcessCommands } from "@/lib/domain/app-rules";
import { recordAudit } from "@/lib/domain/audit";
import { authorize, type Ctx } from "@/lib/domain/context";
import { createOperation } from "@/lib/domain/operations";
import { afterCursor, type Page, type PageInput, toPage } from "@/lib/domain/pagination";
import {
  desiredCounts,
  hasWeb,
  type ProcessView,
  processesView,
  processTypesOf,
  replicaSummaries,
} from "@/lib/domain/processes";
import { enforceAppQuota, enforceProcessQuota } from "@/lib/domain/quotas";
import { isPlainLine } from "@/lib/domain/text";
import { getEnv } from "@/lib/env";
import { AppError } from "@/lib/errors";
import { type App, type Operation, Prisma } from "@/lib/generated/prisma/client";
import { type IssueLike, issueSentence } from "@/lib/issue-messages";

export type AppView = {
  id: string;
  name: string;
  status: App["status"];
  /** null for an app whose release has no web process (workers only): nothing is routed to it. */
  url: string | null;
  replicas: number;
  /** Per process type of the current release (GET of one app and the list only; see withProcesses). */
  processes?: Record<string, ProcessView>;
  currentDeploymentId: string | null;
  source: { type: "git"; url: string; ref: string; autoDeploy: boolean } | { type: "upload" } | null;
  settings: {
    subdirectory: string | null;
    pythonVersion: string | null;
    installCommand: string | null;
    webCommand: string | null;
    releaseCommand: string | null;
    djangoSetup: boolean;
    memoryMb: number;
    cpuMillis: number;
    healthCheckPath: string;
    processes: Record<string, string> | null;
  };
  createdAt: Date;
  updatedAt: Date;
};

export function appHostname(appNameValue: string, teamSlug: string): string {
  return `${appNameValue}-${teamSlug}.${getEnv().appsDomain}`;
}

export function appView(app: App, teamSlug: string): AppView {
  return {
    id: app.id,
    name: app.name,
    status: app.status,
    url: hasWeb(app) ? `http://${appHostname(app.name, teamSlug)}` : null,
    replicas: app.replicas,
    currentDeploymentId: app.currentDeploymentId,
    source:
      app.sourceType === "git" && app.gitUrl
        ? { type: "git", url: app.gitUrl, ref: app.gitRef ?? "main", autoDeploy: app.autoDeploy }
        : app.sourceType === "upload"
          ? { type: "upload" }
          : null,
    settings: {
      subdirectory: app.subdirectory,
      pythonVersion: app.pythonVersion,
      installCommand: app.installCommand,
      webCommand: app.webCommand,
      releaseCommand: app.releaseCommand,
      djangoSetup: app.djangoSetup,
      memoryMb: app.memoryMb,
      cpuMillis: app.cpuMillis,
      healthCheckPath: app.healthCheckPath,
      processes: app.processCommands === null ? null : storedProcessCommands(app.processCommands),
    },
    createdAt: app.createdAt,
    updatedAt: app.updatedAt,
  };
}

/** autoDeploy: pushes to ref arriving through the app's webhook deploy (unchanged when omitted). */
export type GitSourceInput = { url: string; ref?: string | undefined; autoDeploy?: boolean | undefined };

function gitSource(source: GitSourceInput | null | undefined) {
  if (source === undefined) return {};
  if (source === null) return { sourceType: null, gitUrl: null, gitRef: null, autoDeploy: false };
  // The URL parser would percent-encode a lone surrogate or a control character into a "valid" URL: refuse them.
  if (!isPlainLine(source.url) || (source.ref !== undefined && !isPlainLine(source.ref))) {
    const message = "The git source must be one line of valid text, without control characters.";
    throw new AppError("invalid", message, { details: [{ path: "source", message }] });
  }
  try {
    const url = validateGitUrl(source.url, { allowPrivateHosts: getEnv().infra.gitAllowPrivateHosts }).toString();
    const ref = validateGitRef(source.ref ?? "main");
    return {
      sourceType: "git" as const,
      gitUrl: url,
      gitRef: ref,
      ...(source.autoDeploy === undefined ? {} : { autoDeploy: source.autoDeploy }),
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : "Invalid git source.";
    throw new AppError("invalid", message, { details: [{ path: "source", message }] });
  }
}

/** Domain functions validate too: the portal, the API and the CLI all reach them. */
function parseOrInvalid<T>(
  schema: {
    safeParse(
      value: unknown,
    ): { success: true; data: T } | { success: false; error: { issues: (IssueLike & { path: PropertyKey[] })[] } };
  },
  value: unknown,
  field: string,
): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues.map((issue) => ({
    path: [field, ...issue.path.map(String)].join("."),
    // In words for people (the portal shows it under the field; the API's clients read it too).
    message: issueSentence(issue),
  }));
  throw new AppError("invalid", details[0]?.message ?? `Invalid ${field}.`, { details });
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";
}

export async function createApp(
  db: Db,
  ctx: Ctx,
  input: { name: string; source?: GitSourceInput | null; settings?: AppSettingsInput },
): Promise<AppView> {
  authorize(ctx, "apps:write");
  const name = parseOrInvalid(appName, input.name, "name");
  const { processes, ...settings } = parseOrInvalid(appSettings, input.settings ?? {}, "settings");
  try {
    return await db.$transaction(async (tx) => {
      await enforceAppQuota(tx, ctx.teamId);
      // A new app runs its web replicas once deployed (web is all it has before a release).
      await enforceProcessQuota(tx, ctx.teamId, null, settings.replicas ?? 1);
      const app = await tx.app.create({
        data: {
          teamId: ctx.teamId,
          name,
          ...gitSource(input.source),
          ...settings,
          ...(processes ? { processCommands: processes } : {}),
        },
        include: { team: { select: { slug: true } } },
      });
      await recordAudit(tx, ctx, { action: "app.created", target: { type: "app", id: app.id }, metadata: { name } });
      return appView(app, app.team.slug);
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError("conflict", `An app named "${name}" already exists in this team.`);
    throw error;
  }
}

export async function listApps(db: Db, ctx: Ctx, page: PageInput): Promise<Page<AppView>> {
  authorize(ctx, "apps:read");
  const rows = await db.app.findMany({
    where: { teamId: ctx.teamId, ...afterCursor(page.cursor) },
    include: { team: { select: { slug: true } } },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: page.limit + 1,
  });
  const summaries = await replicaSummaries(
    db,
    rows.slice(0, page.limit).map((row) => row.id),
  );
  return toPage(rows, page.limit, (row) => withProcesses(appView(row, row.team.slug), row, summaries));
}

/** The view with its per-type process counts and last crash (summaries from one replicaSummaries query). */
function withProcesses(view: AppView, app: App, summaries: Awaited<ReturnType<typeof replicaSummaries>>): AppView {
  return { ...view, processes: processesView(app, summaries.get(app.id) ?? []) };
}

/** The app row of the caller's team, or not_found (also for another team's app). */
export async function getAppOrThrow(db: Db, ctx: Ctx, appId: string) {
  const app = await db.app.findFirst({
    where: { id: appId, teamId: ctx.teamId },
    include: { team: { select: { slug: true } } },
  });
  if (!app) throw new AppError("not_found", "App not found.");
  return app;
}

export async function getApp(db: Db, ctx: Ctx, appId: string): Promise<AppView> {
  authorize(ctx, "apps:read");
  const app = await getAppOrThrow(db, ctx, appId);
  return withProcesses(appView(app, app.team.slug), app, await replicaSummaries(db, [app.id]));
}

/** The App columns a change can write: the name, the git source and the settings. */
type AppFields = Pick<App, "name" | "sourceType" | "gitUrl" | "gitRef" | "autoDeploy"> &
  Required<Omit<AppSettingsInput, "processes">>;

export type AppChangesInput = { name?: string; source?: GitSourceInput | null; settings?: AppSettingsInput };

/** Changes the app and answers it as it now is; see changeApp. */
export async function updateApp(db: Db, ctx: Ctx, appId: string, input: AppChangesInput): Promise<AppView> {
  return (await changeApp(db, ctx, appId, input)).app;
}

/**
 * Writes only what differs from the app as it is, so the audit log's `changed` lists real changes and a form that
 * sends every field of its section changes nothing it did not change. `source: null` means "no git source": an app
 * deployed from uploads keeps its upload source. Nothing differing: no write, no audit event, `changed` empty.
 */
export async function changeApp(
  db: Db,
  ctx: Ctx,
  appId: string,
  input: AppChangesInput,
): Promise<{ app: AppView; changed: string[] }> {
  authorize(ctx, "apps:write");
  const name = input.name === undefined ? undefined : parseOrInvalid(appName, input.name, "name");
  const { processes, ...settings } = parseOrInvalid(appSettings, input.settings ?? {}, "settings");
  try {
    return await db.$transaction(async (tx) => {
      const before = await tx.app.findFirst({
        where: { id: appId, teamId: ctx.teamId },
        include: { team: { select: { slug: true } } },
      });
      if (!before) throw new AppError("not_found", "App not found.");
      if (before.status === "deleting") throw new AppError("conflict", "This app is being deleted.");
      const source = input.source === null && before.sourceType !== "git" ? {} : gitSource(input.source);
      const data: Prisma.AppUpdateInput = differing(before, {
        ...(name !== undefined ? { name } : {}),
        ...source,
        ...settings,
      });
      // Compared as JSON (key order included: the user's order is the order shown).
      const processesChanged =
        processes !== undefined && JSON.stringify(processes) !== JSON.stringify(before.processCommands);
      if (processesChanged) data.processCommands = processes === null ? Prisma.DbNull : processes;
      const changed = [
        ...Object.keys(settings).filter((key) => key in data),
        ...(processesChanged ? ["processes"] : []),
        ...("name" in data ? ["name"] : []),
        ...("sourceType" in data || "gitUrl" in data || "gitRef" in data || "autoDeploy" in data ? ["source"] : []),
      ];
      if (changed.length === 0) return { app: appView(before, before.team.slug), changed };
      if (settings.replicas !== undefined && "replicas" in data) {
        const counts = desiredCounts({ ...before, replicas: settings.replicas }, processTypesOf(before));
        const total = Object.values(counts).reduce((sum, value) => sum + value, 0);
        await enforceProcessQuota(tx, ctx.teamId, before.id, total);
      }
      const app = await tx.app.update({
        where: { id: before.id },
        data,
        include: { team: { select: { slug: true } } },
      });
      // The hostname and Caddy's active health check come from these: a routed app needs its route rendered again.
      const routed = app.status === "running" || app.status === "stopped";
      if (routed && (app.name !== before.name || app.healthCheckPath !== before.healthCheckPath)) {
        await requestRoutingSync(tx);
      }
      await recordAudit(tx, ctx, { action: "app.updated", target: { type: "app", id: app.id }, metadata: { changed } });
      return { app: appView(app, app.team.slug), changed };
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError("conflict", `An app named "${name}" already exists in this team.`);
    throw error;
  }
}

function differing(before: App, next: Partial<AppFields>): Partial<AppFields> {
  const data: Partial<Record<keyof AppFields, unknown>> = {};
  for (const key of Object.keys(next) as (keyof AppFields)[]) {
    if (next[key] !== undefined && next[key] !== before[key]) data[key] = next[key];
  }
  return data as Partial<AppFields>;
}

/**
 * Marks the app for deletion; the app__delete job removes its containers, route, images and row. The portal passes
 * the name the user typed as `confirmName`, compared exactly (no trimming); the API's DELETE is confirmation enough.
 */
export async function deleteApp(
  db: Db,
  ctx: Ctx,
  appId: string,
  options: { confirmName?: string } = {},
): Promise<{ app: AppView; operation: Operation }> {
  authorize(ctx, "apps:write");
  return await db.$transaction(async (tx) => {
    // The row lock queues concurrent deletions: the second sees "deleting" and returns the same operation.
    await tx.$queryRaw`SELECT id FROM "App" WHERE id = ${appId}::uuid AND "teamId" = ${ctx.teamId}::uuid FOR UPDATE`;
    const app = await tx.app.findFirst({
      where: { id: appId, teamId: ctx.teamId },
      include: { team: { select: { slug: true } } },
    });
    if (!app) throw new AppError("not_found", "App not found.");
    if (options.confirmName !== undefined && options.confirmName !== app.name) {
      const message = `Type “${app.name}” exactly to confirm.`;
      throw new AppError("invalid", message, { details: [{ path: "confirmName", message }] });
    }
    const existing = await tx.operation.findFirst({
      where: { teamId: ctx.teamId, kind: "app.delete", targetId: app.id, status: { in: ["queued", "running"] } },
    });
    if (app.status === "deleting" && existing) return { app: appView(app, app.team.slug), operation: existing };
    const updated = await tx.app.update({
      where: { id: app.id },
      data: { status: "deleting" },
      include: { team: { select: { slug: true } } },
    });
    const operation = await createOperation(tx, {
      kind: "app.delete",
      teamId: ctx.teamId,
      target: { type: "app", id: app.id },
      requestId: ctx.meta.requestId,
    });
    await enqueue(tx, "app__delete", { operationId: operation.id, appId: app.id }, { queue: appQueue(app.id) });
    await recordAudit(tx, ctx, {
      action: "app.deletion_requested",
      target: { type: "app", id: app.id },
      metadata: { name: app.name },
    });
    return { app: appView(updated, updated.team.slug), operation };
  });
}
