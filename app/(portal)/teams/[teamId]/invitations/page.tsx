import type { Metadata } from "next";
import {
  createInvitationAction,
  resendInvitationAction,
  revokeInvitationAction,
} from "@/app/(portal)/teams/[teamId]/invitations/actions";
import { teamPage } from "@/app/(portal)/teams/[teamId]/team-page";
import { firstParam, type SearchParams } from "@/app/search-params";
import { ActionButton } from "@/components/action-button";
import { Pager } from "@/components/pager";
import { InviteForm, ResendInvitationButton } from "@/components/teams/invitation-forms";
import { Badge, Card, DateTime, EmptyState, Notice, PageHeader } from "@/components/ui";
import { roleAllows } from "@/lib/auth/permissions";
import { getDb } from "@/lib/db";
import { type InvitationStatus, type InvitationView, listInvitations } from "@/lib/domain/invitations";
import type { Page } from "@/lib/domain/pagination";
import { getEnv } from "@/lib/env";
import { isAppError } from "@/lib/errors";

export const metadata: Metadata = { title: "Invitations" };

const STATUS_TONE: Record<InvitationStatus, "green" | "amber" | "red" | "neutral"> = {
  pending: "amber",
  accepted: "green",
  revoked: "red",
  expired: "neutral",
};

export default async function InvitationsPage({
  params,
  searchParams,
}: {
  params: Promise<{ teamId: string }>;
  searchParams: SearchParams;
}) {
  const { teamId } = await params;
  const cursor = firstParam((await searchParams).cursor);
  const path = `/teams/${teamId}/invitations`;
  const { ctx } = await teamPage(teamId, path);

  if (!roleAllows(ctx.role, "invitations:read")) {
    return (
      <>
        <PageHeader title="Invitations" />
        <Notice title="Not available for your role">Only admins and owners can see and send invitations.</Notice>
      </>
    );
  }

  let page: Page<InvitationView>;
  try {
    page = await listInvitations(getDb(), ctx, { limit: 50, cursor });
  } catch (error) {
    if (!isAppError(error)) throw error;
    return <Notice tone="error">{error.message}</Notice>;
  }
  const canManage = roleAllows(ctx.role, "invitations:manage");
  const emailed = Boolean(getEnv().smtp);

  return (
    <>
      <PageHeader
        title="Invitations"
        description="Invitations are single-use, bound to one email address and role, and expire after 72 hours."
      />
      {canManage ? (
        <Card
          title="Invite someone"
          description={
            emailed
              ? "We email them a link to join."
              : "This instance sends no email: you get a link to pass on yourself."
          }
        >
          <InviteForm action={createInvitationAction} teamId={ctx.teamId} />
        </Card>
      ) : null}
      <Card title="Sent invitations">
        {page.items.length === 0 ? (
          <EmptyState title="No invitations yet">Invite people above; they appear here until they accept.</EmptyState>
        ) : (
          <ul aria-label="Invitations" className="-my-3 divide-y divide-zinc-200 dark:divide-zinc-800">
            {page.items.map((invitation) => {
              const fields = { teamId: ctx.teamId, invitationId: invitation.id };
              const open = invitation.status === "pending" || invitation.status === "expired";
              return (
                <li
                  key={invitation.id}
                  className="flex flex-col gap-3 py-4 md:flex-row md:items-start md:justify-between"
                >
                  <div className="min-w-0 space-y-1">
                    <p className="flex flex-wrap items-center gap-2">
                      <span className="truncate font-medium">{invitation.email}</span>
                      <Badge>{invitation.role}</Badge>
                      <Badge tone={STATUS_TONE[invitation.status]}>{invitation.status}</Badge>
                    </p>
                    <p className="text-xs text-zinc-500">
                      Sent <DateTime value={invitation.lastSentAt} />
                      {invitation.status === "pending" ? (
                        <>
                          {" "}
                          · expires <DateTime value={invitation.expiresAt} />
                        </>
                      ) : null}
                    </p>
                  </div>
                  {canManage && open ? (
                    <div className="flex flex-wrap items-start gap-2">
                      <ResendInvitationButton
                        action={resendInvitationAction}
                        teamId={ctx.teamId}
                        invitationId={invitation.id}
                      />
                      {invitation.status === "pending" ? (
                        <ActionButton
                          action={revokeInvitationAction}
                          fields={fields}
                          label="Revoke"
                          variant="danger"
                          confirm={`Revoke the invitation for ${invitation.email}?`}
                        />
                      ) : null}
                    </div>
                  ) : null}
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
