// Shapes the databases and Redis pages share between server and client: plain data and pure helpers, no server
// code (the browser bundle imports this).
import type { TenantServiceStatus } from "@/lib/generated/prisma/enums";

export type ServiceKind = "database" | "redis";

export type ServiceLimits = { connectionLimit: number; statementTimeoutMs: number; idleInTransactionMs: number };

export type ServiceRow = {
  id: string;
  name: string;
  status: TenantServiceStatus;
  error: string | null;
  appId: string | null;
  appName: string | null;
  /** Databases only. */
  limits: ServiceLimits | null;
  createdAt: Date;
};

/** What a page polls: enough to notice that the server-rendered page is stale. */
export type ServiceSnapshot = { status: TenantServiceStatus; pending: string | null; error: string | null };

export type ServicePoll = (
  teamId: string,
  ids: string[],
) => Promise<{
  status: "idle" | "success" | "error";
  message?: string;
  data?: Record<string, ServiceSnapshot | null>;
}>;

const OPERATION_LABELS: Record<string, string> = {
  "database.provision": "Creating",
  "database.rotate": "Rotating the password",
  "database.limits": "Applying the new limits",
  "database.delete": "Deleting",
  "redis.provision": "Creating",
  "redis.rotate": "Rotating the password",
  "redis.delete": "Deleting",
};

/** What an operation still running on a service is doing, in words. */
export function operationLabel(kind: string): string {
  return OPERATION_LABELS[kind] ?? "Working";
}

export function isBusy(snapshot: ServiceSnapshot): boolean {
  return snapshot.status === "provisioning" || snapshot.status === "deleting" || snapshot.pending !== null;
}

export const KIND_LABELS: Record<ServiceKind, { one: string; many: string; section: string; env: string }> = {
  database: { one: "database", many: "databases", section: "databases", env: "DATABASE_URL" },
  redis: { one: "Redis instance", many: "Redis instances", section: "redis", env: "REDIS_URL" },
};
