"use client";

import { ENV_KEY_RULES } from "@/components/apps/rules";
import { TextAreaField } from "@/components/apps/text-area-field";
// Forms of the environment page. Values go in through a password input or the bulk textarea and never come back:
// React resets a form after its action succeeds, and the page lists values masked.
import { Field, type FormAction, FormMessage, HiddenFields, SubmitButton, useActionForm } from "@/components/form";

type EnvFormProps = { action: FormAction; teamId: string; appId: string };

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
      <SubmitButton pending={form.pending}>Save variable</SubmitButton>
    </form>
  );
}

export function BulkEnvForm({ action, teamId, appId }: EnvFormProps) {
  const form = useActionForm(action);
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
        placeholder={"DJANGO_SETTINGS_MODULE=mysite.settings\nSENTRY_DSN=https://…\nFEATURE_FLAG="}
        // Kept after an error so the lines can be fixed, not retyped; cleared after saving.
        defaultValue={form.value("lines")}
        error={form.fieldError("lines")}
        hint={
          "One KEY=value per line; everything after the first = is the value, exactly as typed (quotes included). " +
          "Lines with an empty value set an empty string; nothing here removes a variable. Blank lines and # comments " +
          "are skipped."
        }
      />
      <SubmitButton pending={form.pending}>Save all</SubmitButton>
    </form>
  );
}
