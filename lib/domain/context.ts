// Who is acting, for which team, with which role. Every domain function takes one and authorizes first.
import { isWritePermission, type Permission, roleAllows } from "@/lib/auth/permissions";
import type { Db, Tx } from "@/lib/db";
import { AppError } from "@/lib/errors";
import type { Role } from "@/lib/generated/prisma/enums";

export type Scope = "read" | "write";

export type Actor =
  | { type: "user"; userId: string; label: string }
  | { type: "token"; tokenId: string; label: string; scopes: Scope[] };

export type RequestMeta = { requestId: string; ip: string | null; userAgent: string | null };

export type Ctx = { actor: Actor; teamId: string; role: Role; meta: RequestMeta };

export function authorize(ctx: Ctx, permission: Permission): void {
  if (ctx.actor.type === "token" && isWritePermission(permission) && !ctx.actor.scopes.includes("write")) {
    throw new AppError("forbidden", "This API token has read access only; this needs the write scope.");
  }
  if (!roleAllows(ctx.role, permission)) {
    throw new AppError("forbidden", "Your role in this team does not allow this.");
  }
}

/** The context of a signed-in user acting in a team. Not a member (or no such team): 404, as for anything absent. */
export async function userContext(db: Db | Tx, userId: string, teamId: string, meta: RequestMeta): Promise<Ctx> {
  const membership = await db.membership.findFirst({
    where: { userId, teamId, team: { status: "active" } },
    select: { role: true, user: { select: { email: true } } },
  });
  if (!membership) throw new AppError("not_found", "Team not found.");
  return { actor: { type: "user", userId, label: membership.user.email }, teamId, role: membership.role, meta };
}

export function actorUserId(ctx: Ctx): string | null {
  return ctx.actor.type === "user" ? ctx.actor.userId : null;
}
