"use client";

// Form primitives over useActionState. The server actions return an ActionState (lib/actions.ts); these render its
// message and field errors, keep what the user typed after an error, and disable the submit button while pending.
import { type FormEvent, type InputHTMLAttributes, type ReactNode, useActionState, useId, useState } from "react";
import { type ButtonVariant, buttonClass, inputClass, Notice } from "@/components/ui";
// A type-only import: lib/actions itself is server code and must not end up in the browser bundle.
import type { ActionState } from "@/lib/actions";

export type FormAction<T = undefined> = (state: ActionState<T>, formData: FormData) => Promise<ActionState<T>>;

/**
 * useActionState plus the values of the last submission. React resets a form after its action completes, which
 * would wipe what the user typed when the server refused it; fields read their default back from here instead.
 * Passwords are never kept.
 */
export function useActionForm<T>(action: FormAction<T>) {
  const [state, formAction, pending] = useActionState<ActionState<T>, FormData>(action, { status: "idle" });
  const [submitted, setSubmitted] = useState<Record<string, string>>({});
  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    const values: Record<string, string> = {};
    for (const [key, value] of new FormData(event.currentTarget).entries()) {
      if (typeof value === "string" && !key.startsWith("$") && !/password/i.test(key)) values[key] = value;
    }
    setSubmitted(values);
  };
  const value = (name: string, fallback = ""): string =>
    state.status === "error" ? (submitted[name] ?? fallback) : fallback;
  const fieldError = (name: string): string | undefined => state.fieldErrors?.[name];
  return { state, formAction, pending, onSubmit, value, fieldError };
}

type FieldProps = Omit<InputHTMLAttributes<HTMLInputElement>, "id"> & {
  label: string;
  name: string;
  error?: string | undefined;
  hint?: ReactNode;
};

/** What a control inside a FieldFrame needs: its id and the accessibility attributes tying it to label, hint, error. */
export type FieldControlProps = {
  id: string;
  "aria-invalid": true | undefined;
  "aria-describedby": string | undefined;
};

/** A label, a control, a hint and an error, tied together for assistive technology: the frame of every field. */
export function FieldFrame({
  label,
  error,
  hint,
  className,
  errorClassName = "",
  children,
}: {
  label: string;
  error?: string | undefined;
  hint?: ReactNode;
  className?: string | undefined;
  errorClassName?: string;
  children: (control: FieldControlProps) => ReactNode;
}) {
  const id = useId();
  const describedBy = [hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean).join(" ");
  return (
    <div className={className}>
      <label htmlFor={id} className="block font-medium text-sm">
        {label}
      </label>
      {children({ id, "aria-invalid": error ? true : undefined, "aria-describedby": describedBy || undefined })}
      {hint ? (
        <p id={`${id}-hint`} className="mt-1 text-xs text-zinc-500">
          {hint}
        </p>
      ) : null}
      {error ? (
        <p id={`${id}-error`} className={`mt-1 text-red-600 text-xs dark:text-red-400 ${errorClassName}`}>
          {error}
        </p>
      ) : null}
    </div>
  );
}

export function Field({ label, name, error, hint, className, ...input }: FieldProps) {
  return (
    <FieldFrame label={label} error={error} hint={hint} className={className}>
      {(control) => <input name={name} className={`mt-1.5 ${inputClass}`} {...control} {...input} />}
    </FieldFrame>
  );
}

type SelectFieldProps = {
  label: string;
  name: string;
  options: readonly { value: string; label: string }[];
  defaultValue?: string;
  error?: string | undefined;
  className?: string;
  hideLabel?: boolean;
};

export function SelectField({ label, name, options, defaultValue, error, className, hideLabel }: SelectFieldProps) {
  const id = useId();
  return (
    <div className={className}>
      <label htmlFor={id} className={hideLabel ? "sr-only" : "block font-medium text-sm"}>
        {label}
      </label>
      <select
        id={id}
        name={name}
        defaultValue={defaultValue}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        className={`${hideLabel ? "" : "mt-1.5 "}${inputClass}`}
      >
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
      {error ? (
        <p id={`${id}-error`} className="mt-1 text-red-600 text-xs dark:text-red-400">
          {error}
        </p>
      ) : null}
    </div>
  );
}

export function SubmitButton({
  pending,
  children,
  variant = "primary",
  className = "",
}: {
  pending: boolean;
  children: ReactNode;
  variant?: ButtonVariant;
  className?: string;
}) {
  return (
    <button type="submit" disabled={pending} aria-disabled={pending} className={buttonClass(variant, className)}>
      {pending ? "Saving…" : children}
    </button>
  );
}

/** The outcome of the last submission: the server's message, or a fallback success text. */
export function FormMessage<T>({ state, success }: { state: ActionState<T>; success?: string }) {
  if (state.status === "error") {
    // A field's error is shown once, under the field: the banner only points there rather than repeating it.
    const repeated = state.message !== undefined && Object.values(state.fieldErrors ?? {}).includes(state.message);
    const message = repeated ? "Check the highlighted fields." : (state.message ?? "That did not work.");
    return <Notice tone="error">{message}</Notice>;
  }
  if (state.status === "success" && (state.message ?? success))
    return <Notice tone="success">{state.message ?? success}</Notice>;
  return null;
}

/** Hidden inputs, e.g. the `teamId` every team action needs. */
export function HiddenFields({ values }: { values: Record<string, string> }) {
  return (
    <>
      {Object.entries(values).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
    </>
  );
}
