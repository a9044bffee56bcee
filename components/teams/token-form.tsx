"use client";

import { useId } from "react";
import { CopyOnce } from "@/components/copy-once";
import { Field, type FormAction, FormMessage, HiddenFields, SubmitButton, useActionForm } from "@/components/form";

type CreatedToken = { name: string; token: string };

const SCOPES = [
  { value: "read", label: "Read", hint: "Reads the team's apps, members and logs." },
  { value: "write", label: "Read and write", hint: "Also deploys, changes settings and manages the team." },
] as const;

/**
 * `apiUrl` is the platform's public URL (TUSSILAGO_PUBLIC_URL): the new token is shown with a ready-to-paste curl
 * command, the quickest check that the token works.
 */
export function CreateTokenForm({
  action,
  teamId,
  apiUrl,
}: {
  action: FormAction<CreatedToken>;
  teamId: string;
  apiUrl: string;
}) {
  const form = useActionForm(action);
  const groupId = useId();
  const created = form.state.status === "success" ? form.state.data : undefined;
  const scope = form.value("scope", "read");
  return (
    <div className="space-y-4">
      <form action={form.formAction} onSubmit={form.onSubmit} className="space-y-4" noValidate>
        <HiddenFields values={{ teamId }} />
        <div className="grid gap-4 sm:grid-cols-2">
          <Field
            label="Name"
            name="name"
            required
            maxLength={60}
            placeholder="CI deploys"
            defaultValue={form.value("name")}
            error={form.fieldError("name")}
          />
          <Field
            label="Expires after (days)"
            name="expiresInDays"
            type="number"
            inputMode="numeric"
            min={1}
            max={3650}
            hint="Leave empty for a token that does not expire."
            defaultValue={form.value("expiresInDays")}
            error={form.fieldError("expiresInDays")}
          />
        </div>
        <fieldset aria-describedby={form.fieldError("scope") ? `${groupId}-error` : undefined}>
          <legend className="font-medium text-sm">Access</legend>
          <div className="mt-2 grid gap-2 sm:grid-cols-2">
            {SCOPES.map((option) => (
              <label
                key={option.value}
                className="flex cursor-pointer gap-3 rounded-lg border border-zinc-200 p-3 has-checked:border-zinc-900 dark:border-zinc-800 dark:has-checked:border-zinc-200"
              >
                <input
                  type="radio"
                  name="scope"
                  value={option.value}
                  defaultChecked={scope === option.value}
                  className="mt-0.5"
                />
                <span>
                  <span className="block font-medium text-sm">{option.label}</span>
                  <span className="block text-xs text-zinc-500">{option.hint}</span>
                </span>
              </label>
            ))}
          </div>
          {form.fieldError("scope") ? (
            <p id={`${groupId}-error`} className="mt-1 text-red-600 text-xs">
              {form.fieldError("scope")}
            </p>
          ) : null}
        </fieldset>
        <SubmitButton pending={form.pending}>Create token</SubmitButton>
      </form>
      <FormMessage state={form.state} />
      {created ? (
        <CopyOnce
          label={`API token “${created.name}”`}
          value={created.token}
          note="Copy this token now; it will not be shown again."
        />
      ) : null}
      {created ? (
        <div className="space-y-1.5">
          <p className="font-medium text-sm">Try it: list the team's apps</p>
          <pre
            data-testid="token-curl"
            className="overflow-x-auto rounded-lg bg-zinc-900 p-3 font-mono text-xs text-zinc-100 dark:bg-zinc-800"
          >
            <code>{`curl -H "Authorization: Bearer ${created.token}" ${apiUrl}/api/v1/apps`}</code>
          </pre>
        </div>
      ) : null}
    </div>
  );
}
