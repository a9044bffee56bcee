"use client";

// A one-button form for row actions (revoke, remove, leave, sign out...). With `confirm`, the first click only
// asks, so a destructive action never happens on a stray click.
import { useState } from "react";
import { type FormAction, FormMessage, HiddenFields, SubmitButton, useActionForm } from "@/components/form";
import { type ButtonVariant, buttonClass } from "@/components/ui";

type ActionButtonProps = {
  action: FormAction;
  label: string;
  fields?: Record<string, string>;
  variant?: ButtonVariant;
  /** A question shown before the action runs, e.g. "Remove ada@example.com from the team?". */
  confirm?: string;
  success?: string;
  /** Stretch the button to the container's width (menus, single-action cards). */
  fullWidth?: boolean;
  className?: string;
};

export function ActionButton({
  action,
  label,
  fields = {},
  variant = "secondary",
  confirm,
  success,
  fullWidth = false,
  className = "",
}: ActionButtonProps) {
  const { state, formAction, pending } = useActionForm(action);
  const [asking, setAsking] = useState(false);
  const showForm = !confirm || asking;
  return (
    <div
      className={`flex flex-col gap-2 ${fullWidth ? "items-stretch [&_button]:w-full" : "items-start"} ${className}`}
    >
      {showForm ? (
        <form action={formAction} className="flex flex-wrap items-center gap-2">
          <HiddenFields values={fields} />
          {confirm ? <span className="text-sm">{confirm}</span> : null}
          <SubmitButton pending={pending} variant={variant}>
            {label}
          </SubmitButton>
          {confirm ? (
            <button type="button" className={buttonClass("ghost")} onClick={() => setAsking(false)} disabled={pending}>
              Cancel
            </button>
          ) : null}
        </form>
      ) : (
        // The first click of a destructive action only asks, so it need not shout yet.
        <button
          type="button"
          className={buttonClass(variant === "danger" ? "danger-soft" : variant)}
          onClick={() => setAsking(true)}
        >
          {label}
        </button>
      )}
      <FormMessage state={state} {...(success ? { success } : {})} />
    </div>
  );
}
