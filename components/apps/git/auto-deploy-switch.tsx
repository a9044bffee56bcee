"use client";

// The git source's auto-deploy setting as a switch: a submit button whose role and aria-checked say its state,
// sending the opposite value (as the domain HTTPS settings do).
import { type FormAction, FormMessage, HiddenFields, useActionForm } from "@/components/form";

type AutoDeploySwitchProps = { action: FormAction; fields: Record<string, string>; enabled: boolean; branch: string };

export function AutoDeploySwitch({ action, fields, enabled, branch }: AutoDeploySwitchProps) {
  const { state, formAction, pending } = useActionForm(action);
  return (
    <form action={formAction} className="space-y-2">
      <HiddenFields values={{ ...fields, enabled: enabled ? "off" : "on" }} />
      <div className="flex items-center gap-3">
        <button
          type="submit"
          role="switch"
          aria-checked={enabled}
          disabled={pending}
          data-testid="auto-deploy"
          className={`relative inline-flex h-6 w-11 shrink-0 items-center rounded-full transition-colors focus-visible:outline-2 focus-visible:outline-zinc-500 focus-visible:outline-offset-2 disabled:opacity-60 ${
            enabled ? "bg-emerald-600" : "bg-zinc-300 dark:bg-zinc-700"
          }`}
        >
          <span className="sr-only">Deploy on push</span>
          <span
            aria-hidden="true"
            className={`inline-block size-5 rounded-full bg-white shadow transition-transform ${
              enabled ? "translate-x-5" : "translate-x-0.5"
            }`}
          />
        </button>
        <span className="text-sm">
          Deploy on push
          <span className="block text-xs text-zinc-500">
            Each push to <code className="font-mono">{branch}</code> that reaches the webhook deploys that commit.
          </span>
        </span>
      </div>
      <FormMessage state={state} />
    </form>
  );
}
