"use client";

// Creating a notification channel (#17): kind, name, target and the events it is told about. A webhook's signing
// secret is shown once, right here.
import { CopyOnce } from "@/components/copy-once";
import {
  Field,
  type FormAction,
  FormMessage,
  HiddenFields,
  SelectField,
  SubmitButton,
  useActionForm,
} from "@/components/form";

type Created = { name: string; secret: string | null };

export function CreateChannelForm({
  action,
  teamId,
  events,
}: {
  action: FormAction<Created>;
  teamId: string;
  events: readonly string[];
}) {
  const form = useActionForm(action);
  const created = form.state.status === "success" ? form.state.data : undefined;
  return (
    <div className="space-y-4">
      <form action={form.formAction} onSubmit={form.onSubmit} className="space-y-4" noValidate>
        <HiddenFields values={{ teamId }} />
        <div className="grid gap-4 sm:grid-cols-3">
          <SelectField
            label="Kind"
            name="kind"
            defaultValue={form.value("kind", "webhook")}
            options={[
              { value: "webhook", label: "Webhook (signed JSON)" },
              { value: "slack", label: "Slack" },
              { value: "email", label: "Email" },
            ]}
            error={form.fieldError("kind")}
          />
          <Field
            label="Name"
            name="name"
            required
            maxLength={100}
            defaultValue={form.value("name")}
            error={form.fieldError("name")}
          />
          <Field
            label="Target"
            name="target"
            required
            maxLength={2048}
            placeholder="https://… or a@example.org, b@example.org"
            defaultValue={form.value("target")}
            error={form.fieldError("target")}
          />
        </div>
        <fieldset>
          <legend className="font-medium text-sm">Events</legend>
          <div className="mt-2 flex flex-wrap gap-3">
            {events.map((event) => (
              <label key={event} className="flex items-center gap-2 text-sm">
                <input type="checkbox" name="events" value={event} defaultChecked={event.startsWith("deployment.")} />
                {event}
              </label>
            ))}
          </div>
        </fieldset>
        <FormMessage state={form.state} />
        <SubmitButton pending={form.pending}>Create channel</SubmitButton>
      </form>
      {created?.secret ? (
        <CopyOnce
          label={`Signing secret of “${created.name}”`}
          value={created.secret}
          note="Shown once. Receivers verify X-Tussilago-Signature (HMAC-SHA256 of the raw body) with it."
        />
      ) : null}
    </div>
  );
}
