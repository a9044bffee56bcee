"use client";

import { Field, type FormAction, FormMessage, HiddenFields, SubmitButton, useActionForm } from "@/components/form";

export function RenameTeamForm({ action, teamId, name }: { action: FormAction; teamId: string; name: string }) {
  const form = useActionForm(action);
  return (
    <form action={form.formAction} onSubmit={form.onSubmit} className="space-y-4" noValidate>
      <HiddenFields values={{ teamId }} />
      <FormMessage state={form.state} />
      <Field
        label="Team name"
        name="name"
        required
        maxLength={80}
        // After a successful rename the page re-renders with the new name as `name`.
        defaultValue={form.value("name", name)}
        error={form.fieldError("name")}
        className="max-w-md"
      />
      <SubmitButton pending={form.pending}>Rename team</SubmitButton>
    </form>
  );
}

export function DeleteTeamForm({ action, teamId, name }: { action: FormAction; teamId: string; name: string }) {
  const form = useActionForm(action);
  return (
    <form action={form.formAction} onSubmit={form.onSubmit} className="space-y-4" noValidate>
      <HiddenFields values={{ teamId }} />
      <FormMessage state={form.state} />
      <Field
        label={`Type “${name}” to confirm`}
        name="confirmName"
        required
        autoComplete="off"
        defaultValue={form.value("confirmName")}
        error={form.fieldError("confirmName")}
        className="max-w-md"
      />
      <SubmitButton pending={form.pending} variant="danger">
        Delete team
      </SubmitButton>
    </form>
  );
}
