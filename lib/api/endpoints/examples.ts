// Example resources the endpoint declarations show in the OpenAPI document (one coherent made-up team: an app
// "shop" with a database, a cache, a custom domain and a nightly cron job). Typed from the answer schemas, and
// validated against the generated document by lib/api/openapi-docs.test.ts. Type-only imports: the endpoint files
// import these values, so a value import back would be a cycle.
import type { z } from "zod";
import type { appSchema, uploadSchema } from "@/lib/api/endpoints/apps";
import type { deploymentSchema } from "@/lib/api/endpoints/deployments";
import type { domainSchema } from "@/lib/api/endpoints/domains";
import type { deployKeySchema, gitHostKeySchema } from "@/lib/api/endpoints/git-access";
import type { auditEventSchema, invitationSchema, memberSchema, operationSchema } from "@/lib/api/endpoints/identity";
import type { cronJobSchema, runSchema } from "@/lib/api/endpoints/runs";
import type { databaseSchema, redisSchema } from "@/lib/api/endpoints/services";

type Of<T extends z.ZodType> = z.output<T>;

export const EXAMPLE_IDS = {
  team: "0b6f9c1e-2d3a-4b5c-8d7e-6f5a4b3c2d1e",
  user: "1c7a0d2f-3e4b-4c6d-9e8f-7a6b5c4d3e2f",
  token: "2d8b1e3a-4f5c-4d7e-af90-8b7c6d5e4f3a",
  app: "3e9c2f4b-5a6d-4e8f-b0a1-9c8d7e6f5a4b",
  deployment: "4fad3a5c-6b7e-4f90-81b2-ad9e8f7a6b5c",
  previousDeployment: "5abe4b6d-7c8f-4a01-92c3-be0f9a8b7c6d",
  operation: "6bcf5c7e-8d90-4b12-a3d4-cf1a0b9c8d7e",
  upload: "7cd06d8f-9ea1-4c23-b4e5-d02b1cad9e8f",
  database: "8de17e90-afb2-4d34-85f6-e13c2dbeaf90",
  redis: "9ef28fa1-b0c3-4e45-96a7-f24d3ecfb0a1",
  domain: "a0f390b2-c1d4-4f56-a7b8-035e4fd0c1b2",
  cronJob: "b1a4a1c3-d2e5-4a67-b8c9-146f5ae1d2c3",
  run: "c2b5b2d4-e3f6-4b78-89da-2570a6f2e3d4",
  member: "d3c6c3e5-f4a7-4c89-9aeb-3681b7a3f4e5",
  invitation: "e4d7d4f6-a5b8-4d9a-abfc-4792c8b4a5f6",
  auditEvent: "f5e8e5a7-b6c9-4eab-bc0d-58a3d9c5b6a7",
  hostKey: "06f9f6b8-c7da-4fbc-8d1e-69b4eac6c7b8",
} as const;

export const EXAMPLE_TIME = "2026-03-14T09:26:53.000Z";
export const EXAMPLE_LATER = "2026-03-14T09:28:11.000Z";

export const exampleOperation: Of<typeof operationSchema> = {
  id: EXAMPLE_IDS.operation,
  kind: "app.deploy",
  status: "queued",
  error: null,
  progress: null,
  targetId: EXAMPLE_IDS.deployment,
  createdAt: EXAMPLE_TIME,
  startedAt: null,
  finishedAt: null,
};

/** An operation of another kind on another target, queued now. */
export function exampleOperationOf(kind: string, targetId: string): Of<typeof operationSchema> {
  return { ...exampleOperation, kind, targetId };
}

export const exampleApp: Of<typeof appSchema> = {
  id: EXAMPLE_IDS.app,
  name: "shop",
  status: "running",
  url: "https://shop.apps.example.org",
  replicas: 2,
  processes: {
    web: { desired: 2, running: 2, crashed: 0, lastCrash: null },
    worker: { desired: 1, running: 1, crashed: 0, lastCrash: null },
  },
  currentDeploymentId: EXAMPLE_IDS.deployment,
  source: { type: "git", url: "https://github.com/example/shop.git", ref: "main", autoDeploy: true },
  settings: {
    subdirectory: null,
    pythonVersion: "3.12",
    installCommand: null,
    webCommand: null,
    releaseCommand: "python manage.py migrate",
    djangoSetup: true,
    memoryMb: 512,
    cpuMillis: 500,
    healthCheckPath: "/",
    processes: null,
  },
  createdAt: EXAMPLE_TIME,
  updatedAt: EXAMPLE_LATER,
};

export const exampleUpload: Of<typeof uploadSchema> = {
  id: EXAMPLE_IDS.upload,
  sizeBytes: 48213,
  sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
  expiresAt: "2026-03-15T09:26:53.000Z",
};

export const exampleDeployment: Of<typeof deploymentSchema> = {
  id: EXAMPLE_IDS.deployment,
  appId: EXAMPLE_IDS.app,
  number: 7,
  status: "running",
  source: {
    type: "git",
    url: "https://github.com/example/shop.git",
    ref: "main",
    commitSha: "3b18e512dba79e4c8300dd08aeb37f8e728b8dad",
    commitMessage: "Add the basket page",
    commitAuthor: "Ada Lovelace",
    commitUrl: "https://github.com/example/shop/commit/3b18e512dba79e4c8300dd08aeb37f8e728b8dad",
  },
  trigger: "push",
  redeployOfId: null,
  supersededById: null,
  plan: {
    builder: "python",
    installer: "uv",
    pythonVersion: "3.12",
    processes: { web: "gunicorn shop.wsgi", worker: "python -m shop.worker" },
    release: "python manage.py migrate",
    reasons: ["uv.lock: installed with uv", ".python-version: Python 3.12", "Procfile: web and worker"],
  },
  imageBuilt: true,
  phases: [
    { name: "queued", status: "succeeded", startedAt: EXAMPLE_TIME, finishedAt: EXAMPLE_TIME },
    { name: "fetching", status: "succeeded", startedAt: EXAMPLE_TIME, finishedAt: "2026-03-14T09:26:55.000Z" },
    {
      name: "planning",
      status: "succeeded",
      startedAt: "2026-03-14T09:26:55.000Z",
      finishedAt: "2026-03-14T09:26:55.000Z",
    },
    {
      name: "building",
      status: "succeeded",
      startedAt: "2026-03-14T09:26:55.000Z",
      finishedAt: "2026-03-14T09:27:40.000Z",
    },
    { name: "releasing", status: "succeeded", startedAt: "2026-03-14T09:27:40.000Z", finishedAt: EXAMPLE_LATER },
  ],
  error: null,
  failureSide: null,
  cancelRequested: false,
  createdAt: EXAMPLE_TIME,
  finishedAt: EXAMPLE_LATER,
};

/** A deployment just queued: nothing built yet. */
export const exampleQueuedDeployment: Of<typeof deploymentSchema> = {
  ...exampleDeployment,
  status: "queued",
  trigger: "api",
  plan: null,
  imageBuilt: false,
  phases: [
    { name: "queued", status: "running", startedAt: EXAMPLE_TIME, finishedAt: null },
    { name: "fetching", status: "pending", startedAt: null, finishedAt: null },
    { name: "planning", status: "pending", startedAt: null, finishedAt: null },
    { name: "building", status: "pending", startedAt: null, finishedAt: null },
    { name: "releasing", status: "pending", startedAt: null, finishedAt: null },
  ],
  finishedAt: null,
};

export const exampleDatabase: Of<typeof databaseSchema> = {
  id: EXAMPLE_IDS.database,
  name: "orders",
  status: "ready",
  appId: EXAMPLE_IDS.app,
  limits: { connectionLimit: 20, statementTimeoutMs: 30000, idleInTransactionMs: 60000 },
  error: null,
  backups: {
    schedule: "37 2 * * *",
    defaultSchedule: true,
    enabled: true,
    keepDaily: 7,
    keepWeekly: 4,
    nextAt: "2026-03-15T02:37:00.000Z",
  },
  createdAt: EXAMPLE_TIME,
  updatedAt: EXAMPLE_LATER,
};

export const exampleRedis: Of<typeof redisSchema> = {
  id: EXAMPLE_IDS.redis,
  name: "cache",
  status: "ready",
  appId: EXAMPLE_IDS.app,
  error: null,
  createdAt: EXAMPLE_TIME,
  updatedAt: EXAMPLE_LATER,
};

export const exampleDomain: Of<typeof domainSchema> = {
  id: EXAMPLE_IDS.domain,
  appId: EXAMPLE_IDS.app,
  hostname: "shop.example.com",
  status: "verified",
  verification: {
    type: "TXT",
    name: "_tussilago.shop.example.com",
    value: "tussilago-verify-5c2f0e9a7b1d4e8f0a3c6b9d2e5f8a1b4c7d0e3f",
  },
  alternatives: [{ type: "CNAME", name: "shop.example.com", value: "apps.example.org" }],
  verifiedAt: EXAMPLE_LATER,
  verifiedBy: "txt",
  lastCheckedAt: EXAMPLE_LATER,
  proofMissingSince: null,
  checkError: null,
  tls: { status: "issued", issuer: "Let's Encrypt", expiresAt: "2026-06-12T09:28:11.000Z", error: null },
  redirectHttps: true,
  hsts: false,
  createdAt: EXAMPLE_TIME,
  updatedAt: EXAMPLE_LATER,
};

export const exampleCronJob: Of<typeof cronJobSchema> = {
  id: EXAMPLE_IDS.cronJob,
  name: "nightly-report",
  schedule: "30 2 * * *",
  command: "python manage.py send_report",
  timezone: "Europe/Stockholm",
  timeoutSeconds: 600,
  enabled: true,
  nextRunAt: "2026-03-15T01:30:00.000Z",
  createdAt: EXAMPLE_TIME,
  updatedAt: EXAMPLE_TIME,
};

export const exampleRun: Of<typeof runSchema> = {
  id: EXAMPLE_IDS.run,
  appId: EXAMPLE_IDS.app,
  kind: "oneoff",
  cronJob: null,
  tick: null,
  command: "python manage.py migrate --check",
  status: "succeeded",
  exitCode: 0,
  reason: null,
  timeoutSeconds: 600,
  deploymentId: EXAMPLE_IDS.deployment,
  queuedAt: EXAMPLE_TIME,
  startedAt: "2026-03-14T09:26:55.000Z",
  finishedAt: "2026-03-14T09:27:02.000Z",
  cancelRequestedAt: null,
};

export const exampleQueuedRun: Of<typeof runSchema> = {
  ...exampleRun,
  status: "queued",
  exitCode: null,
  startedAt: null,
  finishedAt: null,
};

export const exampleMember: Of<typeof memberSchema> = {
  id: EXAMPLE_IDS.member,
  role: "owner",
  user: { id: EXAMPLE_IDS.user, email: "ada@example.com", name: "Ada Lovelace" },
  createdAt: EXAMPLE_TIME,
};

export const exampleInvitation: Of<typeof invitationSchema> = {
  id: EXAMPLE_IDS.invitation,
  email: "grace@example.com",
  role: "member",
  status: "pending",
  expiresAt: "2026-03-17T09:26:53.000Z",
  createdAt: EXAMPLE_TIME,
  lastSentAt: EXAMPLE_TIME,
};

export const exampleAuditEvent: Of<typeof auditEventSchema> = {
  id: EXAMPLE_IDS.auditEvent,
  action: "deployment.created",
  actor: { type: "token", id: EXAMPLE_IDS.token, label: "CI deploys" },
  target: { type: "app", id: EXAMPLE_IDS.app },
  ip: "203.0.113.7",
  userAgent: "curl/8.5.0",
  requestId: "0f6c1d2e-3a4b-4c5d-8e9f-a0b1c2d3e4f5",
  metadata: { deploymentId: EXAMPLE_IDS.deployment, trigger: "api" },
  createdAt: EXAMPLE_TIME,
};

export const exampleDeployKey: Of<typeof deployKeySchema> = {
  publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl tussilago-shop",
  fingerprint: "SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU",
  createdAt: EXAMPLE_TIME,
};

export const exampleHostKey: Of<typeof gitHostKeySchema> = {
  id: EXAMPLE_IDS.hostKey,
  appId: EXAMPLE_IDS.app,
  host: "git.example.com",
  port: 22,
  keyType: "ssh-ed25519",
  publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
  fingerprint: "SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU",
  source: "first_use",
  confirmed: false,
  confirmedAt: null,
  createdAt: EXAMPLE_TIME,
};

/** A list's last page: nothing after it. */
export function examplePage<T>(...items: T[]): { items: T[]; nextCursor: string | null } {
  return { items, nextCursor: null };
}
