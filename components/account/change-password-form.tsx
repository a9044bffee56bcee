"use client";

import { Field, type FormAction, FormMessage, SubmitButton, useActionForm } from "@/components/form";

export function ChangePasswordForm({ action }: { action: FormAction }) {
  const form = useActionForm(action);
  return (
    <form action={form.formAction} onSubmit={form.onSubmit} className="max-w-md space-y-4" noValidate>
      <FormMessage state={form.state} />
      <Field
        label="Current password"
        name="currentPassword"
        type="password"
        autoComplete="current-password"
        hint="Leave empty if you have never set one (you sign in by email link or single sign-on)."
        error={form.fieldError("currentPassword")}
      />
      <Field
        label="New password"
        name="newPassword"
        type="password"
        autoComplete="new-password"
        required
        minLength={10}
        hint="At least 10 characters. Every other session of your account ends."
        error={form.fieldError("newPassword")}
      />
      <Field
        label="Confirm the new password"
        name="confirmPassword"
        type="password"
        autoComplete="new-password"
        required
        error={form.fieldError("confirmPassword")}
      />
      <SubmitButton pending={form.pending}>Change password</SubmitButton>
    </form>
  );
}
