// An app's environment variables: read (secret values masked) and change.
import { z } from "zod";
import { defineEndpoint } from "@/lib/api/endpoint";
import { appParams } from "@/lib/api/endpoints/apps";
import { iso, isoDate } from "@/lib/api/endpoints/common";
import { EXAMPLE_LATER, EXAMPLE_TIME } from "@/lib/api/endpoints/examples";
import { envKey } from "@/lib/domain/app-rules";
import { type EnvVarView, envChanges, envSecretFlags } from "@/lib/domain/env-vars";

const maskedEnv = z.object({
  env: z.record(z.string(), z.string()).describe("Secret values masked, plain values as they are"),
  variables: z.array(
    z.object({
      key: z.string(),
      secret: z.boolean().describe("Secret (masked on every read) or plain (shown); variables are secret by default"),
      updatedAt: isoDate,
    }),
  ),
});

export function envJson(variables: EnvVarView[]): z.input<typeof maskedEnv> {
  return {
    env: Object.fromEntries(variables.map((variable) => [variable.key, variable.value])),
    variables: variables.map((variable) => ({
      key: variable.key,
      secret: variable.secret,
      updatedAt: iso(variable.updatedAt),
    })),
  };
}

const exampleEnv: z.input<typeof maskedEnv> = {
  env: { SHOP_MODE: "live", SENTRY_DSN: "••••••••" },
  variables: [
    { key: "SENTRY_DSN", secret: true, updatedAt: EXAMPLE_TIME },
    { key: "SHOP_MODE", secret: false, updatedAt: EXAMPLE_LATER },
  ],
};

export const getEnvEndpoint = defineEndpoint({
  id: "getAppEnv",
  method: "GET",
  path: "/api/v1/apps/{appId}/env",
  summary: "The app's environment variables, secret values masked",
  description:
    "The app's environment variables: secret values masked (write-only through the API; the portal reveals one on request, audited), plain values as they are, and when each was last changed.",
  examples: {
    responses: {
      200: exampleEnv,
    },
  },
  tags: ["apps"],
  auth: { scope: "read", permission: "env:read" },
  errors: [],
  params: appParams,
  responses: { 200: { description: "The variables", schema: maskedEnv } },
});

// The keys are checked one by one in envChanges (each with its own message); the document says the same rule as
// propertyNames, generated from the same schema.
const { $schema: _schema, ...envKeyJsonSchema } = z.toJSONSchema(envKey, { target: "draft-2020-12" });

export const putEnvEndpoint = defineEndpoint({
  id: "putAppEnv",
  method: "PUT",
  path: "/api/v1/apps/{appId}/env",
  summary: 'Set and unset variables: {"env": {"KEY": "value", "OLD_KEY": null}}; null unsets',
  description:
    "Sets and unsets variables in one change: a string sets, `null` unsets, keys left out stay. `secret` marks keys set in the same change secret (`true`) or plain (`false`); a key set without it keeps its flag, a new one is secret. A running app restarts once to pick them up (operation `app.restart`). Keys the platform sets itself (such as `PORT` and `DATABASE_URL`) are refused with `422`; `409` while the app is being deleted. Audited with the keys, never the values.",
  examples: {
    request: { env: { SHOP_MODE: "live", OLD_FLAG: null }, secret: { SHOP_MODE: false } },
    responses: {
      200: exampleEnv,
    },
  },
  tags: ["apps"],
  auth: { scope: "write", permission: "env:write" },
  errors: ["conflict"],
  params: appParams,
  body: z.strictObject({
    env: envChanges.meta({ propertyNames: envKeyJsonSchema }),
    secret: envSecretFlags
      .meta({ propertyNames: envKeyJsonSchema })
      .optional()
      .describe("Per key set in `env`: true for secret, false for plain"),
  }),
  responses: { 200: { description: "The variables after the change, values masked", schema: maskedEnv } },
});
