import { databaseCredentialsEndpoint } from "@/lib/api/endpoints/services";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { revealDatabaseCredentials } from "@/lib/domain/databases";

// The answer carries a password: handle() marks every answer no-store, and nothing here logs it.
export const GET = handle(databaseCredentialsEndpoint, async ({ ctx, params }) => {
  return { status: 200 as const, body: await revealDatabaseCredentials(getDb(), ctx, params.id) };
});

export const { POST, PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/databases/{id}/credentials");
