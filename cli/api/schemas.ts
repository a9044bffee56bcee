// The answers the CLI reads, as lenient zod schemas: only the fields the CLI uses, unknown fields allowed
// (z.looseObject) so a newer server that adds fields does not break an older CLI. The CLI cannot import the
// server's own schemas (lib/api/endpoints/*.ts import domain modules, which would pull the database client into a
// command-line tool), so cli/api/operations.test.ts checks these against the OpenAPI document the server serves:
// every value the document allows must parse here.
import { z } from "zod";

const nullableString = z.string().nullable();

export const errorBody = z.looseObject({
  error: z.looseObject({
    code: z.string(),
    message: z.string(),
    details: z.unknown().optional(),
    requestId: z.string().optional(),
  }),
});

export const operation = z.looseObject({
  id: z.string(),
  kind: z.string(),
  // "cancelled" is a superset for servers that report a cancelled operation as such (issue #18's "cancel means cancel").
  status: z.enum(["queued", "running", "succeeded", "failed", "cancelled"]),
  error: nullableString,
});

export const app = z.looseObject({
  id: z.string(),
  name: z.string(),
  status: z.string(),
  url: nullableString,
  replicas: z.number().int(),
  processes: z.record(z.string(), z.looseObject({ desired: z.number().int(), running: z.number().int() })).optional(),
  currentDeploymentId: nullableString,
});

export const deployment = z.looseObject({
  id: z.string(),
  appId: z.string(),
  number: z.number().int(),
  status: z.enum(["queued", "building", "built", "releasing", "running", "failed", "superseded", "cancelled"]),
  trigger: z.string(),
  imageBuilt: z.boolean(),
  error: nullableString,
  createdAt: z.string(),
  finishedAt: nullableString,
});

export const logChunk = z.looseObject({ text: z.string(), nextOffset: z.number().int(), complete: z.boolean() });

export const run = z.looseObject({
  id: z.string(),
  command: z.string(),
  status: z.enum(["queued", "running", "succeeded", "failed", "timed_out", "cancelled", "skipped", "missed"]),
  exitCode: z.number().int().nullable(),
  reason: nullableString,
});

export const domain = z.looseObject({
  id: z.string(),
  hostname: z.string(),
  status: z.string(),
  verification: z.looseObject({ type: z.string(), name: z.string(), value: z.string() }),
});

export const database = z.looseObject({
  id: z.string(),
  name: z.string(),
  status: z.string(),
  appId: nullableString,
  error: nullableString,
});

const page = <T extends z.ZodType>(item: T) => z.looseObject({ items: z.array(item), nextCursor: nullableString });

export const responses = {
  team: z.looseObject({ team: z.looseObject({ id: z.string(), name: z.string(), slug: z.string() }) }),
  appPage: page(app),
  app: z.looseObject({ app }),
  appOperation: z.looseObject({ app, operation }),
  env: z.looseObject({ env: z.record(z.string(), z.string()) }),
  upload: z.looseObject({ upload: z.looseObject({ id: z.string(), sizeBytes: z.number().int() }) }),
  deploymentPage: page(deployment),
  deployment: z.looseObject({ deployment }),
  deploymentOperation: z.looseObject({ deployment, operation }),
  logChunk,
  appLogs: z.looseObject({
    lines: z.array(
      z.looseObject({
        time: z.string(),
        replica: z.number().int(),
        process: z.string(),
        stream: z.string(),
        text: z.string(),
      }),
    ),
  }),
  run: z.looseObject({ run }),
  runOperation: z.looseObject({ run, operation }),
  operation: z.looseObject({ operation }),
  domainPage: page(domain),
  domain: z.looseObject({ domain }),
  databasePage: page(database),
  databaseOperation: z.looseObject({ database, operation }),
  credentials: z.looseObject({ url: z.string() }),
};

export type App = z.infer<typeof app>;
export type Deployment = z.infer<typeof deployment>;
export type Operation = z.infer<typeof operation>;
export type Domain = z.infer<typeof domain>;
