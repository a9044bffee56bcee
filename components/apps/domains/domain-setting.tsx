"use client";

// One on/off HTTPS setting of a domain (redirect to HTTPS, HSTS) as a switch: a submit button whose role and
// aria-checked say its state, sending the opposite value to the action.
import { type FormAction, FormMessage, HiddenFields, useActionForm } from "@/components/form";

type DomainSettingProps = {
  action: FormAction;
  fields: Record<string, string>;
  setting: "redirectHttps" | "hsts";
  label: string;
  hint: string;
  enabled: boolean;
};

export function DomainSetting({ action, fields, setting, label, hint, enabled }: DomainSettingProps) {
  const { state, formAction, pending } = useActionForm(action);
  return (
    <form action={formAction} className="space-y-1">
      <HiddenFields values={{ ...fields, setting, enabled: enabled ? "off" : "on" }} />
      <div className="flex items-center gap-3">
        <button
          type="submit"
          role="switch"
          aria-checked={enabled}
          disabled={pending}
          title={hint}
          className={`relative inline-flex h-6 w-11 shrink-0 items-center rounded-full transition-colors focus-visible:outline-2 focus-visible:outline-zinc-500 focus-visible:outline-offset-2 disabled:opacity-60 ${
            enabled ? "bg-emerald-600" : "bg-zinc-300 dark:bg-zinc-700"
          }`}
        >
          <span className="sr-only">{label}</span>
          <span
            aria-hidden="true"
            className={`inline-block size-5 rounded-full bg-white shadow transition-transform ${
              enabled ? "translate-x-5" : "translate-x-0.5"
            }`}
          />
        </button>
        <span className="text-sm">
          {label}
          <span className="block text-xs text-zinc-500">{hint}</span>
        </span>
      </div>
      {state.status === "error" ? <FormMessage state={state} /> : null}
    </form>
  );
}
