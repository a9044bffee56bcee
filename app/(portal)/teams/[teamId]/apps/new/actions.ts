"use server";

import { redirect } from "next/navigation";
import { z } from "zod";
import { teamAction } from "@/lib/actions";
import { createApp } from "@/lib/domain/apps";
import { AppError } from "@/lib/errors";

// Shapes only: the domain owns the rules (DNS label, reserved names, https-only git) and reports them per field.
const createAppInput = z.strictObject({
  teamId: z.uuid(),
  name: z.string().trim().max(100),
  gitUrl: z.string().trim().max(2048).optional(),
  gitRef: z.string().trim().max(255).optional(),
});

export const createAppAction = teamAction(createAppInput, async (input, { db, ctx }) => {
  if (!input.gitUrl && input.gitRef) {
    const message = "A branch or tag needs a repository URL.";
    throw new AppError("invalid", message, { details: [{ path: "gitUrl", message }] });
  }
  const app = await createApp(db, ctx, {
    name: input.name,
    ...(input.gitUrl ? { source: { url: input.gitUrl, ref: input.gitRef || undefined } } : {}),
  });
  redirect(`/teams/${ctx.teamId}/apps/${app.id}`);
});
