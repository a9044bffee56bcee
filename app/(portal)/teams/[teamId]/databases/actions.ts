"use server";

// The databases pages' server actions: thin, through teamAction (membership) and lib/domain/databases (role,
// audit, jobs). Viewers and members are refused by the domain (databases:manage) whatever the page showed them.
import { refresh } from "next/cache";
import { redirect } from "next/navigation";
import { z } from "zod";
import { pollServices } from "@/app/(portal)/teams/[teamId]/databases/service-poll";
import type { ServiceSnapshot } from "@/components/services/service-types";
import { type ActionState, teamAction } from "@/lib/actions";
import {
  changeDatabaseLimits,
  createDatabase,
  deleteDatabase,
  revealDatabaseCredentials,
  rotateDatabasePassword,
  updateDatabase,
} from "@/lib/domain/databases";
import type { TenantConnectionInfo } from "@/lib/infra/tenant-postgres";

const teamInput = z.strictObject({ teamId: z.uuid() });
const databaseInput = teamInput.extend({ databaseId: z.uuid() });
/** The app select: "" means none. */
const appChoice = z
  .string()
  .max(100)
  .transform((value) => (value === "" ? null : value));

// The form speaks seconds, the domain milliseconds; the ranges are the domain's (tenant-service-rules.ts).
const seconds = (min: number, label: string) =>
  z.coerce
    .number({ error: `${label} must be a number of seconds.` })
    .min(min, `${label} is at least ${min} s.`)
    .max(86_400, `${label} is at most 86400 s (a day).`)
    .transform((value) => Math.round(value * 1000));
const limitFields = {
  connectionLimit: z.coerce
    .number({ error: "Connections must be a whole number." })
    .int("Connections must be a whole number.")
    .min(1, "At least 1 connection.")
    .max(100, "At most 100 connections."),
  statementTimeout: seconds(0.1, "The statement timeout"),
  idleInTransactionTimeout: seconds(1, "The idle-in-transaction timeout"),
};

function limitsOf(input: { connectionLimit: number; statementTimeout: number; idleInTransactionTimeout: number }) {
  return {
    connectionLimit: input.connectionLimit,
    statementTimeoutMs: input.statementTimeout,
    idleInTransactionMs: input.idleInTransactionTimeout,
  };
}

export const createDatabaseAction = teamAction(
  teamInput.extend({ name: z.string().max(200), appId: appChoice, ...limitFields }),
  async (input, { db, ctx }) => {
    const { database } = await createDatabase(db, ctx, {
      name: input.name,
      appId: input.appId,
      limits: limitsOf(input),
    });
    redirect(`/teams/${ctx.teamId}/databases/${database.id}`);
  },
);

export const attachDatabaseAction = teamAction(
  databaseInput.extend({ appId: appChoice }),
  async (input, { db, ctx }) => {
    const { database } = await updateDatabase(db, ctx, input.databaseId, { appId: input.appId });
    refresh();
    return {
      status: "success",
      message: database.appId
        ? "Attached. The app receives DATABASE_URL at its next start; it restarts now if it is running."
        : "Detached. The app loses DATABASE_URL at its next start.",
    };
  },
);

export const changeDatabaseLimitsAction = teamAction(databaseInput.extend(limitFields), async (input, { db, ctx }) => {
  const { operation } = await changeDatabaseLimits(db, ctx, input.databaseId, limitsOf(input));
  refresh();
  return {
    status: "success",
    message: operation ? "Applying the new limits: new connections get them." : "Nothing changed.",
  };
});

export const rotateDatabaseAction = teamAction(databaseInput, async (input, { db, ctx }) => {
  await rotateDatabasePassword(db, ctx, input.databaseId);
  refresh();
  return { status: "success", message: "Rotating the password: the old one stops working in a moment." };
});

export const revealDatabaseCredentialsAction = teamAction<typeof databaseInput, TenantConnectionInfo>(
  databaseInput,
  async (input, { db, ctx }) => {
    // Straight into the page's state, never into a URL, a log or the audit row (the domain records the reveal).
    return { status: "success", data: await revealDatabaseCredentials(db, ctx, input.databaseId) };
  },
);

export const deleteDatabaseAction = teamAction(
  // Compared exactly with the name, so no trimming.
  databaseInput.extend({ confirmName: z.string().max(200) }),
  async (input, { db, ctx }) => {
    await deleteDatabase(db, ctx, input.databaseId, { confirmName: input.confirmName });
    redirect(`/teams/${ctx.teamId}/databases`);
  },
);

/** The pages poll this while something is in progress; membership and role are checked on each call. */
export async function pollDatabases(
  teamId: string,
  ids: string[],
): Promise<ActionState<Record<string, ServiceSnapshot | null>>> {
  return await pollServices("database", teamId, ids);
}
