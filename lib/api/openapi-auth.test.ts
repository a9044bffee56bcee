// The scope and role the OpenAPI document states for each operation are what the server enforces: every operation
// is called by a viewer (read token), a member (write token of a member) and an admin (write token), and answers
// 403 exactly when the document's x-required-scope / x-required-role say the caller falls short.
import path from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import type { Endpoint } from "@/lib/api/endpoint";
import { endpoints } from "@/lib/api/endpoints";
import { buildOpenApiDocument } from "@/lib/api/openapi";
import { atLeast } from "@/lib/auth/permissions";
import { getDb } from "@/lib/db";
import type { Role } from "@/lib/generated/prisma/enums";
import { call, type Route } from "@/test/api";
import { addMember, createTestTeam, createTestToken, createTestUser } from "@/test/factories";

const SOME_ID = "3f1c2a5e-1b2c-4d3e-8f40-123456789abc";
let counter = 0;
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${counter++}`;

/** A body that passes each operation's schema, so what answers is the domain's authorization. */
const BODIES: Record<string, () => unknown> = {
  createApp: () => ({ name: unique("authz") }),
  updateApp: () => ({ name: unique("authz") }),
  putAppEnv: () => ({ env: { AUTHZ: "1" } }),
  createDeployment: () => ({}),
  rollbackApp: () => ({ deploymentId: SOME_ID }),
  scaleApp: () => ({ replicas: 1 }),
  createInvitation: () => ({ email: `${unique("authz")}@example.test`, role: "viewer" }),
  createDatabase: () => ({ name: unique("authz") }),
  createNotificationChannel: () => ({
    kind: "email",
    name: unique("authz"),
    target: "authz@example.test",
    events: ["deployment.failed"],
  }),
  updateNotificationChannel: () => ({ enabled: true }),
  updateDatabase: () => ({ appId: null }),
  createRedis: () => ({ name: unique("authz") }),
  updateRedis: () => ({ appId: null }),
  addDomain: () => ({ hostname: `${unique("authz")}.example.com` }),
  updateDomain: () => ({ redirectHttps: true }),
  putAppCron: () => ({ jobs: [{ name: "nightly", schedule: "0 3 * * *", command: "true" }] }),
  createRun: () => ({ command: "true" }),
  restoreBackup: () => ({ target: "new" }),
  importRedis: () => ({ exportId: "00000000-0000-4000-8000-000000000000", mode: "merge" }),
  setGitToken: () => ({ token: "authz-token" }),
};

/** /api/v1/apps/{appId} → app/api/v1/apps/[appId]/route.ts */
function routeFile(template: string): string {
  return path.resolve(
    "app",
    ...template
      .slice(1)
      .split("/")
      .map((segment) => segment.replace(/^\{(.+)\}$/, "[$1]")),
    "route.ts",
  );
}

type Principal = { name: string; token: string; scope: "read" | "write"; role: Role };

describe("the document's scope and role are what the server enforces", () => {
  it("answers 403 exactly where the caller's scope or role falls short of the documented one", async () => {
    const owner = await createTestUser();
    const team = await createTestTeam(owner.id);
    const memberUser = await createTestUser();
    await addMember(team.id, memberUser.id, "member");
    const memberTokenName = unique("member-token");
    const memberToken = await createTestToken(team.id, ["write"], { name: memberTokenName });
    // A token is capped by its creator's current role: this one acts as a member.
    await getDb().apiToken.updateMany({ where: { name: memberTokenName }, data: { createdBy: memberUser.id } });
    const principals: Principal[] = [
      { name: "viewer", token: await createTestToken(team.id, ["read"]), scope: "read", role: "viewer" },
      { name: "member", token: memberToken, scope: "write", role: "member" },
      { name: "admin", token: await createTestToken(team.id, ["write"]), scope: "write", role: "admin" },
    ];
    const document = buildOpenApiDocument() as {
      paths: Record<string, Record<string, { "x-required-scope"?: string; "x-required-role"?: Role }>>;
    };
    const checked: string[] = [];
    for (const endpoint of endpoints as Endpoint[]) {
      if (endpoint.auth === "public") continue;
      const operation = document.paths[endpoint.path]?.[endpoint.method.toLowerCase()];
      const scope = operation?.["x-required-scope"];
      const role = operation?.["x-required-role"];
      expect(scope && role, endpoint.id).toBeTruthy();
      const module = (await import(routeFile(endpoint.path))) as Record<string, Route>;
      const route = module[endpoint.method] as Route;
      const params = Object.fromEntries(
        [...endpoint.path.matchAll(/\{([^}]+)\}/g)].map((match) => [match[1] as string, SOME_ID]),
      );
      for (const principal of principals) {
        let body: unknown;
        if (endpoint.body) {
          const sample = BODIES[endpoint.id];
          expect(sample, `give ${endpoint.id} a sample body in BODIES`).toBeDefined();
          body = sample?.();
        } else if (endpoint.rawBody) {
          body = new Uint8Array(gzipSync(Buffer.alloc(1024)));
        }
        const response = await call(route, endpoint.path.replace(/\{[^}]+\}/g, SOME_ID), {
          method: endpoint.method,
          token: principal.token,
          body,
          params,
        });
        const shortOfScope = scope === "write" && principal.scope === "read";
        const shortOfRole = !atLeast(principal.role, role as Role);
        const label = `${endpoint.id} as ${principal.name} (documented: ${scope}, ${role})`;
        if (shortOfScope || shortOfRole) expect(response.status, label).toBe(403);
        else expect([401, 403], label).not.toContain(response.status);
      }
      checked.push(endpoint.id);
    }
    expect(checked).toContain("listInvitations");
  });
});
