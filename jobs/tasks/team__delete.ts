// Removes a team and everything it owns, after its owner confirmed. The team is already hidden (status deleting);
// resources with infrastructure (apps, databases) are torn down by their own jobs before this one finishes.
import { z } from "zod";
import { defineTask } from "@/jobs/define";
import { removeTeamServices } from "@/jobs/tenant-services";
import { claimOperation, failOperation, succeedOperation } from "@/lib/domain/operations";

export const teamDelete = defineTask({
  name: "team__delete",
  payload: z.strictObject({ operationId: z.uuid(), teamId: z.uuid() }),
  maxAttempts: 10,
  async run({ operationId, teamId }, { db, log }) {
    if (!(await claimOperation(db, operationId))) return;
    const team = await db.team.findUnique({ where: { id: teamId }, select: { status: true } });
    if (team && team.status !== "deleting") {
      await failOperation(db, operationId, "The team is no longer marked for deletion.");
      return;
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
