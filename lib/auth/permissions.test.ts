import { describe, expect, it } from "vitest";
import {
  atLeast,
  isWritePermission,
  outranks,
  PERMISSIONS,
  type Permission,
  ROLES,
  roleAllows,
} from "@/lib/auth/permissions";
import type { Role } from "@/lib/generated/prisma/enums";

const permissions = Object.keys(PERMISSIONS) as Permission[];
// Highest first, as ROLES lists them; written out here so the test does not trust the module's own order.
const HIGH_TO_LOW: Role[] = ["owner", "admin", "member", "viewer"];

function allowedRoles(permission: Permission): Role[] {
  return HIGH_TO_LOW.filter((role) => roleAllows(role, permission));
}

describe("ROLES", () => {
  it("lists every role once, highest first", () => {
    expect([...ROLES]).toEqual(HIGH_TO_LOW);
  });
});

describe("PERMISSIONS", () => {
  // This is the table docs/api.md documents. Changing who may do what must change this test and that page together.
  it("is exactly the documented table", () => {
    expect(PERMISSIONS).toEqual({
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
      "env:reveal": "member",
      "databases:read": "viewer",
      "databases:manage": "admin",
      "backups:create": "member",
      "notifications:read": "viewer",
      "notifications:toggle": "member",
      "notifications:manage": "admin",
    });
  });

  it("names only real roles", () => {
    for (const permission of permissions) expect(HIGH_TO_LOW).toContain(PERMISSIONS[permission]);
  });

  it("is monotonic: owner ⊇ admin ⊇ member ⊇ viewer", () => {
    for (const [index, lower] of HIGH_TO_LOW.entries()) {
      for (const upper of HIGH_TO_LOW.slice(0, index)) {
        for (const permission of permissions) {
          if (roleAllows(lower, permission)) expect(roleAllows(upper, permission), `${upper} ${permission}`).toBe(true);
        }
      }
    }
  });

  it("lets each permission's minimum role and everyone above it, and nobody below", () => {
    for (const permission of permissions) {
      const minimum = PERMISSIONS[permission];
      expect(allowedRoles(permission)).toEqual(HIGH_TO_LOW.slice(0, HIGH_TO_LOW.indexOf(minimum) + 1));
    }
  });

  it("gives owners everything and viewers nothing that writes", () => {
    for (const permission of permissions) {
      expect(roleAllows("owner", permission)).toBe(true);
      if (isWritePermission(permission)) expect(roleAllows("viewer", permission), permission).toBe(false);
    }
  });

  it("keeps team deletion and ownership transfer to owners alone", () => {
    expect(allowedRoles("team:delete")).toEqual(["owner"]);
    expect(allowedRoles("team:transfer")).toEqual(["owner"]);
  });

  // Not every read is open to viewers: invitations (emails of people outside the team) and API token metadata are
  // admin business. docs/api.md must say so, and a read-scoped token (a viewer) cannot list them.
  it("opens every read to viewers except invitations and tokens", () => {
    const reads = permissions.filter((permission) => permission.endsWith(":read"));
    const closedToViewers = reads.filter((permission) => !roleAllows("viewer", permission));
    expect(closedToViewers.sort()).toEqual(["invitations:read", "tokens:read"]);
    expect(roleAllows("viewer", "audit:read")).toBe(true);
  });
});

describe("isWritePermission", () => {
  it("is true for everything that is not a :read", () => {
    expect(permissions.filter(isWritePermission).sort()).toEqual(
      [
        "team:update",
        "team:delete",
        "team:transfer",
        "members:manage",
        "invitations:manage",
        "tokens:manage",
        "apps:write",
        "deployments:create",
        "env:write",
        "env:reveal",
        "databases:manage",
        "backups:create",
        "notifications:toggle",
        "notifications:manage",
      ].sort(),
    );
    for (const permission of permissions) expect(isWritePermission(permission)).toBe(!permission.endsWith(":read"));
  });
});

describe("outranks and atLeast", () => {
  it("order the roles strictly and reflexively", () => {
    for (const [i, role] of HIGH_TO_LOW.entries()) {
      for (const [j, other] of HIGH_TO_LOW.entries()) {
        expect(outranks(role, other), `${role} outranks ${other}`).toBe(i < j);
        expect(atLeast(role, other), `${role} at least ${other}`).toBe(i <= j);
      }
    }
  });
});
