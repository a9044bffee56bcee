"use client";

// The forms of the sign-in, sign-up and password pages. Each posts to a server action handed in by its page.
import { Field, type FormAction, FormMessage, HiddenFields, SubmitButton, useActionForm } from "@/components/form";

type WithCallback = { action: FormAction; callbackUrl: string | null };

function callbackField(callbackUrl: string | null): Record<string, string> {
  return callbackUrl ? { callbackUrl } : {};
}

export function PasswordSignInForm({ action, callbackUrl }: WithCallback) {
  const form = useActionForm(action);
  return (
    <form action={form.formAction} onSubmit={form.onSubmit} className="space-y-4" noValidate>
      <HiddenFields values={callbackField(callbackUrl)} />
      <FormMessage state={form.state} />
      <Field
        label="Email"
        name="email"
        type="email"
        autoComplete="email"
        required
        defaultValue={form.value("email")}
        error={form.fieldError("email")}
      />
      <Field
        label="Password"
        name="password"
        type="password"
        autoComplete="current-password"
        required
        error={form.fieldError("password")}
      />
      <SubmitButton pending={form.pending} className="w-full">
        Sign in
      </SubmitButton>
    </form>
  );
}

export function EmailLinkForm({ action, callbackUrl }: WithCallback) {
  const form = useActionForm(action);
  return (
    <form action={form.formAction} onSubmit={form.onSubmit} className="space-y-3" noValidate>
      <HiddenFields values={callbackField(callbackUrl)} />
      <FormMessage state={form.state} />
      <Field
        label="Email for a sign-in link"
        name="email"
        type="email"
        autoComplete="email"
        required
        defaultValue={form.value("email")}
        error={form.fieldError("email")}
      />
      <SubmitButton pending={form.pending} variant="secondary" className="w-full">
        Email me a link
      </SubmitButton>
    </form>
  );
}

export function SignUpForm({ action, callbackUrl, email }: WithCallback & { email: string }) {
  const form = useActionForm(action);
  return (
    <form action={form.formAction} onSubmit={form.onSubmit} className="space-y-4" noValidate>
      <HiddenFields values={callbackField(callbackUrl)} />
      <FormMessage state={form.state} />
      <Field
        label="Name"
        name="name"
        autoComplete="name"
        required
        maxLength={80}
        defaultValue={form.value("name")}
        error={form.fieldError("name")}
      />
      <Field
        label="Email"
        name="email"
        type="email"
        autoComplete="email"
        required
        defaultValue={form.value("email", email)}
        error={form.fieldError("email")}
      />
      <Field
        label="Password"
        name="password"
        type="password"
        autoComplete="new-password"
        required
        minLength={10}
        hint="At least 10 characters."
        error={form.fieldError("password")}
      />
      <SubmitButton pending={form.pending} className="w-full">
        Create account
      </SubmitButton>
    </form>
  );
}

export function ForgotPasswordForm({ action }: { action: FormAction }) {
  const form = useActionForm(action);
  return (
    <form action={form.formAction} onSubmit={form.onSubmit} className="space-y-4" noValidate>
      <FormMessage state={form.state} />
      <Field
        label="Email"
        name="email"
        type="email"
        autoComplete="email"
        required
        defaultValue={form.value("email")}
        error={form.fieldError("email")}
      />
      <SubmitButton pending={form.pending} className="w-full">
        Send a reset link
      </SubmitButton>
    </form>
  );
}

export function ResetPasswordForm({ action, token }: { action: FormAction; token: string }) {
  const form = useActionForm(action);
  return (
    <form action={form.formAction} onSubmit={form.onSubmit} className="space-y-4" noValidate>
      <HiddenFields values={{ token }} />
      <FormMessage state={form.state} />
      <Field
        label="New password"
        name="newPassword"
        type="password"
        autoComplete="new-password"
        required
        minLength={10}
        hint="At least 10 characters."
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
      <SubmitButton pending={form.pending} className="w-full">
        Set the new password
      </SubmitButton>
    </form>
  );
}
