"use server";

// The Cron tab's action: the whole set of jobs replaced through putCronJobs, the domain function behind
// PUT /api/v1/apps/{appId}/cron. The form sends the rows as one JSON field; the domain validates them and names the
// bad field of the bad row (jobs.2.schedule), which the form shows on that row.
import { refresh } from "next/cache";
import { z } from "zod";
import { type ActionState, teamAction } from "@/lib/actions";
import { MAX_COMMAND_LENGTH, MAX_CRON_JOBS_PER_APP, putCronJobs } from "@/lib/domain/cron";
import { AppError } from "@/lib/errors";

// Far above any valid set of jobs: it only stops oversized input before JSON.parse.
const MAX_JOBS_JSON = MAX_CRON_JOBS_PER_APP * (MAX_COMMAND_LENGTH + 1024);

export const saveCronAction = teamAction(
  z.strictObject({ teamId: z.uuid(), appId: z.uuid(), jobs: z.string().max(MAX_JOBS_JSON) }),
  async (input, { db, ctx }): Promise<ActionState> => {
    let jobs: unknown;
    try {
      jobs = JSON.parse(input.jobs);
    } catch {
      throw new AppError("invalid", "The jobs could not be read; reload the page and try again.");
    }
    // The shape of each job is the domain's to check (putCronInput): it answers with the path of the bad field.
    const saved = await putCronJobs(db, ctx, input.appId, { jobs } as Parameters<typeof putCronJobs>[3]);
    refresh();
    return {
      status: "success",
      message: saved.length === 0 ? "Saved: the app has no cron jobs." : `Saved ${saved.length} cron job(s).`,
    };
  },
);
