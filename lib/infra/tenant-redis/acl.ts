import type { RedisArg, RedisConnection } from "../resp";
import type { TenantRedisNames } from "./types";

// The tenant user's ACL rules, and the probes (ACL DRYRUN) that prove the result before anyone uses it.

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

export async function verifyAcl(connection: RedisConnection, names: TenantRedisNames): Promise<string | null> {
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
