"use server";

import { z } from "zod";
import { userAction } from "@/lib/actions";
import { setInstanceQuotas, setTeamQuotas } from "@/lib/domain/quota-admin";

// A form field: empty means "no override" (null); anything else must be a whole number, which the domain checks
// against each quota's range (its messages name the field).
const formNumber = z
  .string()
  .trim()
  .optional()
  .transform((value) => (value === undefined || value === "" ? null : Number(value)));

const quotaFields = {
  apps: formNumber,
  databases: formNumber,
  redis: formNumber,
  dbConnections: formNumber,
  uploadMb: formNumber,
  concurrentBuilds: formNumber,
  redisMemoryMb: formNumber,
  statementTimeoutS: formNumber,
  domains: formNumber,
  cronJobs: formNumber,
  concurrentRuns: formNumber,
  processes: formNumber,
  notificationChannels: formNumber,
  backups: formNumber,
};

/** The instance defaults (over the environment's TUSSILAGO_QUOTA_*). Instance administrators only. */
export const saveInstanceQuotasAction = userAction(
  z.strictObject({ ...quotaFields, teamsPerUser: formNumber }),
  async (input, { db, user, meta }) => {
    await setInstanceQuotas(db, user, input, meta);
    return { status: "success", message: "The instance defaults are saved." };
  },
);

/** One team's overrides; empty fields follow the instance defaults. Instance administrators only. */
export const saveTeamQuotasAction = userAction(
  z.strictObject({ teamId: z.string(), ...quotaFields }),
  async ({ teamId, ...input }, { db, user, meta }) => {
    await setTeamQuotas(db, user, teamId, input, meta);
    return { status: "success", message: "The team's quotas are saved." };
  },
);
