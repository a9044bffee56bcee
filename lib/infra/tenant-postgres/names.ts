import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from "node:crypto";
import net from "node:net";
import { promisify } from "node:util";
import pg from "pg";
import { invalid, TenantPostgresError, type TenantPostgresOperation } from "./errors";
import type { TenantConnectionInfo, TenantNames } from "./types";

// Names derived from resource UUIDs, passwords and their SCRAM-SHA-256 verifiers (the cleartext never reaches the
// server), and the connection details handed to a tenant.

export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
export const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
// Printable ASCII without space: SASLprep leaves such strings untouched, so the verifier computed here is the one
// PostgreSQL and every client library derive from the same password.
const PASSWORD = /^[\x21-\x7e]{32,1024}$/;
const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

const SCRAM_ITERATIONS = 4096;
const SCRAM_SALT_BYTES = 16;

const pbkdf2Async = promisify(pbkdf2);

export function quoteIdentifier(name: string): string {
  // Every identifier we build DDL from was validated on entry (tenantNames, protectDatabases), so this never throws
  // in practice; it keeps a future caller from skipping validation. escapeIdentifier is the second fence.
  if (!IDENTIFIER.test(name)) throw new TenantPostgresError("invalid_argument", "provision", "invalid identifier");
  return pg.escapeIdentifier(name);
}

/** Role and database of a resource: `t_` and the 32 hex digits of its UUID (v4 only). */
export function tenantNames(resourceId: string, operation: TenantPostgresOperation = "provision"): TenantNames {
  if (typeof resourceId !== "string" || !UUID_V4.test(resourceId)) throw invalid(operation, "resource id");
  const name = `t_${resourceId.toLowerCase().replaceAll("-", "")}`;
  if (!IDENTIFIER.test(name)) throw invalid(operation, "resource id");
  return { role: name, database: name };
}

/** 32 random bytes, base64url: 43 characters that need no escaping in URLs or connection strings. */
export function generateTenantPassword(): string {
  return randomBytes(32).toString("base64url");
}

export function assertPassword(password: unknown, operation: TenantPostgresOperation): asserts password is string {
  if (typeof password !== "string" || !PASSWORD.test(password)) throw invalid(operation, "password");
}

async function scramKeys(
  password: string,
  salt: Buffer,
  iterations: number,
): Promise<{ stored: Buffer; server: Buffer }> {
  const salted = await pbkdf2Async(password, salt, iterations, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  return {
    stored: createHash("sha256").update(clientKey).digest(),
    server: createHmac("sha256", salted).update("Server Key").digest(),
  };
}

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores in pg_authid.rolpassword (RFC 5802/7677):
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, base64. Given to CREATE/ALTER ROLE ... PASSWORD it
 * is stored as is, so the cleartext never reaches the server.
 */
export async function scramSha256Verifier(
  password: string,
  salt: Buffer = randomBytes(SCRAM_SALT_BYTES),
): Promise<string> {
  assertPassword(password, "provision");
  const { stored, server } = await scramKeys(password, salt, SCRAM_ITERATIONS);
  return `SCRAM-SHA-256$${SCRAM_ITERATIONS}:${salt.toString("base64")}$${stored.toString("base64")}:${server.toString("base64")}`;
}

const VERIFIER = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/;

// Whether a stored verifier belongs to this password and has the wanted parameters. Anything else (another
// iteration count, MD5, no password) counts as a mismatch and gets replaced.
export async function verifierMatches(verifier: string | null, password: string): Promise<boolean> {
  const match = verifier === null ? null : VERIFIER.exec(verifier);
  if (!match || Number(match[1]) !== SCRAM_ITERATIONS) return false;
  const salt = Buffer.from(match[2] ?? "", "base64");
  const stored = Buffer.from(match[3] ?? "", "base64");
  const server = Buffer.from(match[4] ?? "", "base64");
  const expected = await scramKeys(password, salt, SCRAM_ITERATIONS);
  return (
    stored.length === expected.stored.length &&
    server.length === expected.server.length &&
    timingSafeEqual(stored, expected.stored) &&
    timingSafeEqual(server, expected.server)
  );
}

/** What a tenant app gets: discrete fields and an equivalent, properly encoded URL. */
export function tenantConnectionInfo(input: {
  host: string;
  port: number;
  resourceId: string;
  password: string;
}): TenantConnectionInfo {
  const operation = "connection_info";
  const { host, port, password } = input;
  const { role, database } = tenantNames(input.resourceId, operation);
  assertPassword(password, operation);
  const ipVersion = typeof host === "string" ? net.isIP(host) : 0;
  if (typeof host !== "string" || (ipVersion === 0 && !HOSTNAME.test(host))) throw invalid(operation, "host");
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw invalid(operation, "port");
  const hostPart = ipVersion === 6 ? `[${host}]` : host;
  const url =
    `postgresql://${encodeURIComponent(role)}:${encodeURIComponent(password)}@${hostPart}:${port}/` +
    encodeURIComponent(database);
  return { url, host, port, database, user: role, password };
}
