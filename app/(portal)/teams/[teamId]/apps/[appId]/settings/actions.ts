"use server";

import { refresh } from "next/cache";
import { redirect } from "next/navigation";
import { z } from "zod";
import { teamAction } from "@/lib/actions";
import type { AppSettingsInput } from "@/lib/domain/app-rules";
import { type AppView, deleteApp, type GitSourceInput, getApp, updateApp } from "@/lib/domain/apps";
import { authorize } from "@/lib/domain/context";
import { AppError } from "@/lib/errors";

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
  memoryMb: wholeNumber.optional(),
  cpus: cpus.optional(),
  replicas: wholeNumber.optional(),
  healthCheckPath: text(255),
});

type UpdateAppInput = z.output<typeof updateAppInput>;

const OVERRIDES = ["subdirectory", "pythonVersion", "installCommand", "webCommand", "releaseCommand"] as const;

/** Only what differs from the app as it is, so the audit log's `changed` lists real changes. */
function changesTo(app: AppView, input: UpdateAppInput) {
  const settings: AppSettingsInput = {};
  for (const key of OVERRIDES) {
    const value = input[key];
    // An empty override means "detect it again".
    const next = value === undefined ? undefined : value === "" ? null : value;
    if (next !== undefined && next !== app.settings[key]) settings[key] = next;
  }
  if (input.memoryMb !== undefined && input.memoryMb !== app.settings.memoryMb) settings.memoryMb = input.memoryMb;
  if (input.cpus !== undefined && input.cpus !== app.settings.cpuMillis) settings.cpuMillis = input.cpus;
  if (input.replicas !== undefined && input.replicas !== app.replicas) settings.replicas = input.replicas;
  if (input.healthCheckPath !== undefined && input.healthCheckPath !== app.settings.healthCheckPath) {
    settings.healthCheckPath = input.healthCheckPath;
  }

  let source: GitSourceInput | null | undefined;
  if (input.gitUrl !== undefined) {
    const current = app.source?.type === "git" ? app.source : null;
    const ref = input.gitRef || "main";
    if (input.gitUrl === "") source = current ? null : undefined;
    else if (!current || current.url !== input.gitUrl || current.ref !== ref) source = { url: input.gitUrl, ref };
  }
  const name = input.name !== undefined && input.name !== app.name ? input.name : undefined;
  return {
    ...(name !== undefined ? { name } : {}),
    ...(source !== undefined ? { source } : {}),
    ...(Object.keys(settings).length > 0 ? { settings } : {}),
  };
}

export const updateAppAction = teamAction(updateAppInput, async (input, { db, ctx }) => {
  const app = await getApp(db, ctx, input.appId);
  const changes = changesTo(app, input);
  if (Object.keys(changes).length === 0) {
    // Nothing to write, but a role that may not change the app still hears so.
    authorize(ctx, "apps:write");
    return { status: "success", message: "Nothing changed." };
  }
  const updated = await updateApp(db, ctx, app.id, changes);
  refresh();
  if (changes.name !== undefined) {
    return { status: "success", message: `Renamed to ${updated.name}; its address is now ${updated.url}.` };
  }
  return { status: "success", message: "Saved. The changes apply from the next deployment." };
});

export const deleteAppAction = teamAction(
  // Compared exactly with the current name, so no trimming.
  appInput.extend({ confirmName: z.string().max(200) }),
  async (input, { db, ctx }) => {
    const app = await getApp(db, ctx, input.appId);
    if (input.confirmName !== app.name) {
      const message = `Type “${app.name}” exactly to confirm.`;
      throw new AppError("invalid", message, { details: [{ path: "confirmName", message }] });
    }
    await deleteApp(db, ctx, app.id);
    redirect(`/teams/${ctx.teamId}/apps`);
  },
);
