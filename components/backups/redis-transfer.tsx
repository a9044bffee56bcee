"use client";

// The Redis page's Export and Import (#16): for moving data, not backups (docs/backups.md). Export copies every key
// with its TTL into the backup store (members); import writes one of the team's exports into this instance
// (admins), merging, or replacing all keys after the instance's name is typed. The domain checks roles again.
import { useState } from "react";
import { PendingButton } from "@/components/apps/pending-button";
import { Field, type FormAction, FormMessage, HiddenFields, SelectField, useActionForm } from "@/components/form";
import { Badge, Card, DateTime } from "@/components/ui";
import type { BackupView } from "@/lib/domain/backup-rules";

type Ids = { teamId: string; redisId: string };

const TONES = { running: "amber", verifying: "amber", verified: "green", succeeded: "green", failed: "red" } as const;

export function RedisTransferSection({
  ids,
  redisName,
  exports,
  importable,
  exportAction,
  importAction,
}: {
  ids: Ids;
  redisName: string;
  /** This instance's exports, newest first. */
  exports: BackupView[];
  /** The team's succeeded exports, from any of its instances. */
  importable: BackupView[];
  exportAction: FormAction | null;
  importAction: FormAction | null;
}) {
  return (
    <Card
      title="Export and import"
      description="For moving data between instances, not a backup: an export taken while the app writes is a best-effort copy."
    >
      <div className="space-y-4">
        {exportAction ? <ExportForm ids={ids} action={exportAction} /> : null}
        {exports.length > 0 ? (
          <ul className="space-y-1 text-sm" aria-label="Exports">
            {exports.map((item) => (
              <li key={item.id} className="flex flex-wrap items-center gap-3">
                <Badge tone={TONES[item.status]}>{item.status}</Badge>
                <DateTime value={item.startedAt} />
                {item.error ? <span className="text-red-700 dark:text-red-400">{item.error}</span> : null}
              </li>
            ))}
          </ul>
        ) : (
          <p className="text-sm text-zinc-600 dark:text-zinc-400">No exports of this instance yet.</p>
        )}
        {importAction ? (
          <ImportForm ids={ids} redisName={redisName} importable={importable} action={importAction} />
        ) : null}
      </div>
    </Card>
  );
}

function ExportForm({ ids, action }: { ids: Ids; action: FormAction }) {
  const form = useActionForm(action);
  return (
    <form action={form.formAction} className="space-y-2">
      <HiddenFields values={ids} />
      <PendingButton pending={form.pending} pendingLabel="Starting…" variant="secondary">
        Export
      </PendingButton>
      <FormMessage state={form.state} />
    </form>
  );
}

function ImportForm({
  ids,
  redisName,
  importable,
  action,
}: {
  ids: Ids;
  redisName: string;
  importable: BackupView[];
  action: FormAction;
}) {
  const form = useActionForm(action);
  const [mode, setMode] = useState("merge");
  if (importable.length === 0) {
    return <p className="text-sm text-zinc-600 dark:text-zinc-400">Import: the team has no finished export yet.</p>;
  }
  return (
    <form action={form.formAction} onSubmit={form.onSubmit} className="space-y-3" noValidate>
      <h3 className="font-medium text-sm">Import</h3>
      <HiddenFields values={ids} />
      <SelectField
        label="Export"
        name="exportId"
        defaultValue={form.value("exportId", importable[0]?.id ?? "")}
        error={form.fieldError("exportId")}
        options={importable.map((item) => ({
          value: item.id,
          label: `${item.sourceName}, ${item.startedAt.toISOString().slice(0, 16).replace("T", " ")} UTC`,
        }))}
      />
      <fieldset className="space-y-1 text-sm">
        <legend className="font-medium">Mode</legend>
        <label className="flex items-center gap-2">
          <input type="radio" name="mode" value="merge" checked={mode === "merge"} onChange={() => setMode("merge")} />
          Merge: overwrite the exported keys, keep the others
        </label>
        <label className="flex items-center gap-2">
          <input
            type="radio"
            name="mode"
            value="replace"
            checked={mode === "replace"}
            onChange={() => setMode("replace")}
          />
          Replace: delete every key of this instance first
        </label>
      </fieldset>
      {mode === "replace" ? (
        <Field
          label={`Replace its keys: confirm with the instance's name, “${redisName}”`}
          name="confirmName"
          autoComplete="off"
          spellCheck={false}
          defaultValue={form.value("confirmName")}
          error={form.fieldError("confirmName")}
          className="max-w-md"
        />
      ) : null}
      <PendingButton
        pending={form.pending}
        pendingLabel="Starting…"
        variant={mode === "replace" ? "danger" : "primary"}
      >
        Import
      </PendingButton>
      <FormMessage state={form.state} />
    </form>
  );
}
