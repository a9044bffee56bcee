"use client";

// The app's webhook: create it (or make a new secret) with the secret shown once, its URL with a copy button, turn it
// off after a confirmation, and the settings to paste into each forge. Roles that can only look see the URL.
import { ActionButton } from "@/components/action-button";
import { CopyButton } from "@/components/apps/domains/copy-button";
import { ForgeInstructions } from "@/components/apps/git/forge-instructions";
import { CopyOnce } from "@/components/copy-once";
import { type FormAction, FormMessage, HiddenFields, SubmitButton, useActionForm } from "@/components/form";
import { DateTime } from "@/components/ui";
import type { WebhookView } from "@/lib/domain/webhooks";

export type WebhookSecretData = { url: string; secret: string; rotated: boolean };

type WebhookPanelProps = {
  teamId: string;
  appId: string;
  webhook: WebhookView | null;
  /** Null for roles that can only look. */
  actions: { create: FormAction<WebhookSecretData>; remove: FormAction } | null;
};

function CreateOrRotate({
  action,
  fields,
  exists,
}: {
  action: FormAction<WebhookSecretData>;
  fields: Record<string, string>;
  exists: boolean;
}) {
  const { state, formAction, pending } = useActionForm(action);
  return (
    <div className="space-y-3">
      <form action={formAction}>
        <HiddenFields values={fields} />
        <SubmitButton pending={pending} variant={exists ? "secondary" : "primary"}>
          {exists ? "Make a new secret" : "Create the webhook"}
        </SubmitButton>
      </form>
      {state.status === "success" && state.data ? (
        <CopyOnce
          label="Webhook secret"
          value={state.data.secret}
          note="Paste it into your forge now: it is not shown again. Making a new secret keeps the URL."
        />
      ) : (
        <FormMessage state={state} />
      )}
    </div>
  );
}

export function WebhookPanel({ teamId, appId, webhook, actions }: WebhookPanelProps) {
  const fields = { teamId, appId };
  return (
    <div className="space-y-4">
      {webhook ? (
        <div className="space-y-1">
          <p className="font-medium text-sm">Payload URL</p>
          <div className="flex flex-wrap items-center gap-2">
            <code
              className="break-all rounded bg-zinc-100 px-2 py-1 font-mono text-xs dark:bg-zinc-900"
              data-testid="webhook-url"
            >
              {webhook.url}
            </code>
            <CopyButton value={webhook.url} label="Copy the webhook URL" />
          </div>
          <p className="text-xs text-zinc-500">
            Push events. Created <DateTime value={webhook.createdAt} />; the URL only routes deliveries, each must be
            signed with the secret.
          </p>
        </div>
      ) : (
        <p className="text-sm text-zinc-500">No webhook yet: pushes reach this app only through one.</p>
      )}
      {actions ? (
        <div className="flex flex-wrap items-start gap-x-6 gap-y-3">
          <CreateOrRotate action={actions.create} fields={fields} exists={webhook !== null} />
          {webhook ? (
            <ActionButton
              action={actions.remove}
              fields={fields}
              label="Turn off"
              variant="danger"
              confirm="Turn the webhook off? Its URL refuses deliveries until a new one is created."
              className="ml-auto"
            />
          ) : null}
        </div>
      ) : null}
      {webhook ? <ForgeInstructions /> : null}
    </div>
  );
}
