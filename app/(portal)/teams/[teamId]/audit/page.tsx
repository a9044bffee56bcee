import type { Metadata } from "next";
import Link from "next/link";
import { teamPage } from "@/app/(portal)/teams/[teamId]/team-page";
import { firstParam, type SearchParams } from "@/app/search-params";
import { Pager } from "@/components/pager";
import { Badge, buttonClass, Card, DateTime, EmptyState, inputClass, Notice, PageHeader } from "@/components/ui";
import { getDb } from "@/lib/db";
import { type AuditEventView, auditFilters, listAuditEvents } from "@/lib/domain/audit";
import { listMembers } from "@/lib/domain/members";
import { MAX_PAGE_SIZE, type Page } from "@/lib/domain/pagination";
import { isAppError } from "@/lib/errors";

export const metadata: Metadata = { title: "Audit log" };

// Suggestions for the action filter; the field accepts any action name, so new kinds of events need no change here.
const KNOWN_ACTIONS = [
  "team.created",
  "team.renamed",
  "team.deletion_requested",
  "team.ownership_transferred",
  "member.role_changed",
  "member.removed",
  "member.left",
  "invitation.created",
  "invitation.resent",
  "invitation.revoked",
  "invitation.accepted",
  "api_token.created",
  "api_token.revoked",
];

function metadataText(metadata: unknown): string {
  if (metadata === null || metadata === undefined) return "";
  if (typeof metadata !== "object") return String(metadata);
  return Object.entries(metadata as Record<string, unknown>)
    .map(([key, value]) => `${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(", ");
}

export default async function AuditPage({
  params,
  searchParams,
}: {
  params: Promise<{ teamId: string }>;
  searchParams: SearchParams;
}) {
  const { teamId } = await params;
  const query = await searchParams;
  const action = firstParam(query.action)?.trim() || undefined;
  const actor = firstParam(query.actor) || undefined;
  const cursor = firstParam(query.cursor);
  const path = `/teams/${teamId}/audit`;
  const { ctx } = await teamPage(teamId, path);

  const db = getDb();
  const members = await listMembers(db, ctx, { limit: MAX_PAGE_SIZE });
  const filters = auditFilters.safeParse({
    ...(action ? { action } : {}),
    ...(actor ? { actorId: actor } : {}),
  });
  let page: Page<AuditEventView> | null = null;
  let problem: string | null = null;
  if (!filters.success) {
    problem =
      "The filters are not valid: pick an actor from the list and use an action name of 100 characters at most.";
  } else {
    try {
      page = await listAuditEvents(db, ctx, filters.data, { limit: 50, cursor });
    } catch (error) {
      if (!isAppError(error)) throw error;
      problem = error.message;
    }
  }
  const kept: Record<string, string> = {
    ...(action ? { action } : {}),
    ...(actor ? { actor } : {}),
  };

  return (
    <>
      <PageHeader title="Audit log" description="Every change made in this team: who, what, when and from where." />
      <Card>
        <form method="get" action={path} className="grid gap-3 sm:grid-cols-[1fr_1fr_auto] sm:items-end">
          <div>
            <label htmlFor="audit-action" className="block font-medium text-sm">
              Action
            </label>
            <input
              id="audit-action"
              name="action"
              list="audit-actions"
              defaultValue={action ?? ""}
              placeholder="Any action"
              maxLength={100}
              className={`mt-1.5 ${inputClass}`}
            />
            <datalist id="audit-actions">
              {KNOWN_ACTIONS.map((name) => (
                <option key={name} value={name} />
              ))}
            </datalist>
          </div>
          <div>
            <label htmlFor="audit-actor" className="block font-medium text-sm">
              Actor
            </label>
            <select id="audit-actor" name="actor" defaultValue={actor ?? ""} className={`mt-1.5 ${inputClass}`}>
              <option value="">Anyone</option>
              {members.items.map((member) => (
                <option key={member.user.id} value={member.user.id}>
                  {member.user.email}
                </option>
              ))}
            </select>
          </div>
          <div className="flex gap-2">
            <button type="submit" className={buttonClass("primary")}>
              Filter
            </button>
            {action || actor ? (
              <Link href={path} className={buttonClass("ghost")}>
                Clear
              </Link>
            ) : null}
          </div>
        </form>
      </Card>
      {problem ? <Notice tone="error">{problem}</Notice> : null}
      {page ? (
        <Card>
          {page.items.length === 0 ? (
            <EmptyState title={action || actor ? "No events match these filters" : "No events yet"} />
          ) : (
            <div className="-mx-5 overflow-x-auto sm:-mx-6">
              <table className="w-full min-w-[44rem] text-left text-sm">
                <thead className="border-zinc-200 border-b text-xs text-zinc-500 uppercase tracking-wide dark:border-zinc-800">
                  <tr>
                    <th scope="col" className="px-5 py-2 font-medium sm:px-6">
                      When
                    </th>
                    <th scope="col" className="px-3 py-2 font-medium">
                      Actor
                    </th>
                    <th scope="col" className="px-3 py-2 font-medium">
                      Action
                    </th>
                    <th scope="col" className="px-3 py-2 font-medium">
                      Details
                    </th>
                    <th scope="col" className="px-5 py-2 font-medium sm:px-6">
                      IP
                    </th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-zinc-200 dark:divide-zinc-800">
                  {page.items.map((event) => (
                    <tr key={event.id} className="align-top">
                      <td className="whitespace-nowrap px-5 py-3 sm:px-6">
                        <DateTime value={event.createdAt} />
                      </td>
                      <td className="px-3 py-3">
                        <span className="break-all">{event.actor.label}</span>
                        {event.actor.type !== "user" ? (
                          <span className="ml-1">
                            <Badge>{event.actor.type}</Badge>
                          </span>
                        ) : null}
                      </td>
                      <td className="px-3 py-3">
                        <code className="font-mono text-xs">{event.action}</code>
                      </td>
                      <td className="max-w-xs px-3 py-3 text-xs text-zinc-600 dark:text-zinc-400">
                        <span className="break-words">{metadataText(event.metadata)}</span>
                        {event.requestId ? (
                          <span className="mt-0.5 block text-zinc-400">request {event.requestId}</span>
                        ) : null}
                      </td>
                      <td className="whitespace-nowrap px-5 py-3 font-mono text-xs sm:px-6">{event.ip ?? "—"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Card>
      ) : null}
      {page ? <Pager path={path} cursor={cursor} nextCursor={page.nextCursor} query={kept} /> : null}
    </>
  );
}
