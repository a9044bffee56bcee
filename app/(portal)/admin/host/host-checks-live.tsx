"use client";

// The host readiness report, with a "Run checks" button. While a run is queued or under way the page polls every
// 2 s (paused while the tab is hidden) and shows the new report when the worker stored it.
import { useEffect, useState } from "react";
import { PendingButton } from "@/components/apps/pending-button";
import { type FormAction, FormMessage, useActionForm } from "@/components/form";
import { Badge, Card, formatDateTime, Notice } from "@/components/ui";
import type { ActionState } from "@/lib/actions";
import type { HostCheckLine, HostCheckPoll } from "./host-check-poll";

const POLL_MS = 2_000;

const TONE = { ok: "green", warn: "amber", error: "red" } as const;
const SYMBOL = { ok: "✓", warn: "!", error: "✗" } as const;

/** The failures and warnings first, so an operator sees what to fix without reading every section. */
function ReportSummary({ sections }: { sections: NonNullable<HostCheckPoll["report"]>["sections"] }) {
  const problems = sections.flatMap((section) =>
    section.checks.filter((check) => check.status !== "ok").map((check) => ({ section: section.name, check })),
  );
  const failed = problems.filter((problem) => problem.check.status === "error").length;
  if (problems.length === 0) return <Notice tone="success">Every check passed.</Notice>;
  return (
    <div data-testid="host-report-summary">
      <Notice
        tone={failed > 0 ? "error" : "warning"}
        title={`${failed} failed, ${problems.length - failed} ${problems.length - failed === 1 ? "warning" : "warnings"}`}
      >
        <ul className="mt-1 list-disc space-y-1 pl-5">
          {problems.map(({ section, check }) => (
            <li key={`${section}/${check.name}`}>
              <span className="font-medium">
                {section}: {check.name}
              </span>{" "}
              — {check.message}
            </li>
          ))}
        </ul>
      </Notice>
    </div>
  );
}

function CheckRow({ check }: { check: HostCheckLine }) {
  return (
    <li className="flex items-start gap-3 py-2" data-testid="host-check" data-status={check.status}>
      <span className="w-16 shrink-0">
        <Badge tone={TONE[check.status]}>
          <span aria-hidden="true">{SYMBOL[check.status]} </span>
          {check.status}
        </Badge>
      </span>
      <span className="min-w-0">
        <span className="font-medium text-sm">{check.name}</span>
        <span className="block break-words text-sm text-zinc-600 dark:text-zinc-400">{check.message}</span>
      </span>
    </li>
  );
}

export function HostChecksLive({
  initial,
  runAction,
  poll,
}: {
  initial: HostCheckPoll;
  runAction: FormAction;
  poll: () => Promise<ActionState<HostCheckPoll>>;
}) {
  const [state, setState] = useState(initial);
  const { state: runState, formAction, pending } = useActionForm(runAction);
  const [problem, setProblem] = useState<string | null>(null);
  const watching = state.running;

  // A run was just queued: watch until its report arrives.
  useEffect(() => {
    if (runState.status === "success") setState((previous) => ({ ...previous, running: true }));
  }, [runState]);

  useEffect(() => {
    if (!watching) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      if (stopped || document.visibilityState !== "visible") return;
      try {
        const result = await poll();
        if (stopped) return;
        if (result.status === "success" && result.data) {
          setState(result.data);
          setProblem(null);
          if (!result.data.running) return;
        } else setProblem(result.message ?? "The latest report could not be loaded.");
      } catch {
        if (!stopped) setProblem("Lost contact with the server.");
      }
      if (!stopped) timer = setTimeout(tick, POLL_MS);
    };
    const onVisibility = () => {
      if (document.visibilityState === "visible") {
        clearTimeout(timer);
        timer = setTimeout(tick, 0);
      }
    };
    timer = setTimeout(tick, POLL_MS / 2);
    document.addEventListener("visibilitychange", onVisibility);
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, [watching, poll]);

  const report = state.report;
  return (
    <>
      <div className="flex flex-wrap items-center gap-3">
        <form action={formAction}>
          <PendingButton pending={pending || state.running} pendingLabel="Checking…">
            Run checks
          </PendingButton>
        </form>
        {report ? (
          <span className="text-sm text-zinc-600 dark:text-zinc-400" data-testid="host-report-time">
            Last run {formatDateTime(new Date(report.createdAt))}
          </span>
        ) : null}
        <span aria-live="polite">
          {report ? <Badge tone={report.ok ? "green" : "red"}>{report.ok ? "ready" : "not ready"}</Badge> : null}
        </span>
      </div>
      {/* "The checks are running" only while they are: once the report arrives it is stale (errors stay). */}
      {state.running || runState.status !== "success" ? <FormMessage state={runState} /> : null}
      {report ? <ReportSummary sections={report.sections} /> : null}
      {problem ? <Notice tone="warning">{problem}</Notice> : null}
      {report ? (
        report.sections.map((section) => (
          <Card key={section.name} title={section.name[0]?.toUpperCase() + section.name.slice(1)}>
            <ul className="divide-y divide-zinc-100 dark:divide-zinc-800">
              {section.checks.map((check) => (
                <CheckRow key={check.name} check={check} />
              ))}
            </ul>
          </Card>
        ))
      ) : (
        <Notice>No report yet: run the checks. They run in the worker and take a few seconds.</Notice>
      )}
    </>
  );
}
