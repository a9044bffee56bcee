// Cron jobs and runs: commands in one-off containers of an app's current release, on a schedule or by hand.
import { z } from "zod";
import { defineEndpoint, errorBody } from "@/lib/api/endpoint";
import { idParams, iso, isoDate, pageOf } from "@/lib/api/endpoints/common";
import {
  EXAMPLE_IDS,
  EXAMPLE_LATER,
  exampleCronJob,
  exampleOperationOf,
  examplePage,
  exampleQueuedRun,
  exampleRun,
} from "@/lib/api/endpoints/examples";
import { operationSchema } from "@/lib/api/endpoints/identity";
import { pageQuery, queryInt } from "@/lib/api/query";
import { type CronJobView, cronJobInput, MAX_CRON_JOBS_PER_APP } from "@/lib/domain/cron";
import type { RunView } from "@/lib/domain/runs";
import { lineText } from "@/lib/domain/text";

const appParams = z.strictObject({ appId: z.uuid() });

export const cronJobSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  schedule: z.string().describe("Five fields (minute hour day month weekday) or @hourly, @daily, @weekly..."),
  command: z.string(),
  timezone: z.string().describe("The IANA time zone the schedule is read in"),
  timeoutSeconds: z.number().int(),
  enabled: z.boolean(),
  nextRunAt: isoDate.nullable(),
  createdAt: isoDate,
  updatedAt: isoDate,
});

export function cronJobJson(job: CronJobView): z.input<typeof cronJobSchema> {
  return { ...job, nextRunAt: iso(job.nextRunAt), createdAt: iso(job.createdAt), updatedAt: iso(job.updatedAt) };
}

const cronJobs = z.object({ jobs: z.array(cronJobSchema) });

export const getCronEndpoint = defineEndpoint({
  id: "getAppCron",
  method: "GET",
  path: "/api/v1/apps/{appId}/cron",
  summary: "The app's cron jobs, by name",
  description: "The app's cron jobs by name, each with its schedule, time zone, time limit and next run.",
  examples: { responses: { 200: { jobs: [exampleCronJob] } } },
  tags: ["runs"],
  auth: { scope: "read", permission: "apps:read" },
  errors: [],
  params: appParams,
  responses: { 200: { description: "The cron jobs", schema: cronJobs } },
});

export const putCronEndpoint = defineEndpoint({
  id: "putAppCron",
  method: "PUT",
  path: "/api/v1/apps/{appId}/cron",
  summary:
    "Replace the app's cron jobs; each due tick runs the command once in a one-off container of the current release",
  description:
    "Replaces the app's cron jobs as a whole (an empty list removes them all). At each due tick the command runs once in a one-off container of the current release; a tick whose previous run is still going is recorded as `skipped`. `422` for a bad schedule or time zone (details name the job's field); `409` while the app is being deleted or past the team's cron job quota.",
  examples: {
    request: {
      jobs: [
        {
          name: "nightly-report",
          schedule: "30 2 * * *",
          command: "python manage.py send_report",
          timezone: "Europe/Stockholm",
        },
      ],
    },
    responses: { 200: { jobs: [exampleCronJob] } },
  },
  tags: ["runs"],
  auth: { scope: "write", permission: "apps:write" },
  errors: ["conflict", "quota_exceeded"],
  params: appParams,
  body: z.strictObject({
    jobs: z
      .array(
        cronJobInput.extend({
          timezone: cronJobInput.shape.timezone.describe("IANA time zone; UTC when absent"),
          timeoutSeconds: cronJobInput.shape.timeoutSeconds.describe(
            "The run's time limit; the platform's default when absent (at most its maximum)",
          ),
        }),
      )
      .max(MAX_CRON_JOBS_PER_APP),
  }),
  responses: {
    200: { description: "The cron jobs after the change", schema: cronJobs },
    409: { description: "The app is being deleted, or the team's cron job quota is reached", schema: errorBody },
  },
});

const runStatus = z.enum(["queued", "running", "succeeded", "failed", "timed_out", "cancelled", "skipped", "missed"]);

export const runSchema = z.object({
  id: z.uuid(),
  appId: z.uuid(),
  kind: z.enum(["oneoff", "cron"]),
  cronJob: z.object({ id: z.uuid(), name: z.string() }).nullable().describe("The cron job of a cron run"),
  tick: isoDate.nullable().describe("The scheduled time a cron run is for"),
  command: z.string(),
  status: runStatus.describe(
    "skipped: the previous run of the job was still going (or no release, or the run quota); missed: the platform " +
      "was down at the tick (one such run stands for every tick of an outage)",
  ),
  exitCode: z.number().int().nullable(),
  reason: z.string().nullable().describe("Why it failed, timed out, was skipped or missed, readable by people"),
  timeoutSeconds: z.number().int(),
  deploymentId: z.uuid().nullable().describe("The release the command runs in"),
  queuedAt: isoDate,
  startedAt: isoDate.nullable(),
  finishedAt: isoDate.nullable(),
  cancelRequestedAt: isoDate.nullable(),
});

export function runJson(run: RunView): z.input<typeof runSchema> {
  return {
    ...run,
    tick: iso(run.tick),
    queuedAt: iso(run.queuedAt),
    startedAt: iso(run.startedAt),
    finishedAt: iso(run.finishedAt),
    cancelRequestedAt: iso(run.cancelRequestedAt),
  };
}

export const listRunsEndpoint = defineEndpoint({
  id: "listRuns",
  method: "GET",
  path: "/api/v1/apps/{appId}/runs",
  summary: "The app's one-off and cron runs, newest first",
  description: "The app's one-off and cron runs, newest first, with status, exit code and times.",
  examples: { responses: { 200: examplePage(exampleRun) } },
  tags: ["runs"],
  auth: { scope: "read", permission: "apps:read" },
  errors: [],
  params: appParams,
  query: pageQuery,
  responses: { 200: { description: "A page of runs", schema: pageOf(runSchema) } },
});

export const createRunEndpoint = defineEndpoint({
  id: "createRun",
  method: "POST",
  path: "/api/v1/apps/{appId}/runs",
  summary: "Run a command once in a one-off container of the app's current release",
  description:
    "Runs a command once, by `/bin/sh -c` inside a one-off container of the app's current release, with the app's environment (operation `app.run`; follow the run and its output). `409` when the app has no release yet, is being deleted, or the team's concurrent run quota is reached. Audited as `run.create` with the command.",
  examples: {
    request: { command: "python manage.py migrate --check", timeoutSeconds: 600 },
    responses: {
      202: { run: exampleQueuedRun, operation: exampleOperationOf("app.run", EXAMPLE_IDS.run) },
    },
  },
  tags: ["runs"],
  auth: { scope: "write", permission: "apps:write" },
  errors: ["conflict", "quota_exceeded"],
  idempotent: true,
  params: appParams,
  body: z.strictObject({
    command: lineText({ trim: true }).min(1).max(4096).describe("Run by /bin/sh -c inside the app's container"),
    timeoutSeconds: z.number().int().min(1).optional().describe("The platform's default when absent"),
  }),
  responses: {
    202: {
      description: "Queued; poll the run or the operation",
      schema: z.object({ run: runSchema, operation: operationSchema }),
    },
    409: {
      description: "The app has no release yet, is being deleted, or the team's concurrent run quota is reached",
      schema: errorBody,
    },
  },
});

const oneRun = z.object({ run: runSchema });

export const getRunEndpoint = defineEndpoint({
  id: "getRun",
  method: "GET",
  path: "/api/v1/runs/{id}",
  summary: "One run: its status, exit code and times",
  description: "One run: what it ran, in which release, its status, exit code, reason and times.",
  examples: { responses: { 200: { run: exampleRun } } },
  tags: ["runs"],
  auth: { scope: "read", permission: "apps:read" },
  errors: [],
  params: idParams,
  responses: { 200: { description: "The run", schema: oneRun } },
});

export const cancelRunEndpoint = defineEndpoint({
  id: "cancelRun",
  method: "POST",
  path: "/api/v1/runs/{id}/cancel",
  summary: "Cancel a queued or running run (its container is killed)",
  description:
    "Cancels a run: a queued one ends `cancelled` at once, a running one's container is killed. `409` when the run has already ended.",
  examples: {
    responses: {
      200: {
        run: { ...exampleQueuedRun, status: "cancelled", finishedAt: EXAMPLE_LATER, cancelRequestedAt: EXAMPLE_LATER },
      },
    },
  },
  tags: ["runs"],
  auth: { scope: "write", permission: "apps:write" },
  errors: ["conflict"],
  idempotent: true,
  params: idParams,
  responses: {
    200: { description: "Cancelled (queued) or cancellation requested (running)", schema: oneRun },
    409: { description: "The run has already ended", schema: errorBody },
  },
});

export const runLogsEndpoint = defineEndpoint({
  id: "getRunLogs",
  method: "GET",
  path: "/api/v1/runs/{id}/logs",
  summary: "What the command printed, from a byte offset (or its last lines); poll with ?offset=<nextOffset>",
  description:
    "What the command printed, from a byte offset (or its last `tail` lines). Poll with `offset` set to `nextOffset` until `complete` is true.",
  examples: { responses: { 200: { text: "No migrations to apply.\n", nextOffset: 24, complete: true } } },
  tags: ["runs"],
  auth: { scope: "read", permission: "apps:read" },
  errors: [],
  params: idParams,
  query: z.strictObject({
    offset: queryInt({ min: 0, max: 2 ** 31 - 1, default: 0, description: "A byte offset into the output" }),
    // No default: without it the answer starts at `offset`.
    tail: z
      .string()
      .regex(/^[0-9]{1,15}$/, "Must be an integer in plain decimal digits.")
      .transform(Number)
      .pipe(z.number().int().min(1).max(10_000))
      .optional()
      .meta({ type: "integer", minimum: 1, maximum: 10_000, description: "The last lines instead of an offset" }),
  }),
  responses: {
    200: {
      description: "A chunk of the output; complete once the run has ended and everything was read",
      schema: z.object({ text: z.string(), nextOffset: z.number().int(), complete: z.boolean() }),
    },
  },
});
