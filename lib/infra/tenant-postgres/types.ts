// What the adapter takes and gives back.

export type TenantNames = { role: string; database: string };

export type TenantPostgresLimits = {
  connectionLimit: number;
  statementTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
};

export type ProvisionTenantInput = {
  resourceId: string;
  password: string;
  limits: TenantPostgresLimits;
  /** Databases tenants must not reach besides `postgres` and `template1`, e.g. the platform's own. */
  protectDatabases: readonly string[];
};

export type TenantConnectionInfo = {
  url: string;
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
};

export type TenantDatabaseState = { roleExists: boolean; databaseExists: boolean };
