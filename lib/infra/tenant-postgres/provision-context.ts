import type { Session } from "./session";
import type { TenantNames, TenantPostgresLimits } from "./types";

// What every provisioning step receives. Its own module so the steps (roles.ts, databases.ts) and their list
// (provision.ts) do not import each other in a circle.

export type TenantProvisionStepName =
  | "role"
  | "role_settings"
  | "database"
  | "database_privileges"
  | "protect_databases"
  | "public_schema";

export type TenantProvisionContext = {
  readonly session: Session;
  readonly adminUrl: string;
  readonly names: TenantNames;
  readonly password: string;
  readonly limits: TenantPostgresLimits;
  readonly protectDatabases: readonly string[];
};

export type TenantProvisionStep = {
  readonly name: TenantProvisionStepName;
  readonly run: (context: TenantProvisionContext) => Promise<void>;
};
