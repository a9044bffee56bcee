// A submit button that says what is happening while its form's action runs ("Uploading…", "Starting…"), where the
// generic "Saving…" of SubmitButton would mislead.
import type { ReactNode } from "react";
import { type ButtonVariant, buttonClass } from "@/components/ui";

export function PendingButton({
  pending,
  pendingLabel,
  children,
  variant = "primary",
  className = "",
}: {
  pending: boolean;
  pendingLabel: string;
  children: ReactNode;
  variant?: ButtonVariant;
  className?: string;
}) {
  return (
    <button type="submit" disabled={pending} aria-disabled={pending} className={buttonClass(variant, className)}>
      {pending ? (
        <>
          <span
            aria-hidden="true"
            className="size-3.5 animate-spin rounded-full border-2 border-current border-r-transparent"
          />
          {pendingLabel}
        </>
      ) : (
        children
      )}
    </button>
  );
}
