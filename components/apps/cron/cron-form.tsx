"use client";

// The app's cron jobs as one form: rows to add, change and remove, saved together (the whole set is replaced, as
// PUT /api/v1/apps/{appId}/cron does). The domain names the bad field of the bad row (jobs.1.schedule); that error
// shows under that field, and the rows stay as typed.
import { useEffect, useRef, useState } from "react";
import { type FormAction, FormMessage, HiddenFields, SubmitButton, useActionForm } from "@/components/form";
import { buttonClass, DateTime, EmptyState, inputClass } from "@/components/ui";
import type { CronJobView } from "@/lib/domain/cron";

type Row = { key: number; name: string; schedule: string; timezone: string; command: string; timeoutSeconds: string };
type Column = "name" | "schedule" | "timezone" | "command" | "timeoutSeconds";

const COLUMNS: readonly { field: Column; label: string; placeholder: string; mono?: boolean }[] = [
  { field: "name", label: "Name", placeholder: "nightly" },
  { field: "schedule", label: "Schedule", placeholder: "0 3 * * *", mono: true },
  { field: "timezone", label: "Time zone", placeholder: "UTC" },
  { field: "command", label: "Command", placeholder: "python manage.py clearsessions", mono: true },
  { field: "timeoutSeconds", label: "Time limit (s)", placeholder: "default" },
];

function rowsOf(jobs: readonly CronJobView[], next: () => number): Row[] {
  return jobs.map((job) => ({
    key: next(),
    name: job.name,
    schedule: job.schedule,
    timezone: job.timezone,
    command: job.command,
    timeoutSeconds: String(job.timeoutSeconds),
  }));
}

/** The rows as putCronJobs reads them: blank optional fields left out, the time limit as a number. */
function toJobs(rows: readonly Row[]): unknown[] {
  return rows.map((row) => {
    const timeout = row.timeoutSeconds.trim();
    return {
      name: row.name.trim(),
      schedule: row.schedule,
      command: row.command,
      ...(row.timezone.trim() ? { timezone: row.timezone.trim() } : {}),
      // Not a number: sent as typed, so the domain's error names this field.
      ...(timeout ? { timeoutSeconds: /^\d+$/.test(timeout) ? Number(timeout) : timeout } : {}),
    };
  });
}

type CronFormProps = { action: FormAction; teamId: string; appId: string; jobs: readonly CronJobView[] };

export function CronForm({ action, teamId, appId, jobs }: CronFormProps) {
  const form = useActionForm(action);
  const counter = useRef(0);
  const next = () => {
    counter.current += 1;
    return counter.current;
  };
  const [rows, setRows] = useState<Row[]>(() => rowsOf(jobs, next));
  // After a save the page renders again with the stored jobs (canonical zones, default time limits).
  // biome-ignore lint/correctness/useExhaustiveDependencies: next only bumps a counter
  useEffect(() => setRows(rowsOf(jobs, next)), [jobs]);

  const update = (key: number, field: Column, value: string) =>
    setRows((current) => current.map((row) => (row.key === key ? { ...row, [field]: value } : row)));
  const nextRunOf = new Map(jobs.map((job) => [job.name, job.nextRunAt]));

  return (
    <form action={form.formAction} onSubmit={form.onSubmit} className="space-y-4" noValidate>
      <HiddenFields values={{ teamId, appId, jobs: JSON.stringify(toJobs(rows)) }} />
      <FormMessage state={form.state} />
      {rows.length === 0 ? (
        <EmptyState title="No cron jobs">Add a job to run a command on a schedule.</EmptyState>
      ) : (
        <ul className="space-y-3" aria-label="Cron jobs">
          {rows.map((row, index) => (
            <li
              key={row.key}
              data-testid="cron-job-row"
              className="rounded-lg border border-zinc-200 p-3 dark:border-zinc-800"
            >
              <div className="grid grid-cols-1 gap-3 md:grid-cols-[10rem_9rem_10rem_1fr_7rem]">
                {COLUMNS.map((column) => {
                  const error = form.fieldError(`jobs.${index}.${column.field}`);
                  const id = `cron-${row.key}-${column.field}`;
                  return (
                    <div key={column.field}>
                      <label htmlFor={id} className="block font-medium text-xs">
                        {column.label}
                      </label>
                      <input
                        id={id}
                        value={row[column.field]}
                        onChange={(event) => update(row.key, column.field, event.target.value)}
                        placeholder={column.placeholder}
                        autoComplete="off"
                        spellCheck={false}
                        aria-invalid={error ? true : undefined}
                        aria-describedby={error ? `${id}-error` : undefined}
                        className={`mt-1 ${inputClass} ${column.mono ? "font-mono" : ""}`}
                      />
                      {error ? (
                        <p id={`${id}-error`} className="mt-1 text-red-600 text-xs dark:text-red-400">
                          {error}
                        </p>
                      ) : null}
                    </div>
                  );
                })}
              </div>
              <div className="mt-2 flex flex-wrap items-center justify-between gap-2 text-xs text-zinc-500">
                <span data-testid="cron-next-run">
                  {nextRunOf.has(row.name) ? (
                    <>
                      Next run: <DateTime value={nextRunOf.get(row.name) ?? null} empty="never" />
                    </>
                  ) : (
                    "Not saved yet"
                  )}
                </span>
                <button
                  type="button"
                  className={buttonClass("ghost")}
                  onClick={() => setRows((current) => current.filter((other) => other.key !== row.key))}
                >
                  Remove {row.name || "job"}
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
      <div className="flex flex-wrap gap-2">
        <button
          type="button"
          className={buttonClass("secondary")}
          onClick={() =>
            setRows((current) => [
              ...current,
              { key: next(), name: "", schedule: "", timezone: "UTC", command: "", timeoutSeconds: "" },
            ])
          }
        >
          Add a job
        </button>
        <SubmitButton pending={form.pending}>Save cron jobs</SubmitButton>
      </div>
    </form>
  );
}
