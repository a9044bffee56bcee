"use client";

// Forms of the environment page. Secret values go in through a password input or the bulk textarea and come back
// only when someone with the right role reveals one (audited, into this component's state: gone on reload). Plain
// values are listed as they are. "Save" leaves running processes alone; "Save and restart" restarts the app with
// the new values through the lifecycle's restart (one action, one transaction).
import { useEffect, useState } from "react";
import type { EnvPreview } from "@/app/(portal)/teams/[teamId]/apps/[appId]/env/actions";
import { ENV_KEY_RULES } from "@/components/apps/rules";
import { TextAreaField } from "@/components/apps/text-area-field";
import { Field, type FormAction, FormMessage, HiddenFields, useActionForm } from "@/components/form";
import { buttonClass } from "@/components/ui";

type EnvFormProps = { action: FormAction; teamId: string; appId: string };

/** Two submit buttons: the form posts `intent` = the one pressed. */
function SaveButtons({ pending, preview = false }: { pending: boolean; preview?: boolean }) {
  return (
    <div className="flex flex-wrap gap-2">
      {preview ? (
        <button type="submit" name="intent" value="preview" disabled={pending} className={buttonClass("secondary")}>
          Preview
        </button>
      ) : null}
      <button type="submit" name="intent" value="save" disabled={pending} className={buttonClass("secondary")}>
        {pending ? "Saving…" : "Save"}
      </button>
      <button type="submit" name="intent" value="restart" disabled={pending} className={buttonClass("primary")}>
        Save and restart
      </button>
    </div>
  );
}

/** Unticked (the default) keeps values secret: a form without the box, or a slip, never exposes one. */
function PlainCheckbox({ defaultChecked, hint }: { defaultChecked: boolean; hint: string }) {
  return (
    <label className="flex items-start gap-2 text-sm">
      <input type="checkbox" name="plain" defaultChecked={defaultChecked} className="mt-0.5 size-4" />
      <span>
        <span className="font-medium">Plain (not secret)</span>
        <span className="block text-zinc-600 dark:text-zinc-400">{hint}</span>
      </span>
    </label>
  );
}

const PLAIN_HINT =
  "Shown to everyone in the team and in the API. Left unticked, the value is secret: masked, and revealed only on request by members and up (recorded in the audit log).";

export function SetEnvVarForm({ action, teamId, appId }: EnvFormProps) {
  const form = useActionForm(action);
  return (
    <form action={form.formAction} onSubmit={form.onSubmit} className="space-y-4" noValidate>
      <HiddenFields values={{ teamId, appId }} />
      <FormMessage state={form.state} />
      <div className="grid gap-4 md:grid-cols-2">
        <Field
          label="Key"
          name="key"
          required
          maxLength={128}
          autoComplete="off"
          spellCheck={false}
          placeholder="SECRET_KEY"
          className="[&_input]:font-mono"
          defaultValue={form.value("key")}
          error={form.fieldError("key")}
          hint={ENV_KEY_RULES}
        />
        <Field
          label="Value"
          name="value"
          // A password input: not shown on screen, not kept in form history, never re-filled after an error.
          type="password"
          autoComplete="new-password"
          spellCheck={false}
          className="[&_input]:font-mono"
          error={form.fieldError("value")}
          hint="Setting a key that exists replaces its value. An empty value is an empty string."
        />
      </div>
      <PlainCheckbox defaultChecked={false} hint={PLAIN_HINT} />
      <SaveButtons pending={form.pending} />
    </form>
  );
}

// Roles that may not reveal get no Reveal button; the hook still needs an action.
const noReveal: FormAction<{ value: string }> = async (state) => state;

/** One variable's value cell: a plain value as it is; a secret one masked, with Reveal for those allowed. */
export function EnvValue({
  teamId,
  appId,
  name,
  value,
  secret,
  reveal,
}: {
  teamId: string;
  appId: string;
  name: string;
  value: string;
  secret: boolean;
  reveal: FormAction<{ value: string }> | null;
}) {
  const form = useActionForm<{ value: string }>(reveal ?? noReveal);
  const [hidden, setHidden] = useState(false);
  if (!secret) return <code className="break-all font-mono text-xs">{value === "" ? '""' : value}</code>;
  const revealed = form.state.status === "success" && !hidden ? form.state.data?.value : undefined;
  if (revealed !== undefined) {
    return (
      <span className="flex flex-wrap items-center gap-2">
        <code className="break-all font-mono text-xs" data-testid={`env-revealed-${name}`}>
          {revealed === "" ? '""' : revealed}
        </code>
        <button type="button" className={buttonClass("ghost", "px-2 py-1 text-xs")} onClick={() => setHidden(true)}>
          Hide
        </button>
      </span>
    );
  }
  return (
    <span className="flex flex-wrap items-center gap-2">
      <span className="font-mono text-xs text-zinc-600 dark:text-zinc-400" title="Secret">
        {value}
        <span className="sr-only"> (secret)</span>
      </span>
      {reveal ? (
        <form
          action={(formData) => {
            setHidden(false);
            form.formAction(formData);
          }}
        >
          <HiddenFields values={{ teamId, appId, key: name }} />
          <button type="submit" disabled={form.pending} className={buttonClass("ghost", "px-2 py-1 text-xs")}>
            {form.pending ? (
              "Revealing…"
            ) : (
              <>
                Reveal<span className="sr-only"> {name}</span>
              </>
            )}
          </button>
        </form>
      ) : null}
      {form.state.status === "error" ? (
        <span className="text-red-700 text-xs dark:text-red-300">{form.state.message}</span>
      ) : null}
    </span>
  );
}

/** Per-row edit: a new value (a plain one starts from the current value) and the secret flag. */
export function EditEnvVarForm({
  action,
  teamId,
  appId,
  name,
  value,
  secret,
}: EnvFormProps & { name: string; value: string; secret: boolean }) {
  const form = useActionForm(action);
  return (
    <details className="group w-full">
      <summary className={buttonClass("ghost", "cursor-pointer list-none px-2 py-1 text-xs")}>
        Edit<span className="sr-only"> {name}</span>
      </summary>
      <form action={form.formAction} onSubmit={form.onSubmit} className="mt-3 space-y-3" noValidate>
        <HiddenFields values={{ teamId, appId, key: name }} />
        <FormMessage state={form.state} />
        <TextAreaField
          label={`New value of ${name}`}
          name="value"
          rows={2}
          spellCheck={false}
          autoComplete="off"
          className="[&_textarea]:font-mono"
          defaultValue={secret ? "" : value}
          error={form.fieldError("value")}
          hint={secret ? "The current value stays hidden: type the new one." : undefined}
        />
        <PlainCheckbox defaultChecked={!secret} hint={PLAIN_HINT} />
        <SaveButtons pending={form.pending} />
      </form>
    </details>
  );
}

export function BulkEnvForm({
  action,
  teamId,
  appId,
}: {
  action: FormAction<EnvPreview>;
  teamId: string;
  appId: string;
}) {
  const form = useActionForm(action);
  // Controlled, so the text survives the form reset React does after a successful Preview.
  const [lines, setLines] = useState("");
  const preview = form.state.status === "success" ? form.state.data : undefined;
  // Saved (a success without a preview): the pasted values should not linger on the screen.
  useEffect(() => {
    if (form.state.status === "success" && !form.state.data) setLines("");
  }, [form.state]);
  return (
    <form action={form.formAction} onSubmit={form.onSubmit} className="space-y-4" noValidate>
      <HiddenFields values={{ teamId, appId }} />
      <FormMessage state={form.state} />
      <TextAreaField
        label="Variables"
        name="lines"
        rows={8}
        spellCheck={false}
        autoComplete="off"
        placeholder={'DJANGO_SETTINGS_MODULE=mysite.settings\nexport SENTRY_DSN="https://…"\nFEATURE_FLAG='}
        value={lines}
        onChange={(event) => setLines(event.target.value)}
        error={form.fieldError("lines")}
        hint={
          "Paste a .env file: KEY=value lines, read the way .env files are (quotes removed, \\n escapes in double " +
          "quotes, values spanning lines in quotes, # comments, an optional export prefix). Nothing here removes a " +
          "variable. Preview shows which keys it sets before anything is saved."
        }
      />
      <PlainCheckbox defaultChecked={false} hint="For every variable saved from here. Unticked, they are all secret." />
      {preview && preview.length > 0 ? (
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm" aria-label="Preview">
            <thead className="text-xs text-zinc-600 uppercase tracking-wide dark:text-zinc-400">
              <tr>
                <th scope="col" className="py-1 pr-3 font-medium">
                  Key
                </th>
                <th scope="col" className="py-1 pr-3 font-medium">
                  Change
                </th>
                <th scope="col" className="py-1 font-medium">
                  Value
                </th>
              </tr>
            </thead>
            <tbody>
              {preview.map((row) => (
                <tr key={row.key} data-testid="env-preview-row">
                  <td className="py-1 pr-3 font-mono text-xs">{row.key}</td>
                  <td className="py-1 pr-3">{row.change === "new" ? "new" : "replaces the current value"}</td>
                  <td className="py-1">{row.length === 1 ? "1 character" : `${row.length} characters`}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <SaveButtons pending={form.pending} preview />
    </form>
  );
}
