"use client";

// The app settings page's forms. Each sends only its own fields to the same action, which changes only those; the
// domain validates and names the field at fault (as `settings.<field>` or `source` for its own checks).
import type { ReactNode } from "react";
import type { DetectedSettings } from "@/app/(portal)/teams/[teamId]/apps/[appId]/settings/detected";
import { APP_NAME_RULES } from "@/components/apps/rules";
import { Field, type FormAction, FormMessage, HiddenFields, SubmitButton, useActionForm } from "@/components/form";
import type { AppView } from "@/lib/domain/apps";

type SettingsFormProps = { action: FormAction; teamId: string; app: AppView };
type DetectedProps = SettingsFormProps & { detected: DetectedSettings | null };

/**
 * What the latest build found for one setting, beside its override field: "Detected: gunicorn app:app — leave empty
 * to use it." The stored plan records what the build used, so while an override is set it names that instead.
 */
function DetectedLine({
  detected,
  value,
  override,
}: {
  detected: DetectedSettings | null;
  value: string | null | undefined;
  override: string | null;
}) {
  if (!detected) return <>Nothing detected yet: the first build decides. Leave empty to use what it finds.</>;
  const build = `build #${detected.deploymentNumber}`;
  if (!value) return <>The latest build ({build}) found none. Leave empty to keep it that way.</>;
  const shown = <code className="break-all font-mono text-zinc-800 dark:text-zinc-200">{value}</code>;
  if (override)
    return (
      <>
        Overridden. The latest build ({build}) used {shown}; empty the field to detect it again.
      </>
    );
  return (
    <>
      Detected: {shown} ({build}) — leave empty to use it.
    </>
  );
}

/** Which source the subdirectory applies to, in words. */
function sourceWords(app: AppView): string {
  const git = app.source?.type === "git" ? app.source : null;
  return git
    ? `the git repository ${git.url} (${git.ref}) and every uploaded tarball`
    : "every uploaded tarball (and the git repository, once one is set)";
}

function useSettingsForm(action: FormAction) {
  const form = useActionForm(action);
  /** The action's own field error, or the domain's for the same setting. */
  const error = (name: string, domainPath = `settings.${name}`) => form.fieldError(name) ?? form.fieldError(domainPath);
  return { ...form, error };
}

function SettingsForm({
  form,
  teamId,
  appId,
  submit,
  children,
}: {
  form: ReturnType<typeof useSettingsForm>;
  teamId: string;
  appId: string;
  submit: string;
  children: ReactNode;
}) {
  return (
    <form action={form.formAction} onSubmit={form.onSubmit} className="space-y-4" noValidate>
      <HiddenFields values={{ teamId, appId }} />
      <FormMessage state={form.state} />
      {children}
      <SubmitButton pending={form.pending}>{submit}</SubmitButton>
    </form>
  );
}

export function RenameAppForm({ action, teamId, app }: SettingsFormProps) {
  const form = useSettingsForm(action);
  return (
    <SettingsForm form={form} teamId={teamId} appId={app.id} submit="Rename app">
      <Field
        label="Name"
        name="name"
        required
        maxLength={39}
        autoComplete="off"
        spellCheck={false}
        defaultValue={form.value("name", app.name)}
        error={form.error("name", "name")}
        hint={APP_NAME_RULES}
        className="max-w-md"
      />
    </SettingsForm>
  );
}

export function SourceForm({ action, teamId, app, detected }: DetectedProps) {
  const form = useSettingsForm(action);
  const git = app.source?.type === "git" ? app.source : null;
  return (
    <SettingsForm form={form} teamId={teamId} appId={app.id} submit="Save source">
      <div className="grid gap-4 sm:grid-cols-[1fr_12rem]">
        <Field
          label="Repository URL"
          name="gitUrl"
          type="url"
          inputMode="url"
          autoComplete="off"
          spellCheck={false}
          placeholder="https://github.com/acme/app.git"
          defaultValue={form.value("gitUrl", git?.url ?? "")}
          error={form.error("gitUrl", "source")}
          hint="Public https repositories only. Empty: deploy by uploading tarballs."
        />
        <Field
          label="Branch or tag"
          name="gitRef"
          autoComplete="off"
          spellCheck={false}
          placeholder="main"
          defaultValue={form.value("gitRef", git?.ref ?? "")}
          // The domain's "source" error is shown once, under the URL.
          error={form.fieldError("gitRef")}
        />
      </div>
      <Field
        label="Subdirectory"
        name="subdirectory"
        autoComplete="off"
        spellCheck={false}
        placeholder="services/web"
        defaultValue={form.value("subdirectory", app.settings.subdirectory ?? "")}
        error={form.error("subdirectory")}
        hint={
          <>
            Applies to {sourceWords(app)}: builds start in this directory instead of the source's root (for monorepos).
            {detected ? (
              <>
                {" "}
                The latest build (#{detected.deploymentNumber}) came from{" "}
                {detected.source.type === "git"
                  ? `git (${detected.source.url}${detected.source.ref ? ` at ${detected.source.ref}` : ""})`
                  : "an upload"}
                {app.settings.subdirectory
                  ? ` and started in ${app.settings.subdirectory}/.`
                  : " and started at its root."}
              </>
            ) : null}
          </>
        }
        className="max-w-md"
      />
    </SettingsForm>
  );
}

export function BuildForm({ action, teamId, app, detected }: DetectedProps) {
  const form = useSettingsForm(action);
  const plan = detected?.plan;
  const found = {
    installCommand: plan ? `${plan.installer} (the installer)` : null,
    webCommand: plan?.processes.web ?? null,
    releaseCommand: plan?.release ?? null,
  };
  const command = (name: "installCommand" | "webCommand" | "releaseCommand", label: string, hint: string) => (
    <Field
      label={label}
      name={name}
      autoComplete="off"
      spellCheck={false}
      className="[&_input]:font-mono"
      placeholder="detected"
      defaultValue={form.value(name, app.settings[name] ?? "")}
      error={form.error(name)}
      hint={
        <>
          {hint}{" "}
          <span data-testid={`detected-${name}`}>
            <DetectedLine detected={detected} value={found[name]} override={app.settings[name]} />
          </span>
        </>
      }
    />
  );
  return (
    <SettingsForm form={form} teamId={teamId} appId={app.id} submit="Save build settings">
      <Field
        label="Python version"
        name="pythonVersion"
        autoComplete="off"
        spellCheck={false}
        placeholder="detected"
        defaultValue={form.value("pythonVersion", app.settings.pythonVersion ?? "")}
        error={form.error("pythonVersion")}
        hint={
          <>
            Like 3.12. Empty: taken from .python-version, requires-python or runtime.txt.{" "}
            <span data-testid="detected-pythonVersion">
              <DetectedLine
                detected={detected}
                value={plan?.builder === "python" ? plan.pythonVersion : null}
                override={app.settings.pythonVersion}
              />
            </span>
          </>
        }
        className="max-w-md"
      />
      {command("installCommand", "Install command", "Replaces the detected dependency install (uv, poetry, pip…).")}
      {command(
        "webCommand",
        "Web command",
        "Replaces the Procfile's web: line or the detected server. Listen on $PORT.",
      )}
      {command("releaseCommand", "Release command", "Runs once before each release, e.g. database migrations.")}
      <input type="hidden" name="djangoSetupShown" value="1" />
      <label className="flex items-start gap-2 text-sm">
        <input
          type="checkbox"
          name="djangoSetup"
          defaultChecked={app.settings.djangoSetup}
          key={String(app.settings.djangoSetup)}
          className="mt-0.5 size-4"
        />
        <span>
          Django setup: run <code>manage.py migrate</code> as the release command (when none is set) and{" "}
          <code>collectstatic</code> at build time (when STATIC_ROOT is set).
        </span>
      </label>
      <p className="text-xs text-zinc-500">Empty fields use what the build detects from the source.</p>
    </SettingsForm>
  );
}

export function ResourcesForm({ action, teamId, app }: SettingsFormProps) {
  const form = useSettingsForm(action);
  return (
    <SettingsForm form={form} teamId={teamId} appId={app.id} submit="Save resources">
      <div className="grid gap-4 sm:grid-cols-3">
        <Field
          label="Memory (MiB)"
          name="memoryMb"
          type="number"
          inputMode="numeric"
          min={128}
          max={16384}
          step={64}
          defaultValue={form.value("memoryMb", String(app.settings.memoryMb))}
          error={form.error("memoryMb")}
          hint="128 to 16384, per process."
        />
        <Field
          label="CPU"
          name="cpus"
          type="number"
          inputMode="decimal"
          min={0.1}
          max={8}
          step={0.1}
          defaultValue={form.value("cpus", String(app.settings.cpuMillis / 1000))}
          error={form.error("cpus", "settings.cpuMillis")}
          hint="0.1 to 8 CPUs, per process."
        />
        <Field
          label="Replicas"
          name="replicas"
          type="number"
          inputMode="numeric"
          min={0}
          max={20}
          defaultValue={form.value("replicas", String(app.replicas))}
          error={form.error("replicas")}
          hint="Web processes to run, 0 to 20."
        />
      </div>
      <Field
        label="Health-check path"
        name="healthCheckPath"
        autoComplete="off"
        spellCheck={false}
        className="max-w-md [&_input]:font-mono"
        defaultValue={form.value("healthCheckPath", app.settings.healthCheckPath)}
        error={form.error("healthCheckPath")}
        hint="A release is switched on only once this path answers with a success status."
      />
    </SettingsForm>
  );
}

export function DeleteAppForm({ action, teamId, app }: SettingsFormProps) {
  const form = useActionForm(action);
  return (
    <form action={form.formAction} onSubmit={form.onSubmit} className="space-y-4" noValidate>
      <HiddenFields values={{ teamId, appId: app.id }} />
      <FormMessage state={form.state} />
      <Field
        label={`Type “${app.name}” to confirm`}
        name="confirmName"
        required
        autoComplete="off"
        spellCheck={false}
        defaultValue={form.value("confirmName")}
        error={form.fieldError("confirmName")}
        className="max-w-md"
      />
      <SubmitButton pending={form.pending} variant="danger">
        Delete app
      </SubmitButton>
    </form>
  );
}
