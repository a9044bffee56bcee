"use client";

// The database page's Backups section (#16): the newest backups with their verification, polled while one is
// running or verifying; back up now; restore (into a new database, or over this one with its name typed); delete;
// download (admins); and the schedule and retention form. Each form posts to a server action
// (app/(portal)/teams/[teamId]/databases/backup-actions.ts); the domain checks the role whatever is shown here.
import { PendingButton } from "@/components/apps/pending-button";
import { Field, type FormAction, FormMessage, HiddenFields, SubmitButton, useActionForm } from "@/components/form";
import { Badge, Card, DateTime, EmptyState, Notice } from "@/components/ui";
import { useActionPolling } from "@/components/use-action-polling";
import type { ActionState } from "@/lib/actions";
import type { BackupSettingsView, BackupView } from "@/lib/domain/backup-rules";

const ACTIVE_POLL_MS = 2_000;
const RETRY_MS = 5_000;

export type BackupActions = {
  restore: FormAction;
  remove: FormAction;
  settings: FormAction;
};

type Ids = { teamId: string; databaseId: string };

const STATUS_TONES = {
  running: "amber",
  verifying: "amber",
  verified: "green",
  succeeded: "green",
  failed: "red",
} as const;

const active = (backups: BackupView[]) => backups.some((b) => b.status === "running" || b.status === "verifying");

function size(bytes: number | null): string {
  if (bytes === null) return "—";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** What the verification (or the failure) says, in words. */
function result(backup: BackupView): string {
  if (backup.status === "failed") return backup.error ?? "Failed.";
  if (backup.verification?.ok === true)
    return `Restored and checked: ${backup.verification.tables} tables, ${backup.verification.rows} rows match.`;
  if (backup.verification?.ok === false) return backup.verification.reason;
  if (backup.status === "running") return "Dumping and storing…";
  if (backup.status === "verifying") return "Restoring it once to verify…";
  return "—";
}

export function BackupsSection({
  ids,
  databaseName,
  initial,
  settings,
  backUpNow,
  actions,
  poll,
}: {
  ids: Ids;
  databaseName: string;
  initial: BackupView[];
  settings: BackupSettingsView;
  /** Members and admins back up now; null for viewers. */
  backUpNow: FormAction | null;
  /** Admins' actions (restore, delete, download, settings); null for members and viewers. */
  actions: BackupActions | null;
  poll: (input: Ids) => Promise<ActionState<BackupView[]>>;
}) {
  const { data, problem } = useActionPolling(initial, () => poll(ids), {
    nextDelay: (shown) => (active(shown) ? ACTIVE_POLL_MS : null),
    retryMs: RETRY_MS,
    failedMessage: "The latest state of the backups could not be loaded.",
    polling: (shown) => ({
      enabled: active(shown),
      firstDelayMs: ACTIVE_POLL_MS,
      restartKey: shown.map((b) => `${b.id}:${b.status}`).join(","),
    }),
  });
  return (
    <Card title="Backups">
      <div className="space-y-4">
        <p className="text-sm text-zinc-600 dark:text-zinc-400">
          Every backup is restored once into a scratch database and its row counts compared before it is listed as
          verified.
        </p>
        {backUpNow ? <BackUpNowButton ids={ids} action={backUpNow} /> : null}
        {problem ? <Notice tone="warning">{problem}</Notice> : null}
        {data.length === 0 ? (
          <EmptyState title="No backups yet">The first scheduled backup runs at the next scheduled time.</EmptyState>
        ) : (
          <ul className="divide-y divide-zinc-200 dark:divide-zinc-800" aria-label="Backups">
            {data.map((backup) => (
              <BackupRow key={backup.id} backup={backup} ids={ids} databaseName={databaseName} actions={actions} />
            ))}
          </ul>
        )}
        <ScheduleSection ids={ids} settings={settings} action={actions?.settings ?? null} />
      </div>
    </Card>
  );
}

function BackUpNowButton({ ids, action }: { ids: Ids; action: FormAction }) {
  const form = useActionForm(action);
  return (
    <form action={form.formAction} className="space-y-2">
      <HiddenFields values={ids} />
      <PendingButton pending={form.pending} pendingLabel="Starting…">
        Back up now
      </PendingButton>
      <FormMessage state={form.state} />
    </form>
  );
}

function BackupRow({
  backup,
  ids,
  databaseName,
  actions,
}: {
  backup: BackupView;
  ids: Ids;
  databaseName: string;
  actions: BackupActions | null;
}) {
  const finished = backup.status === "verified" || backup.status === "succeeded";
  return (
    <li className="space-y-2 py-3" data-backup-id={backup.id}>
      <div className="flex flex-wrap items-center gap-x-4 gap-y-1 text-sm">
        <Badge tone={STATUS_TONES[backup.status]}>{backup.status}</Badge>
        <span>{backup.trigger}</span>
        <span>{size(backup.sizeBytes)}</span>
        <span>
          Started <DateTime value={backup.startedAt} />
        </span>
        <span>
          Finished <DateTime value={backup.finishedAt} empty="not yet" />
        </span>
      </div>
      <p className={`text-sm ${backup.status === "failed" ? "text-red-700 dark:text-red-400" : ""}`}>
        {result(backup)}
      </p>
      {actions && finished ? (
        <div className="flex flex-wrap items-start gap-3">
          <a
            href={`/teams/${ids.teamId}/backups/${backup.id}/download`}
            className="font-medium text-sm underline underline-offset-2"
            download
          >
            Download
          </a>
          <details className="text-sm">
            <summary className="cursor-pointer font-medium">Restore</summary>
            <div className="mt-2 grid gap-4 sm:grid-cols-2">
              <RestoreForm
                ids={ids}
                backupId={backup.id}
                target="new"
                databaseName={databaseName}
                action={actions.restore}
              />
              {backup.databaseId === ids.databaseId ? (
                <RestoreForm
                  ids={ids}
                  backupId={backup.id}
                  target="same"
                  databaseName={databaseName}
                  action={actions.restore}
                />
              ) : null}
            </div>
          </details>
        </div>
      ) : null}
      {actions && backup.status !== "running" && backup.status !== "verifying" ? (
        <DeleteBackupForm ids={ids} backupId={backup.id} action={actions.remove} />
      ) : null}
    </li>
  );
}

function RestoreForm({
  ids,
  backupId,
  target,
  databaseName,
  action,
}: {
  ids: Ids;
  backupId: string;
  target: "new" | "same";
  databaseName: string;
  action: FormAction;
}) {
  const form = useActionForm(action);
  return (
    <form action={form.formAction} onSubmit={form.onSubmit} className="space-y-2" noValidate>
      <HiddenFields values={{ ...ids, backupId, target }} />
      {target === "new" ? (
        <Field
          label="Restore into a new database named"
          name="name"
          autoComplete="off"
          placeholder={`${databaseName}-restored`}
          defaultValue={form.value("name")}
          error={form.fieldError("name")}
          hint="Empty: the name is chosen for you. It counts against the databases quota."
        />
      ) : (
        <Field
          label={`Replace its contents: confirm with the database's name, “${databaseName}”`}
          name="confirmName"
          autoComplete="off"
          spellCheck={false}
          defaultValue={form.value("confirmName")}
          error={form.fieldError("confirmName")}
          hint="A safety backup is taken first. The app sees connection errors while the data is replaced."
        />
      )}
      <PendingButton
        pending={form.pending}
        pendingLabel="Starting…"
        variant={target === "same" ? "danger" : "secondary"}
      >
        {target === "new" ? "Restore into a new database" : "Restore over this database"}
      </PendingButton>
      <FormMessage state={form.state} />
    </form>
  );
}

function DeleteBackupForm({ ids, backupId, action }: { ids: Ids; backupId: string; action: FormAction }) {
  const form = useActionForm(action);
  return (
    <form
      action={form.formAction}
      onSubmit={(event) => {
        if (!window.confirm("Delete this backup? Its file is removed from the backup store.")) event.preventDefault();
      }}
      className="space-y-2"
    >
      <HiddenFields values={{ ...ids, backupId }} />
      <PendingButton pending={form.pending} pendingLabel="Deleting…" variant="danger-soft">
        Delete backup
      </PendingButton>
      <FormMessage state={form.state} />
    </form>
  );
}

function ScheduleSection({
  ids,
  settings,
  action,
}: {
  ids: Ids;
  settings: BackupSettingsView;
  action: FormAction | null;
}) {
  const summary = settings.enabled
    ? `Scheduled backups: ${settings.schedule} (UTC${settings.defaultSchedule ? ", the default" : ""}); keeping ${settings.keepDaily} daily and ${settings.keepWeekly} weekly.`
    : "Scheduled backups are off.";
  return (
    <div className="space-y-2 border-zinc-200 border-t pt-4 dark:border-zinc-800">
      <h3 className="font-medium text-sm">Schedule and retention</h3>
      <p className="text-sm">
        {summary}{" "}
        {settings.nextAt ? (
          <>
            Next: <DateTime value={settings.nextAt} relative />.
          </>
        ) : null}
      </p>
      {action ? <ScheduleForm ids={ids} settings={settings} action={action} /> : null}
    </div>
  );
}

function ScheduleForm({ ids, settings, action }: { ids: Ids; settings: BackupSettingsView; action: FormAction }) {
  const form = useActionForm(action);
  const enabled = form.state.status === "error" ? form.value("enabled") === "on" : settings.enabled;
  return (
    <form action={form.formAction} onSubmit={form.onSubmit} className="space-y-3" noValidate>
      <HiddenFields values={ids} />
      <label className="flex items-center gap-2 text-sm">
        <input type="checkbox" name="enabled" defaultChecked={enabled} key={String(enabled)} />
        Back up on a schedule
      </label>
      <div className="grid gap-4 sm:grid-cols-3">
        <Field
          label="Schedule (cron, UTC)"
          name="schedule"
          autoComplete="off"
          spellCheck={false}
          placeholder={settings.defaultSchedule ? settings.schedule : "the default"}
          defaultValue={form.value("schedule", settings.defaultSchedule ? "" : settings.schedule)}
          error={form.fieldError("schedule")}
          hint="5 fields or @daily, at most hourly. Empty: the default daily time."
        />
        <Field
          label="Daily backups kept"
          name="keepDaily"
          type="number"
          inputMode="numeric"
          min={0}
          max={90}
          step={1}
          defaultValue={form.value("keepDaily", String(settings.keepDaily))}
          error={form.fieldError("keepDaily")}
          hint="0 to 90 days."
        />
        <Field
          label="Weekly backups kept"
          name="keepWeekly"
          type="number"
          inputMode="numeric"
          min={0}
          max={52}
          step={1}
          defaultValue={form.value("keepWeekly", String(settings.keepWeekly))}
          error={form.fieldError("keepWeekly")}
          hint="0 to 52 weeks."
        />
      </div>
      <SubmitButton pending={form.pending} variant="secondary">
        Save schedule
      </SubmitButton>
      <FormMessage state={form.state} />
    </form>
  );
}
