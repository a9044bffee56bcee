// The pg-backup adapter's public face: importers use "@/lib/infra/pg-backup", never the files behind it. By concern:
// errors.ts (PgBackupError), tools.ts (finding pg_dump/pg_restore, their version, running them through the
// Executor with the password in the child's environment), session.ts (admin connections, row counts), dump.ts,
// verify.ts (scratch-database verification and its sweep), restore.ts.
//
// Tools: pg_dump and pg_restore of a major at least the server's (pg_dump refuses a newer server); Debian 12 ships
// 15 (postgresql-client-15), which is why the embedded clusters are PostgreSQL 15 (docs/development.md).
//
// The admin role: a superuser, or (PostgreSQL 16+) the CREATEROLE CREATEDB role of lib/infra/tenant-postgres, which
// holds SET on every tenant role: dumps, counts and restores run as the tenant role (`--role`, SET LOCAL ROLE), so
// the admin never needs to read tenants' tables itself. Every operation opens and closes its own sessions.

export { type DumpResult, dumpPlatformDatabase, dumpTenantDatabase } from "./dump";
export { PgBackupError, type PgBackupErrorKind } from "./errors";
export { type RestoreMode, restoreDump, restorePlatformDatabase } from "./restore";
export type { TableCount } from "./session";
export { locatePgBinDir, type PgTools, parseToolMajor, pgTools } from "./tools";
export { compareCounts, dropStaleScratchDatabases, scratchDatabaseName, type VerifyResult, verifyDump } from "./verify";
