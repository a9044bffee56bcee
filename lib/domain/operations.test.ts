import { describe, expect, it } from "vitest";
import { getDb } from "@/lib/db";
import { claimOperation, setOperationProgress, succeedOperation } from "@/lib/domain/operations";
import { getOperation } from "@/lib/domain/operations-read";
import { createTestTeam, createTestUser, userCtx } from "@/test/factories";

describe("operation progress", () => {
  it("a running operation reports its step to the team; a finished one keeps its last step", async () => {
    const user = await createTestUser();
    const team = await createTestTeam(user.id);
    const ctx = await userCtx(user.id, team.id);
    const operation = await getDb().operation.create({ data: { teamId: team.id, kind: "backup.restore" } });

    // Queued: not running yet, so no step is recorded.
    expect(await setOperationProgress(getDb(), operation.id, "Reading the backup")).toBe(false);
    expect((await getOperation(getDb(), ctx, operation.id)).progress).toBeNull();

    expect(await claimOperation(getDb(), operation.id)).toBe(true);
    expect(await setOperationProgress(getDb(), operation.id, "Reading the backup")).toBe(true);
    expect(await getOperation(getDb(), ctx, operation.id)).toMatchObject({
      status: "running",
      progress: "Reading the backup",
    });

    expect(await setOperationProgress(getDb(), operation.id, "Restored 2 tables, 27 rows")).toBe(true);
    expect(await succeedOperation(getDb(), operation.id)).toBe(true);
    // A stale attempt's late write cannot change a finished operation.
    expect(await setOperationProgress(getDb(), operation.id, "Reading the backup")).toBe(false);
    expect(await getOperation(getDb(), ctx, operation.id)).toMatchObject({
      status: "succeeded",
      progress: "Restored 2 tables, 27 rows",
    });
  });
});
