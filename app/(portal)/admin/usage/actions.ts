"use server";

import { z } from "zod";
import { userAction } from "@/lib/actions";
import { requestInstanceUsage } from "@/lib/domain/instance-usage";

/** Queues a measurement in the worker (podman and the directory walks never run in a request). */
export const measureUsageAction = userAction(z.strictObject({}), async (_input, { db, user }) => {
  await requestInstanceUsage(db, user);
  return { status: "success", message: "Measuring in the worker: reload the page in a minute for the new figures." };
});
