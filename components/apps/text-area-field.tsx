"use client";

// A labelled textarea with a hint and an error: Field's frame (components/form.tsx) around a monospace textarea.
import type { ReactNode, TextareaHTMLAttributes } from "react";
import { FieldFrame } from "@/components/form";
import { inputClass } from "@/components/ui";

type TextAreaFieldProps = Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, "id"> & {
  label: string;
  name: string;
  error?: string | undefined;
  hint?: ReactNode;
};

export function TextAreaField({ label, name, error, hint, className, ...textarea }: TextAreaFieldProps) {
  return (
    <FieldFrame label={label} error={error} hint={hint} className={className} errorClassName="whitespace-pre-line">
      {(control) => <textarea name={name} className={`mt-1.5 ${inputClass} font-mono`} {...control} {...textarea} />}
    </FieldFrame>
  );
}
