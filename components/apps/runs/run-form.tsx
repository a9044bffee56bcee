"use client";

// "Run a command": a one-off container of the app's current release runs it, and the page of the new run follows its
// output. The command's rules and the time limit's bounds are the domain's; refusals answer on the field.
import { Field, type FormAction, FormMessage, HiddenFields, SubmitButton, useActionForm } from "@/components/form";

type RunFormProps = { action: FormAction; teamId: string; appId: string; defaultTimeoutS: number; maxTimeoutS: number };

export function RunForm({ action, teamId, appId, defaultTimeoutS, maxTimeoutS }: RunFormProps) {
  const form = useActionForm(action);
  return (
    <form action={form.formAction} onSubmit={form.onSubmit} className="space-y-4" noValidate>
      <HiddenFields values={{ teamId, appId }} />
      <FormMessage state={form.state} />
      <div className="flex flex-col gap-3 sm:flex-row sm:items-start">
        <Field
          label="Command"
          name="command"
          required
          autoComplete="off"
          spellCheck={false}
          placeholder="python manage.py migrate"
          className="flex-1 [&_input]:font-mono"
          defaultValue={form.value("command")}
          error={form.fieldError("command")}
          hint="Runs with /bin/sh -c in a new container of the current release, with the app's environment."
        />
        <Field
          label="Time limit (seconds)"
          name="timeoutSeconds"
          inputMode="numeric"
          autoComplete="off"
          placeholder={String(defaultTimeoutS)}
          className="sm:w-44"
          defaultValue={form.value("timeoutSeconds")}
          error={form.fieldError("timeoutSeconds")}
          hint={`Optional, at most ${maxTimeoutS}.`}
        />
        <SubmitButton pending={form.pending} className="sm:mt-7">
          Run
        </SubmitButton>
      </div>
    </form>
  );
}
