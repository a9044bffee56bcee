// Tenant Redis on a shared server: one ACL user per resource, confined to its own key and channel prefix
// (docs/security.md, "Tenant Redis"; docs/operations.md). Key patterns alone do not isolate tenants: SCAN, KEYS,
// RANDOMKEY, DBSIZE and FLUSHALL work on the whole keyspace whatever the user's patterns, so those commands are
// denied explicitly, on top of the admin, dangerous and scripting categories.
//
// The adapter's public face: importers use "@/lib/infra/tenant-redis", never the files behind it, except the domain,
// which imports the pure names.ts and types.ts directly (.dependency-cruiser.cjs). By concern:
// types.ts, errors.ts (TenantRedisError), names.ts (names, validation and connection info: pure, so the domain
// imports it directly), acl.ts (the ACL rules and their verification), admin.ts (the admin connection and the
// commands the operations share), operations.ts (provision, rotate, deprovision, inspect, list), export.ts (a tenant's
// keys to a file and back, for moving data).

export { tenantRedisAclRules, tenantRedisCommandRules } from "./acl";
export { withAdmin } from "./admin";
export { TenantRedisError, type TenantRedisErrorKind, type TenantRedisOperation } from "./errors";
export {
  EXPORT_FORMAT,
  EXPORT_VERSION,
  exportTenantRedis,
  importTenantRedis,
  type TenantRedisAdminTarget,
} from "./export";
export { tenantRedisConnectionInfo, tenantRedisNames } from "./names";
export {
  deprovisionTenantRedis,
  inspectTenantRedis,
  listTenantRedisResourceIds,
  type ProvisionTenantRedisInput,
  provisionTenantRedis,
  rotateTenantRedisPassword,
} from "./operations";
export type { TenantRedisAdmin, TenantRedisConnectionInfo, TenantRedisNames } from "./types";
