"use client";

// Adds a hostname to the app. The domain's rules (no IPs, wildcards, platform names, names another team holds, the
// quota) answer on the hostname field or as the form's message; what was typed stays after a refusal.
import { Field, type FormAction, FormMessage, HiddenFields, SubmitButton, useActionForm } from "@/components/form";

export function AddDomainForm({ action, teamId, appId }: { action: FormAction; teamId: string; appId: string }) {
  const form = useActionForm(action);
  return (
    <form action={form.formAction} onSubmit={form.onSubmit} className="space-y-4" noValidate>
      <HiddenFields values={{ teamId, appId }} />
      <FormMessage state={form.state} />
      <div className="flex flex-col gap-3 sm:flex-row sm:items-start">
        <Field
          label="Hostname"
          name="hostname"
          required
          maxLength={1024}
          autoComplete="off"
          spellCheck={false}
          inputMode="url"
          placeholder="shop.example.com"
          className="max-w-md flex-1 [&_input]:font-mono"
          defaultValue={form.value("hostname")}
          error={form.fieldError("hostname")}
          hint="A name you control in DNS, without https:// or a path. One name per domain: no wildcards."
        />
        <SubmitButton pending={form.pending} className="sm:mt-7">
          Add domain
        </SubmitButton>
      </div>
    </form>
  );
}
