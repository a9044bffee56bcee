import type { Metadata } from "next";
import { teamPage } from "@/app/(portal)/teams/[teamId]/team-page";
import { createTokenAction, revokeTokenAction } from "@/app/(portal)/teams/[teamId]/tokens/actions";
import { firstParam, type SearchParams } from "@/app/search-params";
import { ActionButton } from "@/components/action-button";
import { Pager } from "@/components/pager";
import { CreateTokenForm } from "@/components/teams/token-form";
import { Badge, Card, DateTime, EmptyState, Notice, PageHeader, TextLink } from "@/components/ui";
import { roleAllows } from "@/lib/auth/permissions";
import { getDb } from "@/lib/db";
import { type ApiTokenView, listApiTokens } from "@/lib/domain/api-tokens";
import type { Page } from "@/lib/domain/pagination";
import { getEnv } from "@/lib/env";
import { isAppError } from "@/lib/errors";

export const metadata: Metadata = { title: "API tokens" };

function tokenState(token: ApiTokenView, now: Date): "active" | "revoked" | "expired" {
  if (token.revokedAt) return "revoked";
  if (token.expiresAt && token.expiresAt <= now) return "expired";
  return "active";
}

export default async function TokensPage({
  params,
  searchParams,
}: {
  params: Promise<{ teamId: string }>;
  searchParams: SearchParams;
}) {
  const { teamId } = await params;
  const cursor = firstParam((await searchParams).cursor);
  const path = `/teams/${teamId}/tokens`;
  const { ctx } = await teamPage(teamId, path);

  if (!roleAllows(ctx.role, "tokens:read")) {
    return (
      <>
        <PageHeader title="API tokens" />
        <Notice title="Not available for your role">Only admins and owners can see and create API tokens.</Notice>
      </>
    );
  }

  let page: Page<ApiTokenView>;
  try {
    page = await listApiTokens(getDb(), ctx, { limit: 50, cursor });
  } catch (error) {
    if (!isAppError(error)) throw error;
    return <Notice tone="error">{error.message}</Notice>;
  }
  const canManage = roleAllows(ctx.role, "tokens:manage");
  const now = new Date();

  return (
    <>
      <PageHeader
        title="API tokens"
        description="Tokens let scripts and CI use the API on behalf of this team. Send them as Authorization: Bearer. A token never does more than the member who created it may do now, and stops working when that member leaves the team."
      />
      <p className="text-sm">
        Every endpoint, with examples: <TextLink href="/docs/api">API reference</TextLink>.
      </p>
      {canManage ? (
        <Card title="Create a token">
          <CreateTokenForm action={createTokenAction} teamId={ctx.teamId} apiUrl={getEnv().publicUrl} />
        </Card>
      ) : null}
      <Card title="Tokens">
        {page.items.length === 0 ? (
          <EmptyState title="No API tokens yet">Tokens you create appear here, by their prefix.</EmptyState>
        ) : (
          <ul aria-label="API tokens" className="-my-3 divide-y divide-zinc-200 dark:divide-zinc-800">
            {page.items.map((token) => {
              const state = tokenState(token, now);
              return (
                <li key={token.id} className="flex flex-col gap-3 py-4 md:flex-row md:items-start md:justify-between">
                  <div className="min-w-0 space-y-1">
                    <p className="flex flex-wrap items-center gap-2">
                      <span className="truncate font-medium">{token.name}</span>
                      <code className="rounded bg-zinc-100 px-1.5 py-0.5 font-mono text-xs dark:bg-zinc-800">
                        {token.prefix}…
                      </code>
                      <Badge tone={token.scopes.includes("write") ? "amber" : "neutral"}>
                        {token.scopes.includes("write") ? "read + write" : "read"}
                      </Badge>
                      {state !== "active" ? <Badge tone="red">{state}</Badge> : null}
                    </p>
                    <p className="text-xs text-zinc-500">
                      Created <DateTime value={token.createdAt} /> by {token.createdBy.label} · last used{" "}
                      <DateTime value={token.lastUsedAt} empty="never" /> · expires{" "}
                      <DateTime value={token.expiresAt} empty="never" />
                    </p>
                  </div>
                  {canManage && state === "active" ? (
                    <ActionButton
                      action={revokeTokenAction}
                      fields={{ teamId: ctx.teamId, tokenId: token.id }}
                      label="Revoke"
                      variant="danger"
                      confirm={`Revoke “${token.name}”? Anything using it stops working at once.`}
                    />
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
