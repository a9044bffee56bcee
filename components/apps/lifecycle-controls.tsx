"use client";

// Start, stop (asks first), restart and scale of an app, as server actions that queue an operation. Only rendered for
// roles that may change apps; the actions check the role again (lib/domain/lifecycle.ts).
import { ActionButton } from "@/components/action-button";
import { PendingButton } from "@/components/apps/pending-button";
import { type FormAction, FormMessage, HiddenFields, useActionForm } from "@/components/form";
import { inputClass } from "@/components/ui";
import type { AppStatus } from "@/lib/generated/prisma/enums";

export type LifecycleActions = { start: FormAction; stop: FormAction; restart: FormAction; scale: FormAction };

const MAX_REPLICAS = 20;

function ScaleForm({
  action,
  fields,
  replicas,
}: {
  action: FormAction;
  fields: Record<string, string>;
  replicas: number;
}) {
  const { state, formAction, pending, onSubmit, value, fieldError } = useActionForm(action);
  const error = fieldError("replicas");
  return (
    <div className="space-y-2">
      <form action={formAction} onSubmit={onSubmit} className="flex flex-wrap items-end gap-2">
        <HiddenFields values={fields} />
        <label className="block">
          <span className="block font-medium text-sm">Replicas</span>
          <input
            type="number"
            name="replicas"
            min={0}
            max={MAX_REPLICAS}
            step={1}
            required
            defaultValue={value("replicas", String(replicas))}
            key={`${replicas}-${state.status}`}
            aria-invalid={error ? true : undefined}
            className={`mt-1.5 w-24 ${inputClass}`}
            data-testid="scale-replicas"
          />
        </label>
        <PendingButton pending={pending} pendingLabel="Scaling…" variant="secondary">
          Scale
        </PendingButton>
      </form>
      <FormMessage state={state} />
    </div>
  );
}

export function LifecycleControls({
  teamId,
  appId,
  status,
  replicas,
  hasRelease,
  actions,
}: {
  teamId: string;
  appId: string;
  status: AppStatus;
  replicas: number;
  hasRelease: boolean;
  actions: LifecycleActions;
}) {
  const fields = { teamId, appId };
  if (status === "deleting") return null;
  return (
    <div className="flex flex-col gap-4 sm:flex-row sm:items-start sm:justify-between">
      <div className="flex flex-wrap items-start gap-2">
        {status === "running" ? (
          <>
            <ActionButton action={actions.restart} fields={fields} label="Restart" />
            <ActionButton
              action={actions.stop}
              fields={fields}
              label="Stop"
              variant="danger"
              confirm="Stop the app? Its address answers 503 until it is started again."
            />
          </>
        ) : hasRelease && status !== "deploying" ? (
          <ActionButton action={actions.start} fields={fields} label="Start" variant="primary" />
        ) : null}
        {!hasRelease ? (
          <p className="text-sm text-zinc-500">Deploy the app first: there is no release to run yet.</p>
        ) : null}
      </div>
      <ScaleForm action={actions.scale} fields={fields} replicas={replicas} />
    </div>
  );
}
