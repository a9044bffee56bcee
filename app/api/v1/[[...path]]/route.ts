// Every path under /api/v1 that no route serves: a JSON 404 in the error shape (Next would answer an HTML page).
import { notFoundRoutes } from "@/lib/api/fallback";

export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = notFoundRoutes();
