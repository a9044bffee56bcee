"use client";

// One form of the quotas page: a field per quota, empty for "no override" (the placeholder shows what applies then).
import { Field, type FormAction, FormMessage, HiddenFields, SubmitButton, useActionForm } from "@/components/form";

export type QuotaFieldSpec = { name: string; label: string; value: number | null; fallback: number };

export function QuotaForm({
  action,
  fields,
  hidden = {},
  submit,
}: {
  action: FormAction;
  fields: QuotaFieldSpec[];
  hidden?: Record<string, string>;
  submit: string;
}) {
  const { state, formAction, pending, onSubmit, value, fieldError } = useActionForm(action);
  return (
    <form action={formAction} onSubmit={onSubmit} className="space-y-4">
      <HiddenFields values={hidden} />
      <div className="grid grid-cols-2 gap-3 sm:grid-cols-3">
        {fields.map((field) => (
          <Field
            key={field.name}
            label={field.label}
            name={field.name}
            inputMode="numeric"
            defaultValue={value(field.name, field.value === null ? "" : String(field.value))}
            placeholder={String(field.fallback)}
            error={fieldError(field.name)}
          />
        ))}
      </div>
      <FormMessage state={state} />
      <SubmitButton pending={pending}>{submit}</SubmitButton>
    </form>
  );
}
