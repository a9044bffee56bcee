"use server";

import { refresh } from "next/cache";
import { z } from "zod";
import { teamAction } from "@/lib/actions";
import { createApiToken, revokeApiToken } from "@/lib/domain/api-tokens";
import { tokenName } from "@/lib/domain/schemas";

const DAY_MS = 24 * 60 * 60_000;

const createTokenInput = z.strictObject({
  teamId: z.uuid(),
  name: tokenName,
  // One radio: "read", or "write" which always includes read (as the domain's scopesInput does).
  scope: z.enum(["read", "write"], { error: "Choose the token's access." }),
  expiresInDays: z
    .string()
    .trim()
    .max(5, "At most 3650 days.")
    .optional()
    .transform((value) => (value ? Number(value) : null))
    .pipe(
      z
        .number({ error: "Enter a whole number of days." })
        .int("Enter a whole number of days.")
        .min(1, "At least 1 day.")
        .max(3650, "At most 3650 days.")
        .nullable(),
    ),
});

/** The token itself, returned once so the page can show it; only its hash is stored. */
type CreatedToken = { name: string; token: string };

export const createTokenAction = teamAction<typeof createTokenInput, CreatedToken>(
  createTokenInput,
  async (input, { db, ctx }) => {
    const { apiToken, token } = await createApiToken(db, ctx, {
      name: input.name,
      scopes: input.scope === "write" ? ["read", "write"] : ["read"],
      expiresAt: input.expiresInDays ? new Date(Date.now() + input.expiresInDays * DAY_MS) : null,
    });
    refresh();
    return { status: "success", message: `Token “${apiToken.name}” created.`, data: { name: apiToken.name, token } };
  },
);

export const revokeTokenAction = teamAction(
  z.strictObject({ teamId: z.uuid(), tokenId: z.uuid() }),
  async (input, { db, ctx }) => {
    const revoked = await revokeApiToken(db, ctx, { tokenId: input.tokenId });
    refresh();
    return { status: "success", message: `Token “${revoked.name}” revoked.` };
  },
);
