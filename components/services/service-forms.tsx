"use client";

// The forms of the databases and Redis pages. Each posts to a server action (app/(portal)/teams/[teamId]/
// {databases,redis}/actions.ts) and shows its answer; the pages render them only for roles that may use them.
import { useId, useState } from "react";
import { PendingButton } from "@/components/apps/pending-button";
import { CopyOnce } from "@/components/copy-once";
import {
  Field,
  type FormAction,
  FormMessage,
  HiddenFields,
  SelectField,
  SubmitButton,
  useActionForm,
} from "@/components/form";
import { KIND_LABELS, type ServiceKind, type ServiceLimits } from "@/components/services/service-types";
import { buttonClass } from "@/components/ui";

type AppChoice = { id: string; name: string };

const idField: Record<ServiceKind, string> = { database: "databaseId", redis: "redisId" };

function appOptions(apps: AppChoice[]) {
  return [{ value: "", label: "No app" }, ...apps.map((app) => ({ value: app.id, label: app.name }))];
}

/** Form fields in seconds: what people think in; the action converts to the domain's milliseconds. */
function LimitFields({
  limits,
  form,
}: {
  limits: ServiceLimits;
  form: { value(name: string, fallback?: string): string; fieldError(name: string): string | undefined };
}) {
  const error = (name: string, domain: string) => form.fieldError(name) ?? form.fieldError(`limits.${domain}`);
  return (
    <div className="grid gap-4 sm:grid-cols-3">
      <Field
        label="Connections"
        name="connectionLimit"
        type="number"
        inputMode="numeric"
        min={1}
        max={100}
        step={1}
        required
        defaultValue={form.value("connectionLimit", String(limits.connectionLimit))}
        error={error("connectionLimit", "connectionLimit")}
        hint="Open connections at once, 1 to 100."
      />
      <Field
        label="Statement timeout (seconds)"
        name="statementTimeout"
        type="number"
        inputMode="decimal"
        min={0.1}
        max={86400}
        step="any"
        required
        defaultValue={form.value("statementTimeout", String(limits.statementTimeoutMs / 1000))}
        error={error("statementTimeout", "statementTimeoutMs")}
        hint="Longer queries are cancelled."
      />
      <Field
        label="Idle in transaction (seconds)"
        name="idleInTransactionTimeout"
        type="number"
        inputMode="decimal"
        min={1}
        max={86400}
        step="any"
        required
        defaultValue={form.value("idleInTransactionTimeout", String(limits.idleInTransactionMs / 1000))}
        error={error("idleInTransactionTimeout", "idleInTransactionMs")}
        hint="Sessions idle inside a transaction longer are ended."
      />
    </div>
  );
}

export const DEFAULT_LIMITS: ServiceLimits = {
  connectionLimit: 20,
  statementTimeoutMs: 30_000,
  idleInTransactionMs: 60_000,
};

export function CreateServiceForm({
  kind,
  teamId,
  apps,
  action,
}: {
  kind: ServiceKind;
  teamId: string;
  apps: AppChoice[];
  action: FormAction;
}) {
  const form = useActionForm(action);
  return (
    <form action={form.formAction} onSubmit={form.onSubmit} className="space-y-5" noValidate>
      <HiddenFields values={{ teamId }} />
      <FormMessage state={form.state} />
      <Field
        label="Name"
        name="name"
        required
        autoComplete="off"
        spellCheck={false}
        maxLength={63}
        className="max-w-md"
        defaultValue={form.value("name")}
        error={form.fieldError("name")}
        hint="Lower-case letters, digits and hyphens, e.g. main-db."
      />
      <SelectField
        label="Attach to app"
        name="appId"
        options={appOptions(apps)}
        defaultValue={form.value("appId", "")}
        error={form.fieldError("appId")}
        className="max-w-md"
      />
      {kind === "database" ? <LimitFields limits={DEFAULT_LIMITS} form={form} /> : null}
      <PendingButton pending={form.pending} pendingLabel="Creating…">
        Create {KIND_LABELS[kind].one}
      </PendingButton>
    </form>
  );
}

export function AttachForm({
  kind,
  teamId,
  serviceId,
  apps,
  currentAppId,
  action,
}: {
  kind: ServiceKind;
  teamId: string;
  serviceId: string;
  apps: AppChoice[];
  currentAppId: string | null;
  action: FormAction;
}) {
  const form = useActionForm(action);
  return (
    <form action={form.formAction} onSubmit={form.onSubmit} className="space-y-3" noValidate>
      <HiddenFields values={{ teamId, [idField[kind]]: serviceId }} />
      <div className="flex flex-col gap-3 sm:flex-row sm:items-end">
        <SelectField
          label="Attached app"
          name="appId"
          options={appOptions(apps)}
          defaultValue={form.value("appId", currentAppId ?? "")}
          error={form.fieldError("appId")}
          className="w-full max-w-sm"
        />
        <SubmitButton pending={form.pending} variant="secondary">
          Save attachment
        </SubmitButton>
      </div>
      <FormMessage state={form.state} />
    </form>
  );
}

export function LimitsForm({
  teamId,
  databaseId,
  limits,
  action,
  disabled,
}: {
  teamId: string;
  databaseId: string;
  limits: ServiceLimits;
  action: FormAction;
  disabled: boolean;
}) {
  const form = useActionForm(action);
  return (
    <form action={form.formAction} onSubmit={form.onSubmit} className="space-y-4" noValidate>
      <HiddenFields values={{ teamId, databaseId }} />
      <fieldset disabled={disabled} className="space-y-4">
        <legend className="sr-only">Limits</legend>
        <LimitFields limits={limits} form={form} />
        <SubmitButton pending={form.pending} variant="secondary">
          Change limits
        </SubmitButton>
      </fieldset>
      <FormMessage state={form.state} />
    </form>
  );
}

type Credentials = Record<string, string | number>;

const CREDENTIAL_LABELS: Record<string, string> = {
  url: "URL",
  host: "Host",
  port: "Port",
  database: "Database",
  user: "User",
  password: "Password",
  keyPrefix: "Key prefix",
};

/** Reveals the credentials on request, into this component's state only: gone on reload, never in the URL. */
export function RevealCredentials({
  kind,
  teamId,
  serviceId,
  action,
}: {
  kind: ServiceKind;
  teamId: string;
  serviceId: string;
  action: FormAction<Credentials>;
}) {
  const form = useActionForm(action);
  const [hidden, setHidden] = useState(false);
  const id = useId();
  const credentials = form.state.status === "success" && !hidden ? form.state.data : undefined;
  if (credentials) {
    return (
      <div className="space-y-3" data-testid="credentials">
        <CopyOnce
          label="Connection URL"
          value={String(credentials.url)}
          note="Shown because you asked; this reveal is in the audit log. Reloading the page hides it."
        />
        <dl className="grid gap-x-4 gap-y-2 text-sm sm:grid-cols-[max-content_1fr]">
          {Object.entries(credentials)
            .filter(([key]) => key !== "url")
            .map(([key, value]) => (
              <div key={key} className="contents">
                <dt className="font-medium text-zinc-600 dark:text-zinc-400">{CREDENTIAL_LABELS[key] ?? key}</dt>
                <dd className="break-all font-mono text-xs" data-testid={`credential-${key}`}>
                  {String(value)}
                </dd>
              </div>
            ))}
        </dl>
        <button type="button" className={buttonClass("ghost")} onClick={() => setHidden(true)}>
          Hide credentials
        </button>
      </div>
    );
  }
  return (
    <form
      action={(formData) => {
        setHidden(false);
        form.formAction(formData);
      }}
      className="space-y-3"
      aria-describedby={`${id}-note`}
    >
      <HiddenFields values={{ teamId, [idField[kind]]: serviceId }} />
      <p id={`${id}-note`} className="text-sm text-zinc-600 dark:text-zinc-400">
        The password is shown only on request, and each reveal is recorded in the audit log.
      </p>
      <PendingButton pending={form.pending} pendingLabel="Revealing…" variant="secondary">
        Reveal credentials
      </PendingButton>
      <FormMessage state={form.state} />
    </form>
  );
}

export function DeleteServiceForm({
  kind,
  teamId,
  serviceId,
  name,
  action,
}: {
  kind: ServiceKind;
  teamId: string;
  serviceId: string;
  name: string;
  action: FormAction;
}) {
  const form = useActionForm(action);
  return (
    <form action={form.formAction} onSubmit={form.onSubmit} className="space-y-4" noValidate>
      <HiddenFields values={{ teamId, [idField[kind]]: serviceId }} />
      <FormMessage state={form.state} />
      <Field
        label={`Type “${name}” to confirm`}
        name="confirmName"
        required
        autoComplete="off"
        spellCheck={false}
        defaultValue={form.value("confirmName")}
        error={form.fieldError("confirmName")}
        className="max-w-md"
      />
      <SubmitButton pending={form.pending} variant="danger">
        Delete {KIND_LABELS[kind].one}
      </SubmitButton>
    </form>
  );
}
