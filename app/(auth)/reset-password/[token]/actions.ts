"use server";

import { redirect } from "next/navigation";
import { z } from "zod";
import { publicAction } from "@/lib/actions";
import { passwordInput } from "@/lib/domain/schemas";
import { resetPassword } from "@/lib/domain/users";

export const resetPasswordWithToken = publicAction(
  z
    .strictObject({ token: z.string().min(1).max(200), newPassword: passwordInput, confirmPassword: z.string() })
    .refine((input) => input.newPassword === input.confirmPassword, {
      path: ["confirmPassword"],
      message: "The passwords do not match.",
    }),
  async (input, { db }) => {
    await resetPassword(db, { token: input.token, newPassword: input.newPassword });
    redirect("/sign-in?reset=1");
  },
);
