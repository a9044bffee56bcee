import { isIP } from "node:net";
import { InfraError } from "./errors";
import {
  type RedisArg,
  type RedisConnection,
  RedisConnectionError,
  RedisReplyError,
  type RedisValue,
  redisAclPasswordHash,
  withRedis,
} from "./resp";

// Tenant Redis on a shared server: one ACL user per resource, confined to its own key and channel prefix
// (docs/security.md, "Tenant Redis"; docs/operations.md). Key patterns alone do not isolate tenants: SCAN, KEYS,
// RANDOMKEY, DBSIZE and FLUSHALL work on the whole keyspace whatever the user's patterns, so those commands are
// denied explicitly, on top of the admin, dangerous and scripting categories.

// ---------------------------------------------------------------------------------------------------------------
// Configuration and errors

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

export type TenantRedisErrorKind =
  | "invalid_argument"
  | "not_found"
  | "unavailable"
  | "misconfigured"
  | "unexpected_reply"
  | "command_failed";

export type TenantRedisOperation =
  | "names"
  | "provision"
  | "rotate"
  | "deprovision"
  | "inspect"
  | "connection_info"
  | "quota";

const USER_MESSAGES: Record<TenantRedisErrorKind, string> = {
  invalid_argument: "The request contained an invalid value.",
  not_found: "The Redis database does not exist.",
  unavailable: "The Redis service is temporarily unavailable. Try again later.",
  misconfigured: "The Redis service is not configured correctly on the server.",
  unexpected_reply: "The Redis service gave an unexpected answer.",
  command_failed: "The Redis service reported an error.",
};

// Messages carry the operation, a short reason and at most the server's error code: never a password, a password
// hash or the server's error text, which can echo command arguments.
// `userMessage` is safe to show to a tenant; `message` is for logs (see toUserMessage in ./exec).
export class TenantRedisError extends InfraError<TenantRedisErrorKind> {
  readonly operation: TenantRedisOperation;
  // The Redis error code (NOPERM, WRONGPASS, LOADING ...) when the server answered with an error.
  readonly code: string | null;

  constructor(
    kind: TenantRedisErrorKind,
    operation: TenantRedisOperation,
    message: string,
    options: { cause?: unknown; retryable?: boolean; code?: string } = {},
  ) {
    super(kind, `tenant redis ${operation}: ${message}`, {
      cause: options.cause,
      retryable: options.retryable ?? false,
      userMessage: USER_MESSAGES[kind],
    });
    this.name = "TenantRedisError";
    this.operation = operation;
    this.code = options.code ?? null;
  }

  override toLog(): Record<string, unknown> {
    return {
      kind: this.kind,
      operation: this.operation,
      retryable: this.retryable,
      code: this.code,
      message: this.message,
    };
  }
}

function invalid(operation: TenantRedisOperation, what: string): TenantRedisError {
  // The offending value stays out of the message: it may be a secret or hostile.
  return new TenantRedisError("invalid_argument", operation, `invalid ${what}`);
}

// Answers that a later attempt can get past: the server is loading its data set, busy, or failing over.
const TRANSIENT_CODES = new Set(["LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "CLUSTERDOWN", "READONLY"]);
// The admin's credentials or rights are wrong: a host setup problem, not the tenant's.
const ADMIN_REFUSED_CODES = new Set(["WRONGPASS", "NOPERM", "NOAUTH"]);

function toTenantRedisError(operation: TenantRedisOperation, err: unknown): TenantRedisError {
  if (err instanceof TenantRedisError) return err;
  if (err instanceof RedisConnectionError) {
    // The connection error's message names the endpoint only; its cause keeps the socket detail for the logs.
    const kind = err.kind === "protocol" ? "unexpected_reply" : "unavailable";
    return new TenantRedisError(kind, operation, err.message, { cause: err, retryable: err.retryable });
  }
  if (err instanceof RedisReplyError) {
    // The reply error stays off `cause`: its text can quote arguments, such as a password hash.
    const code = err.code;
    if (TRANSIENT_CODES.has(code)) {
      return new TenantRedisError("unavailable", operation, `server answered ${code}`, { code, retryable: true });
    }
    if (ADMIN_REFUSED_CODES.has(code)) {
      return new TenantRedisError("misconfigured", operation, `admin user refused (${code})`, { code });
    }
    return new TenantRedisError("command_failed", operation, `server answered ${code}`, { code });
  }
  return new TenantRedisError("command_failed", operation, "unexpected failure", { cause: err });
}

// ---------------------------------------------------------------------------------------------------------------
// Names and validation

// UUID v4 in canonical lowercase form, as the database hands them out; names derived from it are deterministic.
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
// Passwords are generated by the platform; the lower bound keeps an unsalted SHA-256 of them infeasible to reverse.
const MIN_PASSWORD_LENGTH = 16;
const MAX_PASSWORD_LENGTH = 512;
const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export function tenantRedisNames(resourceId: string): TenantRedisNames {
  if (!UUID_V4.test(resourceId)) throw invalid("names", "resource ID");
  const name = `t_${resourceId.replaceAll("-", "")}`;
  return { user: name, keyPrefix: name, keyPattern: `${name}:*`, channelPattern: `${name}:*` };
}

function namesFor(operation: TenantRedisOperation, resourceId: string): TenantRedisNames {
  try {
    return tenantRedisNames(resourceId);
  } catch {
    throw invalid(operation, "resource ID");
  }
}

function checkPassword(operation: TenantRedisOperation, password: string): void {
  const ok =
    typeof password === "string" &&
    password.length >= MIN_PASSWORD_LENGTH &&
    password.length <= MAX_PASSWORD_LENGTH &&
    !/\p{Cc}/u.test(password);
  if (!ok) throw invalid(operation, "password");
}

function checkEndpoint(operation: TenantRedisOperation, host: string, port: number): void {
  if (typeof host !== "string" || (isIP(host) === 0 && (host.length > 253 || !HOSTNAME.test(host)))) {
    throw invalid(operation, "host");
  }
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw invalid(operation, "port");
}

// ---------------------------------------------------------------------------------------------------------------
// ACL rules

// Commands denied by name on top of the categories. Several are already in @dangerous in Redis 7.0 (which then
// drops them from ACL GETUSER's compacted description); they are listed anyway so that the rule holds whatever a
// later Redis puts in which category. Beyond the first list: PUBSUB (CHANNELS/NUMSUB list other tenants' channels)
// and MEMORY except USAGE (MEMORY STATS reports the key count of the whole server, like DBSIZE).
const DENIED_COMMANDS = [
  "select",
  "scan",
  "keys",
  "randomkey",
  "dbsize",
  "swapdb",
  "move",
  "flushall",
  "flushdb",
  "client",
  "pubsub",
  "memory",
] as const;

// The command part of a tenant's rules. Starting from +@all, it sets every command bit whatever came before, so
// applying it alone (tenant-redis-quota.ts does, without touching passwords, keys or channels) restores exactly the
// normal command rights.
export function tenantRedisCommandRules(): string[] {
  return [
    "+@all",
    "-@admin",
    "-@dangerous",
    "-@scripting",
    ...DENIED_COMMANDS.map((command) => `-${command}`),
    "+memory|usage",
  ];
}

export function tenantRedisAclRules(names: TenantRedisNames, passwordHash: string): string[] {
  return [
    // reset: off, no passwords, no keys, no channels, no commands; so re-running it converges to exactly this.
    "reset",
    "on",
    `#${passwordHash}`,
    `~${names.keyPattern}`,
    "resetchannels",
    `&${names.channelPattern}`,
    ...tenantRedisCommandRules(),
  ];
}

// What the user must not be able to do, checked with ACL DRYRUN after every SETUSER: the final rights come from the
// server's reading of the rules, which has changed between Redis versions, so they are tested, not assumed.
function deniedProbes(names: TenantRedisNames): RedisArg[][] {
  const other = "t_00000000000000000000000000000000";
  return [
    ["keys", "*"],
    ["scan", "0"],
    ["randomkey"],
    ["dbsize"],
    ["flushall"],
    ["flushdb"],
    ["swapdb", "0", "1"],
    ["move", `${names.keyPrefix}:k`, "1"],
    ["select", "1"],
    ["client", "list"],
    ["client", "kill", "user", other],
    ["config", "get", "*"],
    ["eval", "return 1", "0"],
    ["function", "list"],
    ["debug", "object", `${names.keyPrefix}:k`],
    ["shutdown"],
    ["acl", "list"],
    ["acl", "setuser", names.user],
    ["info"],
    ["monitor"],
    ["slowlog", "get"],
    ["pubsub", "channels"],
    ["memory", "stats"],
    ["get", `${other}:k`],
    ["get", "k"],
    ["publish", `${other}:c`, "m"],
    ["subscribe", `${other}:c`],
  ];
}

function allowedProbes(names: TenantRedisNames): RedisArg[][] {
  return [
    ["get", `${names.keyPrefix}:k`],
    ["set", `${names.keyPrefix}:k`, "v"],
    ["publish", `${names.keyPrefix}:c`, "m"],
    ["subscribe", `${names.keyPrefix}:c`],
    ["memory", "usage", `${names.keyPrefix}:k`],
  ];
}

async function verifyAcl(connection: RedisConnection, names: TenantRedisNames): Promise<string | null> {
  for (const probe of deniedProbes(names)) {
    const answer = await connection.command(["ACL", "DRYRUN", names.user, ...probe]);
    if (answer === "OK") return `${String(probe[0])} is allowed`;
  }
  for (const probe of allowedProbes(names)) {
    const answer = await connection.command(["ACL", "DRYRUN", names.user, ...probe]);
    if (answer !== "OK") return `${String(probe[0])} is denied`;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// Operations

// One admin connection for `fn`, its failures mapped to TenantRedisError (also used by ./tenant-redis-quota).
export function withAdmin<T>(
  admin: TenantRedisAdmin,
  operation: TenantRedisOperation,
  fn: (connection: RedisConnection) => Promise<T>,
): Promise<T> {
  checkEndpoint(operation, admin.host, admin.port);
  const options = {
    host: admin.host,
    port: admin.port,
    user: admin.user,
    password: admin.password,
    connectTimeoutMs: admin.connectTimeoutMs,
    commandTimeoutMs: admin.commandTimeoutMs,
  };
  return withRedis(options, fn).catch((err: unknown) => {
    throw toTenantRedisError(operation, err);
  });
}

function expectOk(operation: TenantRedisOperation, what: string, value: RedisValue): void {
  if (value !== "OK") throw new TenantRedisError("unexpected_reply", operation, `${what} did not answer OK`);
}

function expectInteger(operation: TenantRedisOperation, what: string, value: RedisValue): number {
  if (typeof value !== "number")
    throw new TenantRedisError("unexpected_reply", operation, `${what} did not answer a number`);
  return value;
}

async function userExists(connection: RedisConnection, user: string): Promise<boolean> {
  // ACL GETUSER answers nil for an unknown user and a map (array) otherwise.
  return (await connection.command(["ACL", "GETUSER", user])) !== null;
}

async function aclSave(connection: RedisConnection, operation: TenantRedisOperation): Promise<void> {
  try {
    expectOk(operation, "ACL SAVE", await connection.command(["ACL", "SAVE"]));
  } catch (err) {
    // Without an aclfile the users would vanish on the next restart: refuse rather than pretend. Other failures
    // (the file could not be written) stay retryable command failures.
    if (err instanceof RedisReplyError && /not configured to use an ACL file/i.test(err.message)) {
      throw new TenantRedisError(
        "misconfigured",
        operation,
        "the server has no aclfile, users would not survive a restart",
        {
          code: err.code,
        },
      );
    }
    throw err;
  }
}

// Sets the user's complete rule set (idempotent thanks to `reset`), then checks the result and fails closed: a user
// whose rights are not exactly what they should be is deleted rather than left usable.
async function applyAcl(
  connection: RedisConnection,
  operation: TenantRedisOperation,
  names: TenantRedisNames,
  password: string,
): Promise<void> {
  const rules = tenantRedisAclRules(names, redisAclPasswordHash(password));
  expectOk(operation, "ACL SETUSER", await connection.command(["ACL", "SETUSER", names.user, ...rules]));
  const problem = await verifyAcl(connection, names);
  if (problem !== null) {
    await connection.command(["ACL", "DELUSER", names.user]);
    await aclSave(connection, operation);
    throw new TenantRedisError("misconfigured", operation, `ACL verification failed (${problem}); user removed`);
  }
}

// CLIENT KILL USER answers an error for an unknown user; for our purposes that means nobody to disconnect.
async function killClients(
  connection: RedisConnection,
  operation: TenantRedisOperation,
  user: string,
): Promise<number> {
  try {
    return expectInteger(operation, "CLIENT KILL", await connection.command(["CLIENT", "KILL", "USER", user]));
  } catch (err) {
    if (err instanceof RedisReplyError && /no such user/i.test(err.message)) return 0;
    throw err;
  }
}

export type ProvisionTenantRedisInput = { resourceId: string; password: string };

// Creates the user, or re-applies its rules if it exists. Existing connections are left alone, so running it again
// with the same password is a no-op; a different password takes effect for new connections only (use rotate).
export async function provisionTenantRedis(
  admin: TenantRedisAdmin,
  input: ProvisionTenantRedisInput,
): Promise<TenantRedisNames> {
  const names = namesFor("provision", input.resourceId);
  checkPassword("provision", input.password);
  await withAdmin(admin, "provision", async (connection) => {
    await applyAcl(connection, "provision", names, input.password);
    await aclSave(connection, "provision");
  });
  return names;
}

// Replaces the password and disconnects every connection of the user, so nothing authenticated with the old one
// survives. The new password is in place before the kill, so a reconnect with the old one fails.
export async function rotateTenantRedisPassword(
  admin: TenantRedisAdmin,
  input: ProvisionTenantRedisInput,
): Promise<{ killedConnections: number }> {
  const names = namesFor("rotate", input.resourceId);
  checkPassword("rotate", input.password);
  return withAdmin(admin, "rotate", async (connection) => {
    // SETUSER would create a missing user: rotating a deprovisioned resource must not bring it back.
    if (!(await userExists(connection, names.user))) {
      throw new TenantRedisError("not_found", "rotate", "user does not exist");
    }
    await applyAcl(connection, "rotate", names, input.password);
    const killedConnections = await killClients(connection, "rotate", names.user);
    await aclSave(connection, "rotate");
    return { killedConnections };
  });
}

const SCAN_BATCH = 1_000;

// Removes the user first (DELUSER also drops its connections), so nothing can write new keys while the old ones
// are deleted. Every step tolerates an earlier partial run, so a failed deprovision is simply retried.
export async function deprovisionTenantRedis(
  admin: TenantRedisAdmin,
  input: { resourceId: string },
): Promise<{ userDeleted: boolean; keysDeleted: number }> {
  const names = namesFor("deprovision", input.resourceId);
  return withAdmin(admin, "deprovision", async (connection) => {
    await killClients(connection, "deprovision", names.user);
    const deleted = expectInteger(
      "deprovision",
      "ACL DELUSER",
      await connection.command(["ACL", "DELUSER", names.user]),
    );
    await aclSave(connection, "deprovision");
    const keysDeleted = await deleteKeys(connection, names.keyPattern);
    return { userDeleted: deleted > 0, keysDeleted };
  });
}

async function deleteKeys(connection: RedisConnection, pattern: string): Promise<number> {
  let cursor = "0";
  let deleted = 0;
  do {
    const reply = await connection.command(["SCAN", cursor, "MATCH", pattern, "COUNT", SCAN_BATCH]);
    if (!Array.isArray(reply) || typeof reply[0] !== "string" || !Array.isArray(reply[1])) {
      throw new TenantRedisError("unexpected_reply", "deprovision", "SCAN answered an unexpected shape");
    }
    const keys = reply[1].filter((key): key is string => typeof key === "string");
    if (keys.length > 0) {
      // UNLINK frees the memory in a background thread, so large values do not stall the shared server.
      deleted += expectInteger("deprovision", "UNLINK", await connection.command(["UNLINK", ...keys]));
    }
    cursor = reply[0];
  } while (cursor !== "0");
  return deleted;
}

export async function inspectTenantRedis(
  admin: TenantRedisAdmin,
  resourceId: string,
): Promise<{ userExists: boolean }> {
  const names = namesFor("inspect", resourceId);
  return withAdmin(admin, "inspect", async (connection) => ({ userExists: await userExists(connection, names.user) }));
}

// What the tenant's app receives. The URL names no database: SELECT is denied, and clients that see `/0` send it.
export function tenantRedisConnectionInfo(input: {
  host: string;
  port: number;
  resourceId: string;
  password: string;
}): TenantRedisConnectionInfo {
  const names = namesFor("connection_info", input.resourceId);
  checkPassword("connection_info", input.password);
  checkEndpoint("connection_info", input.host, input.port);
  const host = isIP(input.host) === 6 ? `[${input.host}]` : input.host;
  const credentials = `${encodeURIComponent(names.user)}:${encodeURIComponent(input.password)}`;
  return {
    url: `redis://${credentials}@${host}:${input.port}`,
    host: input.host,
    port: input.port,
    user: names.user,
    password: input.password,
    keyPrefix: names.keyPrefix,
  };
}

const TENANT_USER = /^t_([0-9a-f]{32})$/;

/**
 * The resource IDs behind every tenant ACL user on the server (named `t_<hex>` by tenantRedisNames), for the orphan
 * sweep. Users whose names do not decode to a v4 UUID are not ours and are left out.
 */
export async function listTenantRedisResourceIds(admin: TenantRedisAdmin): Promise<string[]> {
  return withAdmin(admin, "inspect", async (connection) => {
    const reply = await connection.command(["ACL", "USERS"]);
    if (!Array.isArray(reply))
      throw new TenantRedisError("unexpected_reply", "inspect", "ACL USERS did not answer a list");
    const ids: string[] = [];
    for (const user of reply) {
      const hex = typeof user === "string" ? TENANT_USER.exec(user)?.[1] : undefined;
      if (!hex) continue;
      const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
      if (UUID_V4.test(id)) ids.push(id);
    }
    return ids.sort();
  });
}
