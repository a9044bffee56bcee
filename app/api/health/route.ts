import { getHealthEndpoint } from "@/lib/api/endpoints/health";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { getHealth } from "@/lib/health";

export const GET = handle(getHealthEndpoint, async () => {
  const health = await getHealth(getDb());
  return health.status === "ok" ? { status: 200 as const, body: health } : { status: 503 as const, body: health };
});

export const { POST, PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/health");
