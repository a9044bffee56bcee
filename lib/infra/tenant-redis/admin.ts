import { type RedisConnection, RedisReplyError, type RedisValue, redisAclPasswordHash, withRedis } from "../resp";
import { tenantRedisAclRules, verifyAcl } from "./acl";
import { TenantRedisError, type TenantRedisOperation, toTenantRedisError } from "./errors";
import { checkEndpoint } from "./names";
import type { TenantRedisAdmin, TenantRedisNames } from "./types";

// The platform's admin connection and the commands the operations share (apply rules, save, disconnect).

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

export function expectInteger(operation: TenantRedisOperation, what: string, value: RedisValue): number {
  if (typeof value !== "number")
    throw new TenantRedisError("unexpected_reply", operation, `${what} did not answer a number`);
  return value;
}

export async function userExists(connection: RedisConnection, user: string): Promise<boolean> {
  // ACL GETUSER answers nil for an unknown user and a map (array) otherwise.
  return (await connection.command(["ACL", "GETUSER", user])) !== null;
}

export async function aclSave(connection: RedisConnection, operation: TenantRedisOperation): Promise<void> {
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
export async function applyAcl(
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
export async function killClients(
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
