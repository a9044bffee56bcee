"use server";

import { z } from "zod";
import { publicAction } from "@/lib/actions";
import { emailInput } from "@/lib/domain/schemas";
import { requestPasswordReset } from "@/lib/domain/users";

export const requestReset = publicAction(z.strictObject({ email: emailInput }), async (input, { db, meta }) => {
  await requestPasswordReset(db, { email: input.email, ip: meta.ip });
  // Word for word the same whether or not the account exists.
  return {
    status: "success",
    message: "If an account exists for that address, we sent it a link to set a new password. It works for one hour.",
  };
});
