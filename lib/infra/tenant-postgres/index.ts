// The adapter's public face: importers use "@/lib/infra/tenant-postgres", never the files behind it, except the
// domain, which imports the pure names.ts and types.ts directly (.dependency-cruiser.cjs). By concern:
// types.ts, errors.ts (TenantPostgresError), names.ts (names, passwords, SCRAM verifiers, connection info),
// session.ts (admin connections and the reads shared by the steps), provision-context.ts, roles.ts and databases.ts
// (the provisioning steps), provision.ts (provision, rotate), deprovision.ts, inventory.ts (inspect, list, the
// verifiers PgBouncer authenticates with).
//
// Tenant PostgreSQL on the shared tier (docs/security.md, "Tenant PostgreSQL"): per resource one LOGIN role
// and one database it owns, both named `t_<32 hex>` after the resource UUID, shut off from every other database of
// the cluster. Every operation is look-then-act, so a job can simply run it again after a crash at any point.
//
// The admin connection string is injected (house rule: no lib/env here). It must reach PostgreSQL directly, not
// through PgBouncer: provisioning relies on session state (SET ROLE) and `CREATE DATABASE` outside a transaction.
//
// Privileges of the admin role
// ----------------------------
// A superuser works and is what the tests use, but then the control plane holds a credential that is the whole
// cluster and, through `COPY ... PROGRAM`, a shell as the postgres OS user. The intended production role is
//
//   CREATE ROLE tussilago_admin LOGIN CREATEROLE CREATEDB PASSWORD '...';   -- PostgreSQL 16 or newer
//
// With PG16 semantics CREATEROLE only manages roles this admin created itself (it receives ADMIN OPTION on them),
// cannot touch the platform role or any superuser, and cannot hand out SUPERUSER, REPLICATION or BYPASSRLS.
// Keep `createrole_self_grant` at its default (empty): the adapter grants itself exactly what it needs, per tenant:
// - SET (INHERIT FALSE) on the tenant role: `CREATE DATABASE ... OWNER` and `ALTER SCHEMA ... OWNER` demand that
//   the caller can SET ROLE to the new owner, and owner-only statements (REVOKE/GRANT on the tenant database, the
//   public schema, DROP DATABASE, terminating the tenant's sessions) run under `SET ROLE <tenant>`. INHERIT stays
//   off so the admin does not silently accumulate every tenant's data privileges.
// - CONNECT on the tenant database, since PUBLIC loses it and step "public_schema" has to connect there.
// No pg_signal_backend (a role may terminate its own sessions) and no pg_read_all_data are needed.
//
// What such a role cannot do is revoke PUBLIC's CONNECT on `postgres`, `template1` and the platform databases:
// GRANT/REVOKE take effect only when issued by the object's owner (or a superuser); from anyone else PostgreSQL
// merely emits the WARNING "no privileges could be revoked" and changes nothing. Two ways out:
//   (a) a superuser runs, once at host setup,
//         REVOKE CONNECT ON DATABASE postgres, template1, <platform databases> FROM PUBLIC;
//         GRANT CONNECT ON DATABASE postgres TO tussilago_admin;   -- the admin's own maintenance database
//       and step "protect_databases" becomes a check that finds nothing to do;
//   (b) `ALTER DATABASE postgres|template1 OWNER TO tussilago_admin`, so the step can revoke by itself.
// We recommend (a): the owner of template1 controls what every later `CREATE DATABASE` without TEMPLATE copies
// (functions planted there reach the platform's own future databases) and may drop or rename `postgres`.
// Either way the step verifies the outcome and fails with a non-retryable "permission" error naming the database
// rather than trusting a REVOKE that PostgreSQL may have ignored.
//
// Secrets: the tenant password only ever leaves this process as a SCRAM-SHA-256 verifier, so neither the server,
// its logs, pg_stat_activity nor pg_stat_statements see the cleartext. Statements carrying the verifier are marked
// secret: their driver errors are reduced to the SQLSTATE (PostgreSQL echoes statement fragments in some messages).
// Each operation uses its own short-lived connection, so no idle admin session keeps such a statement visible as
// its last query in pg_stat_activity.

export { deprovisionTenantDatabase } from "./deprovision";
export { TenantPostgresError, type TenantPostgresErrorKind, type TenantPostgresOperation } from "./errors";
export {
  inspectTenantDatabase,
  listTenantResourceIds,
  readTenantVerifiers,
  resourceIdOfTenantName,
} from "./inventory";
export { generateTenantPassword, scramSha256Verifier, tenantConnectionInfo, tenantNames } from "./names";
export {
  provisionTenantDatabase,
  rotateTenantPassword,
  runTenantProvisionSteps,
  TENANT_PROVISION_STEPS,
} from "./provision";
export type { TenantProvisionContext, TenantProvisionStep, TenantProvisionStepName } from "./provision-context";
export type {
  ProvisionTenantInput,
  TenantConnectionInfo,
  TenantDatabaseState,
  TenantNames,
  TenantPostgresLimits,
} from "./types";
