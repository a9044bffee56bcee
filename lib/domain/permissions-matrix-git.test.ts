// The permissions matrix (lib/domain/permissions-matrix.test.ts) for deploy on push and private repositories: every
// role and both token scopes against the webhook, its deliveries, redeploy, the deploy key, the pinned host keys and
// the read token. Who may, who gets "forbidden" with nothing changed, the audit an allowed write leaves; then another
// team's IDs read as absent. Receiving a delivery is not here: it is authenticated by the webhook's signature, not a
// role (lib/api/webhooks.test.ts).
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { PERMISSIONS, type Permission } from "@/lib/auth/permissions";
import { getDb } from "@/lib/db";
import { authenticateApiToken, createApiToken } from "@/lib/domain/api-tokens";
import { type Ctx, type RequestMeta, type Scope, userContext } from "@/lib/domain/context";
import { createOrRotateDeployKey, deleteDeployKey, getDeployKey } from "@/lib/domain/deploy-keys";
import { createDeployment, redeployDeployment } from "@/lib/domain/deployments";
import { confirmGitHostKey, deleteGitHostKey, listGitHostKeys } from "@/lib/domain/git-host-keys";
import { deleteGitToken, getGitToken, setGitToken } from "@/lib/domain/git-tokens";
import { createTeam } from "@/lib/domain/teams";
import { createOrRotateWebhook, deleteWebhook, getWebhook } from "@/lib/domain/webhooks";
import { AppError } from "@/lib/errors";
import type { Role } from "@/lib/generated/prisma/enums";
import { expectAppError, rejectionOf } from "@/test/errors";
import { pendingJobs } from "@/test/helpers";

function meta(): RequestMeta {
  return { requestId: randomUUID(), ip: "203.0.113.7", userAgent: "permissions-matrix-git-test" };
}

async function newUser(label: string) {
  return await getDb().user.create({ data: { email: `${label}-${randomUUID().slice(0, 12)}@example.test` } });
}

type World = { teamId: string; ownerId: string; appId: string; deploymentId: string; hostKeyId: string };

/** A team with a git app that has every piece: webhook, deploy key, an unconfirmed host key, a token, a failed build. */
async function seedTeam(): Promise<World> {
  const db = getDb();
  const owner = await newUser("owner");
  const team = await createTeam(db, { userId: owner.id, name: `Team ${randomUUID().slice(0, 8)}`, meta: meta() });
  const ctx = await userContext(db, owner.id, team.id, meta());
  const app = await db.app.create({
    data: {
      teamId: team.id,
      name: "web",
      sourceType: "git",
      gitUrl: "https://github.com/acme/shop.git",
      gitRef: "main",
      autoDeploy: true,
    },
  });
  await createOrRotateWebhook(db, ctx, app.id);
  await createOrRotateDeployKey(db, ctx, app.id);
  await setGitToken(db, ctx, app.id, { token: "glpat-seeded" });
  const hostKey = await db.gitHostKey.create({
    data: {
      appId: app.id,
      host: "git.example.net",
      port: 22,
      keyType: "ssh-ed25519",
      publicKey: "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
      fingerprint: "SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU",
      source: "first_use",
    },
  });
  const { deployment } = await createDeployment(db, ctx, app.id, { type: "git" });
  await db.deployment.update({
    where: { id: deployment.id },
    data: { status: "failed", finishedAt: new Date(), commitSha: "a".repeat(40) },
  });
  return { teamId: team.id, ownerId: owner.id, appId: app.id, deploymentId: deployment.id, hostKeyId: hostKey.id };
}

async function ownerCtx(world: World): Promise<Ctx> {
  return await userContext(getDb(), world.ownerId, world.teamId, meta());
}

async function roleCtx(world: World, role: Role): Promise<Ctx> {
  if (role === "owner") return await ownerCtx(world);
  const user = await newUser(role);
  await getDb().membership.create({ data: { teamId: world.teamId, userId: user.id, role } });
  return await userContext(getDb(), user.id, world.teamId, meta());
}

async function tokenCtx(world: World, scopes: Scope[]): Promise<Ctx> {
  const { token } = await createApiToken(getDb(), await ownerCtx(world), { name: scopes.join("+"), scopes });
  return await authenticateApiToken(getDb(), token, meta());
}

/** Everything these calls could change, so a refusal can be shown to have changed nothing. */
async function snapshot(teamId: string) {
  const db = getDb();
  const byId = { orderBy: { id: "asc" as const } };
  const apps = { app: { teamId } };
  return {
    webhooks: await db.webhook.findMany({ where: { teamId }, ...byId }),
    deliveries: await db.webhookDelivery.findMany({ where: { teamId }, ...byId }),
    deployKeys: await db.deployKey.findMany({ where: apps, ...byId }),
    hostKeys: await db.gitHostKey.findMany({ where: apps, ...byId }),
    gitTokens: await db.gitHttpsToken.findMany({ where: apps, ...byId }),
    deployments: await db.deployment.findMany({ where: { teamId }, ...byId }),
    audit: await db.auditEvent.findMany({ where: { teamId }, ...byId }),
    operations: await db.operation.findMany({ where: { teamId }, ...byId }),
    jobs: await pendingJobs(),
  };
}

type Action = {
  name: string;
  permission: Permission;
  /** The audit action an allowed call writes; null for reads. */
  audit: string | null;
  run: (ctx: Ctx, world: World) => Promise<unknown>;
};

const db = () => getDb();

const ACTIONS: Action[] = [
  {
    name: "createOrRotateWebhook",
    permission: "apps:write",
    audit: "webhook.rotated",
    run: (ctx, w) => createOrRotateWebhook(db(), ctx, w.appId),
  },
  {
    name: "getWebhook (with its deliveries)",
    permission: "apps:read",
    audit: null,
    run: (ctx, w) => getWebhook(db(), ctx, w.appId),
  },
  {
    name: "deleteWebhook",
    permission: "apps:write",
    audit: "webhook.deleted",
    run: (ctx, w) => deleteWebhook(db(), ctx, w.appId),
  },
  {
    name: "redeployDeployment",
    permission: "deployments:create",
    audit: "deployment.redeployed",
    run: (ctx, w) => redeployDeployment(db(), ctx, w.deploymentId),
  },
  {
    name: "createOrRotateDeployKey",
    permission: "apps:write",
    audit: "deploy_key.rotated",
    run: (ctx, w) => createOrRotateDeployKey(db(), ctx, w.appId),
  },
  { name: "getDeployKey", permission: "apps:read", audit: null, run: (ctx, w) => getDeployKey(db(), ctx, w.appId) },
  {
    name: "deleteDeployKey",
    permission: "apps:write",
    audit: "deploy_key.deleted",
    run: (ctx, w) => deleteDeployKey(db(), ctx, w.appId),
  },
  {
    name: "listGitHostKeys",
    permission: "apps:read",
    audit: null,
    run: (ctx, w) => listGitHostKeys(db(), ctx, w.appId),
  },
  {
    name: "confirmGitHostKey",
    permission: "apps:write",
    audit: "git_host_key.confirmed",
    run: (ctx, w) => confirmGitHostKey(db(), ctx, w.hostKeyId),
  },
  {
    name: "deleteGitHostKey",
    permission: "apps:write",
    audit: "git_host_key.deleted",
    run: (ctx, w) => deleteGitHostKey(db(), ctx, w.hostKeyId),
  },
  {
    name: "setGitToken",
    permission: "apps:write",
    audit: "git_token.set",
    run: (ctx, w) => setGitToken(db(), ctx, w.appId, { token: "glpat-new" }),
  },
  { name: "getGitToken", permission: "apps:read", audit: null, run: (ctx, w) => getGitToken(db(), ctx, w.appId) },
  {
    name: "deleteGitToken",
    permission: "apps:write",
    audit: "git_token.deleted",
    run: (ctx, w) => deleteGitToken(db(), ctx, w.appId),
  },
];

// As in permissions-matrix.test.ts: the expectation comes from the PERMISSIONS table and a rank written out here.
const RANK: Record<Role, number> = { viewer: 0, member: 1, admin: 2, owner: 3 };
const ROLE_LIST: Role[] = ["owner", "admin", "member", "viewer"];

function expectedForRole(role: Role, permission: Permission): boolean {
  return RANK[role] >= RANK[PERMISSIONS[permission]];
}

function expectedForToken(scopes: Scope[], permission: Permission): boolean {
  const writes = !permission.endsWith(":read");
  if (writes && !scopes.includes("write")) return false;
  return expectedForRole(scopes.includes("write") ? "admin" : "viewer", permission);
}

async function check(world: World, ctx: Ctx, action: Action, allowed: boolean): Promise<void> {
  const before = await snapshot(world.teamId);
  if (!allowed) {
    await expectAppError(action.run(ctx, world), "forbidden");
    expect(await snapshot(world.teamId)).toEqual(before);
    return;
  }
  await action.run(ctx, world);
  const after = await snapshot(world.teamId);
  if (action.audit === null) {
    expect(after).toEqual(before);
    return;
  }
  const known = new Set(before.audit.map((row) => row.id));
  const added = after.audit.filter((row) => !known.has(row.id));
  expect(added.map((row) => row.action)).toEqual([action.audit]);
  expect(added[0]?.requestId).toBe(ctx.meta.requestId);
  expect(added[0]?.actorType).toBe(ctx.actor.type);
}

describe.each(ROLE_LIST)("a signed-in %s", (role) => {
  it.each(ACTIONS.map((action) => [action.name, action] as const))("%s", async (_name, action) => {
    const world = await seedTeam();
    await check(world, await roleCtx(world, role), action, expectedForRole(role, action.permission));
  });
});

describe.each([[["read"] as Scope[]], [["read", "write"] as Scope[]]])("an API token with scopes %j", (scopes) => {
  it.each(ACTIONS.map((action) => [action.name, action] as const))("%s", async (_name, action) => {
    const world = await seedTeam();
    await check(world, await tokenCtx(world, scopes), action, expectedForToken(scopes, action.permission));
  });
});

describe("another team's IDs", () => {
  it("answer not_found for every git function and change nothing in either team", async () => {
    const a = await seedTeam();
    const b = await seedTeam();
    const beforeA = await snapshot(a.teamId);
    const beforeB = await snapshot(b.teamId);
    for (const ctx of [await ownerCtx(a), await tokenCtx(a, ["read", "write"])]) {
      // The token made for the second context is an audited write of team A's: compare A from here on.
      const startA = await snapshot(a.teamId);
      for (const action of ACTIONS) {
        const error = await rejectionOf(action.run(ctx, b));
        expect(error, action.name).toBeInstanceOf(AppError);
        expect(error instanceof AppError ? error.code : null, action.name).toBe("not_found");
      }
      expect(await snapshot(a.teamId)).toEqual(startA);
    }
    expect(await snapshot(b.teamId)).toEqual(beforeB);
    expect(beforeA.webhooks).toHaveLength(1);
  });
});
