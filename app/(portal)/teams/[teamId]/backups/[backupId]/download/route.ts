// The portal's download link for a backup (the database page's Backups section): the signed-in user's session
// instead of an API token, the same domain check (admins only, audited) and stream as the REST endpoint. Refusals
// answer plain text: the link opens in the browser, where a JSON error body would help nobody.
import { z } from "zod";
import { openBackupDownload } from "@/lib/api/backup-download";
import { currentRequestMeta, currentUser } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { userContext } from "@/lib/domain/context";
import { ERROR_STATUS, isAppError } from "@/lib/errors";
import { logger } from "@/lib/logger";

function text(status: number, message: string): Response {
  return new Response(`${message}\n`, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
  });
}

export async function GET(
  _request: Request,
  { params }: { params: Promise<{ teamId: string; backupId: string }> },
): Promise<Response> {
  const { teamId, backupId } = await params;
  const meta = await currentRequestMeta();
  const log = logger({ requestId: meta.requestId }).child({ teamId, backupId });
  try {
    // userContext's query takes a UUID: anything else names no team.
    if (!z.uuid().safeParse(teamId).success) return text(404, "Team not found.");
    const user = await currentUser();
    if (!user) return text(401, "Sign in to download this backup.");
    const ctx = await userContext(getDb(), user.id, teamId, meta);
    const { stream, headers } = await openBackupDownload(getDb(), ctx, backupId, log);
    return new Response(stream, {
      status: 200,
      headers: {
        "content-type": "application/octet-stream",
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
        ...headers,
      },
    });
  } catch (error) {
    if (isAppError(error)) {
      // Another team's ID and another team's backup read "not found" like IDs that do not exist.
      if (ERROR_STATUS[error.code] >= 500) log.error({ err: error }, "backup download failed");
      return text(ERROR_STATUS[error.code], error.message);
    }
    log.error({ err: error }, "backup download failed");
    return text(500, "Something went wrong on our side.");
  }
}
