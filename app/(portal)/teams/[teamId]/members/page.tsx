import type { Metadata } from "next";
import {
  changeMemberRoleAction,
  leaveTeamAction,
  removeMemberAction,
  transferOwnershipAction,
} from "@/app/(portal)/teams/[teamId]/members/actions";
import { teamPage } from "@/app/(portal)/teams/[teamId]/team-page";
import { firstParam, type SearchParams } from "@/app/search-params";
import { ActionButton } from "@/components/action-button";
import { Pager } from "@/components/pager";
import { MemberRoleForm } from "@/components/teams/member-role-form";
import { Badge, Card, DateTime, EmptyState, Notice, PageHeader } from "@/components/ui";
import { roleAllows } from "@/lib/auth/permissions";
import { getDb } from "@/lib/db";
import { listMembers, type MemberView } from "@/lib/domain/members";
import type { Page } from "@/lib/domain/pagination";
import { isAppError } from "@/lib/errors";

export const metadata: Metadata = { title: "Members" };

const PAGE_SIZE = 100;

export default async function MembersPage({
  params,
  searchParams,
}: {
  params: Promise<{ teamId: string }>;
  searchParams: SearchParams;
}) {
  const { teamId } = await params;
  const cursor = firstParam((await searchParams).cursor);
  const path = `/teams/${teamId}/members`;
  const { user, ctx } = await teamPage(teamId, path);
  const canManage = roleAllows(ctx.role, "members:manage");
  const isOwner = ctx.role === "owner";

  let page: Page<MemberView>;
  try {
    page = await listMembers(getDb(), ctx, { limit: PAGE_SIZE, cursor });
  } catch (error) {
    if (!isAppError(error)) throw error;
    return <Notice tone="error">{error.message}</Notice>;
  }

  // Only knowable when every member is on this page; otherwise offer the button and let the domain decide.
  const soleOwner = !cursor && !page.nextCursor && page.items.filter((member) => member.role === "owner").length === 1;

  return (
    <>
      <PageHeader
        title="Members"
        description={
          canManage
            ? "Everyone in the team and their role. Invite people from Invitations."
            : "Everyone in the team and their role."
        }
      />
      <Card>
        {page.items.length === 0 ? (
          <EmptyState title="No members on this page" />
        ) : (
          <ul aria-label="Members" className="-my-3 divide-y divide-zinc-200 dark:divide-zinc-800">
            {page.items.map((member) => {
              const self = member.user.id === user.id;
              // Mirrors the domain's rules only to decide what to show; the actions enforce them.
              const manageable = canManage && !self && (member.role !== "owner" || isOwner);
              const fields = { teamId: ctx.teamId, membershipId: member.id };
              // The last owner cannot leave (the domain refuses); no point offering the button.
              const canLeave = self && !(member.role === "owner" && soleOwner);
              return (
                <li key={member.id} className="flex flex-col gap-3 py-4 lg:flex-row lg:items-start lg:justify-between">
                  <div className="min-w-0">
                    <p className="flex flex-wrap items-center gap-2 font-medium">
                      <span className="truncate">{member.user.name || member.user.email}</span>
                      {self ? <Badge>you</Badge> : null}
                      <Badge tone={member.role === "owner" ? "brand" : "neutral"}>{member.role}</Badge>
                    </p>
                    <p className="truncate text-sm text-zinc-600 dark:text-zinc-400">{member.user.email}</p>
                    <p className="text-xs text-zinc-500">
                      Joined <DateTime value={member.createdAt} />
                    </p>
                  </div>
                  <div className="flex flex-wrap items-start gap-2">
                    {manageable ? (
                      <MemberRoleForm
                        action={changeMemberRoleAction}
                        teamId={ctx.teamId}
                        membershipId={member.id}
                        email={member.user.email}
                        role={member.role}
                      />
                    ) : null}
                    {isOwner && !self && member.role !== "owner" ? (
                      <ActionButton
                        action={transferOwnershipAction}
                        fields={fields}
                        label="Transfer ownership"
                        confirm={`Make ${member.user.email} the owner? You will stay on as an admin.`}
                      />
                    ) : null}
                    {manageable ? (
                      <ActionButton
                        action={removeMemberAction}
                        fields={fields}
                        label="Remove"
                        variant="danger"
                        confirm={`Remove ${member.user.email} from the team?`}
                      />
                    ) : null}
                    {canLeave ? (
                      <ActionButton
                        action={leaveTeamAction}
                        fields={fields}
                        label="Leave team"
                        variant="danger"
                        confirm="Leave this team? You will need a new invitation to come back."
                      />
                    ) : null}
                  </div>
                </li>
              );
            })}
          </ul>
        )}
      </Card>
      <Pager path={path} cursor={cursor} nextCursor={page.nextCursor} />
    </>
  );
}
