// Input rules shared by the portal, the API and the CLI.
import { z } from "zod";
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from "@/lib/auth/password";
import { lineText } from "@/lib/domain/text";

export const emailInput = lineText({ trim: true })
  .toLowerCase()
  .max(254)
  .pipe(z.email({ error: "Enter a valid email address." }));

export const passwordInput = z
  .string()
  .min(PASSWORD_MIN_LENGTH, `Use at least ${PASSWORD_MIN_LENGTH} characters.`)
  .max(PASSWORD_MAX_LENGTH, `Use at most ${PASSWORD_MAX_LENGTH} characters.`);

// Display names: printable, no control characters (lineText), nor other invisible ones (format characters).
export const displayName = (max: number) =>
  lineText({ trim: true })
    .min(1, "Required.")
    .max(max, `At most ${max} characters.`)
    .refine((value) => !/[\p{Cc}\p{Cf}]/u.test(value), "No control or invisible characters.");

export const teamName = displayName(80);
export const userName = displayName(80);
export const tokenName = displayName(60);
export const assignableRole = z.enum(["admin", "member", "viewer"]);
export const anyRole = z.enum(["owner", "admin", "member", "viewer"]);
export const scopesInput = z
  .array(z.enum(["read", "write"]))
  .min(1)
  .transform((scopes) => (scopes.includes("write") ? (["read", "write"] as const) : (["read"] as const)).slice());
