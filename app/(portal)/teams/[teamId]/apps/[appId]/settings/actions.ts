"use server";

import { refresh } from "next/cache";
import { redirect } from "next/navigation";
import { z } from "zod";
import { teamAction } from "@/lib/actions";
import type { AppSettingsInput } from "@/lib/domain/app-rules";
import { type AppChangesInput, changeApp, deleteApp } from "@/lib/domain/apps";

const appInput = z.strictObject({ teamId: z.uuid(), appId: z.uuid() });

const wholeNumber = z
  .string()
  .trim()
  .regex(/^\d{1,6}$/, "A whole number.")
  .transform(Number);

const cpus = z
  .string()
  .trim()
  .regex(/^\d{1,2}(\.\d{1,3})?$/, "A number of CPUs, like 0.5 or 2.")
  .transform((value) => Math.round(Number(value) * 1000));

const text = (max: number) => z.string().trim().max(max).optional();

// Every settings form sends only its own fields; a field that is absent stays as it is. Shapes only here: the
// domain owns the rules (app-rules.ts) and reports them per field.
const updateAppInput = appInput.extend({
  name: text(100),
  gitUrl: text(2048),
  gitRef: text(255),
  subdirectory: text(255),
  pythonVersion: text(10),
  installCommand: text(1000),
  webCommand: text(1000),
  releaseCommand: text(1000),
  // A checkbox sends nothing when unchecked: the hidden djangoSetupShown says the form had the box.
  djangoSetupShown: z.literal("1").optional(),
  djangoSetup: z.literal("on").optional(),
  memoryMb: wholeNumber.optional(),
  cpus: cpus.optional(),
  replicas: wholeNumber.optional(),
  healthCheckPath: text(255),
});

type UpdateAppInput = z.output<typeof updateAppInput>;

const OVERRIDES = ["subdirectory", "pythonVersion", "installCommand", "webCommand", "releaseCommand"] as const;

/** The form's fields in the domain's terms. Which of them differ from the app as it is, the domain decides. */
function changesOf(input: UpdateAppInput): AppChangesInput {
  const settings: AppSettingsInput = {};
  for (const key of OVERRIDES) {
    const value = input[key];
    // An empty override means "detect it again".
    if (value !== undefined) settings[key] = value === "" ? null : value;
  }
  if (input.djangoSetupShown !== undefined) settings.djangoSetup = input.djangoSetup === "on";
  if (input.memoryMb !== undefined) settings.memoryMb = input.memoryMb;
  if (input.cpus !== undefined) settings.cpuMillis = input.cpus;
  if (input.replicas !== undefined) settings.replicas = input.replicas;
  if (input.healthCheckPath !== undefined) settings.healthCheckPath = input.healthCheckPath;
  // An empty URL removes the git source; an empty ref is the default branch.
  const source =
    input.gitUrl === undefined
      ? undefined
      : input.gitUrl === ""
        ? null
        : { url: input.gitUrl, ref: input.gitRef || "main" };
  return {
    ...(input.name !== undefined ? { name: input.name } : {}),
    ...(source !== undefined ? { source } : {}),
    ...(Object.keys(settings).length > 0 ? { settings } : {}),
  };
}

export const updateAppAction = teamAction(updateAppInput, async (input, { db, ctx }) => {
  const { app, changed } = await changeApp(db, ctx, input.appId, changesOf(input));
  if (changed.length === 0) return { status: "success", message: "Nothing changed." };
  refresh();
  if (changed.includes("name")) {
    return { status: "success", message: `Renamed to ${app.name}; its address is now ${app.url}.` };
  }
  return { status: "success", message: "Saved. The changes apply from the next deployment." };
});

export const deleteAppAction = teamAction(
  // Compared exactly with the current name by the domain, so no trimming.
  appInput.extend({ confirmName: z.string().max(200) }),
  async (input, { db, ctx }) => {
    await deleteApp(db, ctx, input.appId, { confirmName: input.confirmName });
    redirect(`/teams/${ctx.teamId}/apps`);
  },
);
