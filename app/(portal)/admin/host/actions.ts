"use server";

import { z } from "zod";
import { type ActionState, userAction, userCall } from "@/lib/actions";
import { hostCheckState, requestHostCheck } from "@/lib/domain/host-checks";
import type { HostCheckPoll } from "./host-check-poll";

/** Queues a run of the host checks in the worker; the page polls until its report is stored. */
export const runHostChecksAction = userAction(z.strictObject({}), async (_input, { db, user, meta }) => {
  await requestHostCheck(db, user, meta.requestId);
  return { status: "success", message: "The checks are running in the worker." };
});

const poll = userCall<z.ZodObject, HostCheckPoll>(z.strictObject({}), async (_input, { db, user }) => {
  const state = await hostCheckState(db, user);
  return {
    status: "success",
    data: {
      report: state.report
        ? { ok: state.report.ok, sections: state.report.sections, createdAt: state.report.createdAt.toISOString() }
        : null,
      running: state.running !== null,
    },
  };
});

/** The host page's live view calls this every few seconds while a run is queued or under way. */
export async function pollHostChecks(): Promise<ActionState<HostCheckPoll>> {
  return await poll({});
}
