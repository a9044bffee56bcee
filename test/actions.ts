// Calling server actions in tests: the form they receive, and where they redirect.
import { rejectionOf } from "@/test/errors";

/** The FormData a server action receives from a form with these fields (a File for an upload field). */
export function form(values: Record<string, string | File>): FormData {
  const data = new FormData();
  for (const [key, value] of Object.entries(values)) data.set(key, value);
  return data;
}

/** The target of the redirect an action ends with: Next's redirect() throws NEXT_REDIRECT;<type>;<url>;<status>. */
export async function redirectTarget(promise: Promise<unknown>): Promise<string> {
  const error = await rejectionOf(promise);
  const digest = (error as { digest?: unknown } | null | undefined)?.digest;
  if (typeof digest !== "string" || !digest.startsWith("NEXT_REDIRECT")) {
    throw new Error(`expected a redirect, got ${JSON.stringify(error)}`);
  }
  return digest.split(";")[2] ?? "";
}
