// Removes a team and everything it owns, after its owner confirmed. The team is already hidden (status deleting);
// its apps are torn down by their own app__delete jobs (queued with the request) before this one goes on, then its
// databases and Redis users, then the rows.
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { removeTeamServices } from "@/jobs/tenant-services";
import { claimOperation, failOperation, succeedOperation } from "@/lib/domain/operations";
import { AppError } from "@/lib/errors";

export const teamDelete = defineTask(catalog.team__delete, {
  async run({ operationId, teamId }, { db, log }) {
    if (!(await claimOperation(db, operationId))) return;
    const team = await db.team.findUnique({ where: { id: teamId }, select: { status: true } });
    if (team && team.status !== "deleting") {
      await failOperation(db, operationId, "The team is no longer marked for deletion.");
      return;
    }
    // The team's apps go first, each through its own app__delete (queued with the deletion request): their
    // containers, images and routes must not outlive the rows that let reconcile recognise them as ours.
    const apps = await db.app.count({ where: { teamId } });
    if (apps > 0) {
      throw new AppError(
        "unavailable",
        `The team's ${apps} app(s) could not be removed, so the team stays until they are (the worker log says why).`,
      );
    }
    if (team) await removeTeamServices(db, teamId, log);
    // Rows cascade from the team: memberships, invitations, tokens, audit events, operations of the team.
    await db.team.deleteMany({ where: { id: teamId, status: "deleting" } });
    await succeedOperation(db, operationId);
    log.info({ teamId }, "team deleted");
  },
  async onGiveUp({ operationId }, reason, { db }) {
    await failOperation(db, operationId, reason);
  },
});
