// Teams: the tenant. Create, list, rename, delete (asynchronous, after a typed confirmation).
import { randomBytes } from "node:crypto";
import { enqueue } from "@/jobs/enqueue";
import { appQueue } from "@/jobs/queues";
import type { Db } from "@/lib/db";
import { recordAudit } from "@/lib/domain/audit";
import { authorize, type Ctx, type RequestMeta } from "@/lib/domain/context";
import { createOperation } from "@/lib/domain/operations";
import { enforceTeamsPerUser } from "@/lib/domain/quotas";
import { AppError } from "@/lib/errors";
import type { Operation, Role, Team } from "@/lib/generated/prisma/client";

export type TeamView = { id: string; name: string; slug: string; createdAt: Date };
export type TeamWithRole = TeamView & { role: Role };

export function teamView(team: Team): TeamView {
  return { id: team.id, name: team.name, slug: team.slug, createdAt: team.createdAt };
}

/**
 * A DNS-label-safe slug from the name, with a random suffix. App hostnames are `<app>-<slug>.<domain>` and one DNS
 * label holds 63 characters: 16 + 7 for the slug leaves 39 for the app name.
 */
export function slugFor(name: string): string {
  const base = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 16)
    .replace(/-+$/g, "");
  return `${base || "team"}-${randomBytes(3).toString("hex")}`;
}

export async function createTeam(
  db: Db,
  input: { userId: string; name: string; meta: RequestMeta },
): Promise<TeamView> {
  return await db.$transaction(async (tx) => {
    await enforceTeamsPerUser(tx, input.userId);
    const user = await tx.user.findUniqueOrThrow({ where: { id: input.userId }, select: { email: true } });
    const team = await tx.team.create({ data: { name: input.name, slug: slugFor(input.name) } });
    await tx.membership.create({ data: { teamId: team.id, userId: input.userId, role: "owner" } });
    const ctx: Ctx = {
      actor: { type: "user", userId: input.userId, label: user.email },
      teamId: team.id,
      role: "owner",
      meta: input.meta,
    };
    await recordAudit(tx, ctx, {
      action: "team.created",
      target: { type: "team", id: team.id },
      metadata: { name: team.name },
    });
    return teamView(team);
  });
}

/** The user's teams with their role, oldest membership first. One query. */
export async function listTeamsForUser(db: Db, userId: string): Promise<TeamWithRole[]> {
  const memberships = await db.membership.findMany({
    where: { userId, team: { status: "active" } },
    include: { team: true },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
  });
  return memberships.map((membership) => ({ ...teamView(membership.team), role: membership.role }));
}

export async function getTeam(db: Db, ctx: Ctx): Promise<TeamView> {
  authorize(ctx, "team:read");
  const team = await db.team.findFirst({ where: { id: ctx.teamId, status: "active" } });
  if (!team) throw new AppError("not_found", "Team not found.");
  return teamView(team);
}

export async function renameTeam(db: Db, ctx: Ctx, input: { name: string }): Promise<TeamView> {
  authorize(ctx, "team:update");
  return await db.$transaction(async (tx) => {
    const before = await tx.team.findFirst({ where: { id: ctx.teamId, status: "active" } });
    if (!before) throw new AppError("not_found", "Team not found.");
    const team = await tx.team.update({ where: { id: ctx.teamId }, data: { name: input.name } });
    await recordAudit(tx, ctx, {
      action: "team.renamed",
      target: { type: "team", id: team.id },
      metadata: { from: before.name, to: team.name },
    });
    return teamView(team);
  });
}

/** Marks the team for deletion and queues the job that removes everything it owns. */
export async function deleteTeam(db: Db, ctx: Ctx, input: { confirmName: string }): Promise<Operation> {
  authorize(ctx, "team:delete");
  return await db.$transaction(async (tx) => {
    const team = await tx.team.findFirst({ where: { id: ctx.teamId, status: "active" } });
    if (!team) throw new AppError("not_found", "Team not found.");
    if (input.confirmName !== team.name) {
      throw new AppError("invalid", "Type the team's name exactly to confirm.", {
        details: [{ path: "confirmName", message: "Does not match the team's name." }],
      });
    }
    await tx.team.update({ where: { id: team.id }, data: { status: "deleting" } });
    await recordAudit(tx, ctx, { action: "team.deletion_requested", target: { type: "team", id: team.id } });
    // Apps have containers, images and routes: each is torn down by its own app__delete (in its app's queue, after
    // any release in flight), and team__delete waits for them. Cascading the rows alone would leave them running.
    const apps = await tx.app.findMany({
      where: { teamId: team.id, status: { not: "deleting" } },
      select: { id: true },
    });
    await tx.app.updateMany({ where: { id: { in: apps.map((app) => app.id) } }, data: { status: "deleting" } });
    for (const app of apps) {
      const appOperation = await createOperation(tx, {
        kind: "app.delete",
        teamId: team.id,
        target: { type: "app", id: app.id },
        requestId: ctx.meta.requestId,
      });
      await enqueue(tx, "app__delete", { operationId: appOperation.id, appId: app.id }, { queue: appQueue(app.id) });
    }
    // Not tied to the team row: the operation must outlive the team it deletes.
    const operation = await createOperation(tx, {
      kind: "team.delete",
      target: { type: "team", id: team.id },
      requestId: ctx.meta.requestId,
    });
    await enqueue(tx, "team__delete", { operationId: operation.id, teamId: team.id });
    return operation;
  });
}
