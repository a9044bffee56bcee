"use server";

import { refresh } from "next/cache";
import { z } from "zod";
import { parseEnvLines } from "@/app/(portal)/teams/[teamId]/apps/[appId]/env/env-lines";
import { teamAction } from "@/lib/actions";
import { envKey, envValue } from "@/lib/domain/app-rules";
import { setEnvVars } from "@/lib/domain/env-vars";
import { AppError } from "@/lib/errors";

// Values never come back: every answer is a message about keys, and the page shows values masked.
const appInput = z.strictObject({ teamId: z.uuid(), appId: z.uuid() });

export const setEnvVarAction = teamAction(
  appInput.extend({ key: envKey, value: envValue }),
  async (input, { db, ctx }) => {
    await setEnvVars(db, ctx, input.appId, { [input.key]: input.value });
    refresh();
    return { status: "success", message: `${input.key} saved. It applies from the next deployment.` };
  },
);

export const bulkSetEnvAction = teamAction(
  appInput.extend({ lines: z.string().max(512 * 1024, "Too much text for one save.") }),
  async (input, { db, ctx }) => {
    const parsed = parseEnvLines(input.lines);
    if (!parsed.ok) {
      throw new AppError("invalid", "Some lines need fixing.", {
        details: [{ path: "lines", message: parsed.errors.join("\n") }],
      });
    }
    await setEnvVars(db, ctx, input.appId, parsed.values);
    refresh();
    const keys = Object.keys(parsed.values);
    return {
      status: "success",
      message: `Saved ${keys.length === 1 ? "1 variable" : `${keys.length} variables`}: ${keys.join(", ")}.`,
    };
  },
);

export const unsetEnvVarAction = teamAction(appInput.extend({ key: envKey }), async (input, { db, ctx }) => {
  await setEnvVars(db, ctx, input.appId, { [input.key]: null });
  refresh();
  return { status: "success", message: `${input.key} removed. It is gone from the next deployment.` };
});
