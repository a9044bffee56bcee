"use client";

import { Field, type FormAction, FormMessage, SubmitButton, useActionForm } from "@/components/form";

export function CreateTeamForm({ action }: { action: FormAction }) {
  const form = useActionForm(action);
  return (
    <form action={form.formAction} onSubmit={form.onSubmit} className="space-y-4" noValidate>
      <FormMessage state={form.state} />
      <Field
        label="Team name"
        name="name"
        required
        maxLength={80}
        placeholder="Acme"
        autoComplete="organization"
        defaultValue={form.value("name")}
        error={form.fieldError("name")}
      />
      <SubmitButton pending={form.pending}>Create team</SubmitButton>
    </form>
  );
}
