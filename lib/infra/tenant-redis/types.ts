// What the adapter takes and gives back.

// The platform's admin user on the tenant Redis server (see redis-server.ts, or TENANT_REDIS_ADMIN_URL).
export type TenantRedisAdmin = {
  host: string;
  port: number;
  user: string;
  password: string;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
};

export type TenantRedisNames = {
  // Also the key prefix: a user's name says which keys are its own.
  user: string;
  // Tenants name their keys `<keyPrefix>:<anything>` and their channels likewise.
  keyPrefix: string;
  keyPattern: string;
  channelPattern: string;
};

export type TenantRedisConnectionInfo = {
  url: string;
  host: string;
  port: number;
  user: string;
  password: string;
  keyPrefix: string;
};
