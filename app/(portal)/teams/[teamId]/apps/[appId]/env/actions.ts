"use server";

import { refresh } from "next/cache";
import { z } from "zod";
import { parseEnvLines } from "@/app/(portal)/teams/[teamId]/apps/[appId]/env/env-lines";
import { teamAction } from "@/lib/actions";
import type { Db } from "@/lib/db";
import { envKey, envValue } from "@/lib/domain/app-rules";
import { getAppOrThrow } from "@/lib/domain/apps";
import type { Ctx } from "@/lib/domain/context";
import { type EnvChanges, listEnvVars, revealEnvVar, setEnvVars } from "@/lib/domain/env-vars";
import { AppError } from "@/lib/errors";

// Values never come back, except a secret one the person asked to reveal (audited in the domain) and the preview of
// what they just pasted: every other answer is a message about keys, and the page shows secret values masked.
const appInput = z.strictObject({ teamId: z.uuid(), appId: z.uuid() });
// "Plain" is a checkbox: it posts "on" when ticked and nothing when not, so a form without it stores secrets.
const checkbox = z.literal("on").optional();
// Which submit button: "Save" leaves running containers alone, "Save and restart" restarts the app with them.
const intent = z.enum(["save", "restart"]).default("save");

export type EnvPreview = { key: string; change: "new" | "replace"; length: number }[];

async function save(
  deps: { db: Db; ctx: Ctx },
  appId: string,
  changes: EnvChanges,
  options: { plain: boolean; intent: "save" | "restart" },
): Promise<string> {
  const flags = Object.fromEntries(Object.keys(changes).map((key) => [key, !options.plain]));
  const restart = options.intent === "restart";
  await setEnvVars(deps.db, deps.ctx, appId, changes, { secret: flags, restart });
  const app = await getAppOrThrow(deps.db, deps.ctx, appId);
  const running = app.status === "running" && app.currentDeploymentId !== null;
  if (restart) {
    return running
      ? "The app restarts with them (Operations on the overview)."
      : "The app is not running: they apply when it starts.";
  }
  return running ? "Running processes keep the old values until the app restarts." : "They apply when the app starts.";
}

export const setEnvVarAction = teamAction(
  appInput.extend({ key: envKey, value: envValue, plain: checkbox, intent }),
  async (input, deps) => {
    const note = await save(
      deps,
      input.appId,
      { [input.key]: input.value },
      {
        plain: input.plain === "on",
        intent: input.intent,
      },
    );
    refresh();
    return { status: "success", message: `${input.key} saved. ${note}` };
  },
);

const bulkInput = appInput.extend({
  lines: z.string().max(512 * 1024, "Too much text for one save."),
  plain: checkbox,
  intent: z.enum(["preview", "save", "restart"]).default("save"),
});

export const bulkSetEnvAction = teamAction<typeof bulkInput, EnvPreview>(bulkInput, async (input, deps) => {
  const parsed = parseEnvLines(input.lines);
  if (!parsed.ok) {
    throw new AppError("invalid", "Some lines need fixing.", {
      details: [{ path: "lines", message: parsed.errors.join("\n") }],
    });
  }
  const keys = Object.keys(parsed.values);
  if (input.intent === "preview") {
    // Which keys the paste sets and whether each replaces a value: nothing is stored, no value is echoed.
    const existing = new Set((await listEnvVars(deps.db, deps.ctx, input.appId)).map((variable) => variable.key));
    return {
      status: "success",
      message: `${keys.length === 1 ? "1 variable" : `${keys.length} variables`} read. Nothing is saved yet.`,
      data: keys.map((key) => ({
        key,
        change: existing.has(key) ? "replace" : "new",
        length: [...(parsed.values[key] ?? "")].length,
      })),
    };
  }
  const note = await save(deps, input.appId, parsed.values, { plain: input.plain === "on", intent: input.intent });
  refresh();
  return {
    status: "success",
    message: `Saved ${keys.length === 1 ? "1 variable" : `${keys.length} variables`}: ${keys.join(", ")}. ${note}`,
  };
});

const keyInput = appInput.extend({ key: envKey });

export const revealEnvVarAction = teamAction<typeof keyInput, { value: string }>(
  keyInput,
  async (input, { db, ctx }) => {
    // Into the row's state only: never a URL, a log or the audit row (the domain records the reveal, key only).
    return { status: "success", data: { value: await revealEnvVar(db, ctx, input.appId, input.key) } };
  },
);

export const unsetEnvVarAction = teamAction(keyInput, async (input, { db, ctx }) => {
  await setEnvVars(db, ctx, input.appId, { [input.key]: null });
  refresh();
  return { status: "success", message: `${input.key} removed. It is gone from the next deployment.` };
});
