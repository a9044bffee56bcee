"use client";

// A labelled textarea with a hint and an error, like Field in components/form.tsx does for inputs.
import { type ReactNode, type TextareaHTMLAttributes, useId } from "react";
import { inputClass } from "@/components/ui";

type TextAreaFieldProps = Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, "id"> & {
  label: string;
  name: string;
  error?: string | undefined;
  hint?: ReactNode;
};

export function TextAreaField({ label, name, error, hint, className, ...textarea }: TextAreaFieldProps) {
  const id = useId();
  const describedBy = [hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean).join(" ");
  return (
    <div className={className}>
      <label htmlFor={id} className="block font-medium text-sm">
        {label}
      </label>
      <textarea
        id={id}
        name={name}
        className={`mt-1.5 ${inputClass} font-mono`}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy || undefined}
        {...textarea}
      />
      {hint ? (
        <p id={`${id}-hint`} className="mt-1 text-xs text-zinc-500">
          {hint}
        </p>
      ) : null}
      {error ? (
        <p id={`${id}-error`} className="mt-1 whitespace-pre-line text-red-600 text-xs dark:text-red-400">
          {error}
        </p>
      ) : null}
    </div>
  );
}
