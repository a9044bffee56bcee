// Who may do what, defined once. Viewers read; members also deploy and edit apps and env vars; admins also manage
// members, invitations, API tokens and databases; owners also delete the team and transfer ownership.
import type { Role } from "@/lib/generated/prisma/enums";

export const ROLES = ["owner", "admin", "member", "viewer"] as const satisfies readonly Role[];

const RANK: Record<Role, number> = { viewer: 0, member: 1, admin: 2, owner: 3 };

export const PERMISSIONS = {
  "team:read": "viewer",
  "team:update": "admin",
  "team:delete": "owner",
  "team:transfer": "owner",
  "members:read": "viewer",
  "members:manage": "admin",
  "invitations:read": "admin",
  "invitations:manage": "admin",
  "tokens:read": "admin",
  "tokens:manage": "admin",
  "audit:read": "viewer",
  "apps:read": "viewer",
  "apps:write": "member",
  "deployments:create": "member",
  "env:read": "viewer",
  "env:write": "member",
  // Reading a secret env value in clear (audited): members can deploy code that reads it anyway.
  "env:reveal": "member",
  "databases:read": "viewer",
  "databases:manage": "admin",
  // Taking a backup or a Redis export copies data and changes nothing: members may (#16).
  "backups:create": "member",
  // Notification channels (#17): members switch events on and off; admins create, retarget, test and delete.
  "notifications:read": "viewer",
  "notifications:toggle": "member",
  "notifications:manage": "admin",
} as const satisfies Record<string, Role>;

export type Permission = keyof typeof PERMISSIONS;

/** Permissions that change something: an API token needs the `write` scope for them. */
export function isWritePermission(permission: Permission): boolean {
  return !permission.endsWith(":read");
}

export function roleAllows(role: Role, permission: Permission): boolean {
  return RANK[role] >= RANK[PERMISSIONS[permission]];
}

export function outranks(role: Role, other: Role): boolean {
  return RANK[role] > RANK[other];
}

export function atLeast(role: Role, minimum: Role): boolean {
  return RANK[role] >= RANK[minimum];
}

/** The lesser of two roles: what a token may do is capped by both its scope and its creator's role. */
export function lowerRole(role: Role, other: Role): Role {
  return RANK[role] <= RANK[other] ? role : other;
}
