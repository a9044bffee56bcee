import pg from "pg";
import { stepDatabase, stepDatabasePrivileges, stepProtectDatabases, stepPublicSchema } from "./databases";
import { invalid, TenantPostgresError } from "./errors";
import { assertPassword, IDENTIFIER, quoteIdentifier, scramSha256Verifier, tenantNames } from "./names";
import type { TenantProvisionContext, TenantProvisionStep } from "./provision-context";
import { stepRole, stepRoleSettings } from "./roles";
import { close, connect, ensureAdminCanSetRole, exec, readRole, terminateSessionsOf } from "./session";
import type { ProvisionTenantInput, TenantNames, TenantPostgresLimits } from "./types";

// Provisioning as a list of look-then-act steps (a rerun after a crash converges), and password rotation.

const MAX_TIMEOUT_MS = 2_147_483_647; // PostgreSQL's integer GUCs stop at INT_MAX.
const MAX_CONNECTION_LIMIT = 10_000;

/** In order; each is look-then-act, so any prefix followed by a full provision converges (tested). */
export const TENANT_PROVISION_STEPS: readonly TenantProvisionStep[] = [
  { name: "role", run: stepRole },
  { name: "role_settings", run: stepRoleSettings },
  { name: "database", run: stepDatabase },
  { name: "database_privileges", run: stepDatabasePrivileges },
  { name: "protect_databases", run: stepProtectDatabases },
  { name: "public_schema", run: stepPublicSchema },
];

function validateLimits(limits: TenantPostgresLimits): void {
  const within = (value: unknown, max: number) =>
    typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= max;
  if (typeof limits !== "object" || limits === null) throw invalid("provision", "limits");
  if (!within(limits.connectionLimit, MAX_CONNECTION_LIMIT)) throw invalid("provision", "connection limit");
  if (!within(limits.statementTimeoutMs, MAX_TIMEOUT_MS)) throw invalid("provision", "statement timeout");
  if (!within(limits.idleInTransactionTimeoutMs, MAX_TIMEOUT_MS)) throw invalid("provision", "idle timeout");
}

/** Runs the given provisioning steps (normally all of them; tests run prefixes to simulate crashes). */
export async function runTenantProvisionSteps(
  admin: string,
  input: ProvisionTenantInput,
  steps: readonly TenantProvisionStep[],
): Promise<TenantNames> {
  const names = tenantNames(input.resourceId, "provision");
  assertPassword(input.password, "provision");
  validateLimits(input.limits);
  if (!Array.isArray(input.protectDatabases)) throw invalid("provision", "protected databases");
  for (const database of input.protectDatabases) {
    if (typeof database !== "string" || !IDENTIFIER.test(database)) throw invalid("provision", "protected database");
  }
  const session = await connect(admin, "provision", null);
  const context: TenantProvisionContext = {
    session,
    adminUrl: admin,
    names,
    password: input.password,
    limits: { ...input.limits },
    protectDatabases: [...input.protectDatabases],
  };
  try {
    for (const step of steps) {
      session.step = step.name;
      await step.run(context);
    }
  } finally {
    await close(session);
  }
  return names;
}

/** Creates or converges a tenant's role and database. Idempotent; safe to rerun after a crash at any point. */
export async function provisionTenantDatabase(admin: string, input: ProvisionTenantInput): Promise<TenantNames> {
  return runTenantProvisionSteps(admin, input, TENANT_PROVISION_STEPS);
}

/**
 * Sets a new password and ends every session of the role, so the old credentials stop working at once. A login
 * that finished authenticating with the old password in the instant between the two is the only one to survive.
 */
export async function rotateTenantPassword(
  admin: string,
  input: { resourceId: string; password: string },
): Promise<void> {
  const operation = "rotate_password";
  const names = tenantNames(input.resourceId, operation);
  assertPassword(input.password, operation);
  const verifier = pg.escapeLiteral(await scramSha256Verifier(input.password));
  const session = await connect(admin, operation, "role");
  try {
    const role = await readRole(session, names.role);
    if (!role)
      throw new TenantPostgresError("not_found", operation, "the tenant role does not exist", { step: "role" });
    await ensureAdminCanSetRole(session, names.role);
    await exec(session, `ALTER ROLE ${quoteIdentifier(names.role)} WITH PASSWORD ${verifier}`, { secret: true });
    session.step = "terminate_sessions";
    await terminateSessionsOf(session, role, names.role);
  } finally {
    await close(session);
  }
}
