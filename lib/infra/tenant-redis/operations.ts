import type { RedisConnection } from "../resp";
import { aclSave, applyAcl, expectInteger, killClients, userExists, withAdmin } from "./admin";
import { TenantRedisError } from "./errors";
import { checkPassword, namesFor, UUID_V4 } from "./names";
import type { TenantRedisAdmin, TenantRedisNames } from "./types";

// What jobs call: provision, rotate, deprovision, inspect, list, and the connection details a tenant gets.

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
