"use client";

import { APP_NAME_RULES } from "@/components/apps/rules";
import { Field, type FormAction, FormMessage, HiddenFields, SubmitButton, useActionForm } from "@/components/form";

export function CreateAppForm({ action, teamId }: { action: FormAction; teamId: string }) {
  const form = useActionForm(action);
  return (
    <form action={form.formAction} onSubmit={form.onSubmit} className="space-y-5" noValidate>
      <HiddenFields values={{ teamId }} />
      <FormMessage state={form.state} />
      <Field
        label="Name"
        name="name"
        required
        maxLength={39}
        autoComplete="off"
        spellCheck={false}
        placeholder="my-app"
        defaultValue={form.value("name")}
        error={form.fieldError("name")}
        hint={APP_NAME_RULES}
        className="max-w-md"
      />
      <fieldset className="space-y-4">
        <legend className="font-medium text-sm">Git source (optional)</legend>
        <p className="-mt-2 text-xs text-zinc-500">
          Leave empty to deploy by uploading tarballs. Public https repositories only; add or change it later in the
          app's settings.
        </p>
        <div className="grid gap-4 sm:grid-cols-[1fr_12rem]">
          <Field
            label="Repository URL"
            name="gitUrl"
            type="url"
            inputMode="url"
            autoComplete="off"
            spellCheck={false}
            placeholder="https://github.com/acme/app.git"
            defaultValue={form.value("gitUrl")}
            error={form.fieldError("gitUrl") ?? form.fieldError("source")}
          />
          <Field
            label="Branch or tag"
            name="gitRef"
            autoComplete="off"
            spellCheck={false}
            placeholder="main"
            defaultValue={form.value("gitRef")}
            error={form.fieldError("gitRef")}
          />
        </div>
      </fieldset>
      <SubmitButton pending={form.pending}>Create app</SubmitButton>
    </form>
  );
}
