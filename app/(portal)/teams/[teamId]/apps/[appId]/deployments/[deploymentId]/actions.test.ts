// The deployment page's server actions: polling (status, phases, plan and the next log chunk) is open to every
// member, viewers included, and to nobody outside the team; cancelling is refused to viewers with nothing changed.
import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { deploymentLogPath } from "@/lib/data-paths";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import { createDeployment } from "@/lib/domain/deployments";
import type { PublicUser } from "@/lib/domain/users";
import { getEnv } from "@/lib/env";
import type { Role } from "@/lib/generated/prisma/enums";
import { form, redirectTarget } from "@/test/actions";
import { addMember, createTestTeam, createTestUser, userCtx } from "@/test/factories";

const session = vi.hoisted(() => ({ user: null as PublicUser | null }));

vi.mock("@/lib/auth/session", () => ({
  currentUser: async () => session.user,
  currentRequestMeta: async () => ({ requestId: randomUUID(), ip: "203.0.113.9", userAgent: "vitest" }),
}));
// refresh() needs a live Next request; there is no page to refresh in a test.
vi.mock("next/cache", () => ({ refresh: () => {}, revalidatePath: () => {} }));

const { cancelDeploymentAction, pollDeployment, redeployDeploymentAction } = await import(
  "@/app/(portal)/teams/[teamId]/apps/[appId]/deployments/[deploymentId]/actions"
);

const PLAN = {
  builder: "python",
  installer: "none",
  pythonVersion: "3.12",
  processes: { web: "python3 server.py" },
  release: null,
  reasons: ["Procfile: web process"],
};

async function deploymentWith(role: Role) {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  const user = await createTestUser();
  await addMember(team.id, user.id, role);
  const ownerCtx = await userCtx(owner.id, team.id);
  const app = await createApp(getDb(), ownerCtx, { name: "web", source: { url: "https://github.com/acme/web.git" } });
  const { deployment } = await createDeployment(getDb(), ownerCtx, app.id, { type: "git" });
  return { team, user, app, deployment };
}

async function writeLog(deploymentId: string, text: string) {
  const file = deploymentLogPath(getEnv().dataDir, deploymentId);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, text);
}

beforeEach(() => {
  session.user = null;
});

describe("pollDeployment", () => {
  it("gives a viewer the status and the log from the offset, line by line", async () => {
    const { team, user, deployment } = await deploymentWith("viewer");
    session.user = user;
    await getDb().deployment.update({ where: { id: deployment.id }, data: { status: "building", plan: PLAN } });
    await writeLog(deployment.id, "==> Unpacking\n==> Build plan\nhalf a li");

    const first = await pollDeployment(team.id, deployment.id, 0);
    expect(first.status).toBe("success");
    expect(first.data?.deployment).toMatchObject({ id: deployment.id, status: "building", plan: PLAN });
    expect(first.data?.deployment.phases.map((phase) => phase.name)).toContain("building");
    expect(first.data?.log).toEqual({ text: "==> Unpacking\n==> Build plan\n", nextOffset: 29, complete: false });

    // Built is not the end: the release appends to the same log.
    await writeLog(deployment.id, "==> Unpacking\n==> Build plan\nhalf a line\n==> Built web:1\n");
    await getDb().deployment.update({ where: { id: deployment.id }, data: { status: "built" } });
    const second = await pollDeployment(team.id, deployment.id, 29);
    expect(second.data?.deployment.status).toBe("built");
    expect(second.data?.log).toEqual({ text: "half a line\n==> Built web:1\n", nextOffset: 57, complete: false });

    await writeLog(deployment.id, "==> Unpacking\n==> Build plan\nhalf a line\n==> Built web:1\n==> Released\n");
    await getDb().deployment.update({ where: { id: deployment.id }, data: { status: "running" } });
    const third = await pollDeployment(team.id, deployment.id, 57);
    expect(third.data?.deployment.status).toBe("running");
    expect(third.data?.log).toEqual({ text: "==> Released\n", nextOffset: 70, complete: true });
  });

  it("reads a malformed stored plan as no plan", async () => {
    const { team, user, deployment } = await deploymentWith("member");
    session.user = user;
    await getDb().deployment.update({ where: { id: deployment.id }, data: { plan: { builder: 42 } } });
    const state = await pollDeployment(team.id, deployment.id, 0);
    expect(state.data?.deployment.plan).toBeNull();
  });

  it("answers not found outside the team, for another team's deployment and for bad input", async () => {
    const { team, deployment } = await deploymentWith("viewer");
    const other = await deploymentWith("member");
    session.user = await createTestUser();
    expect(await pollDeployment(team.id, deployment.id, 0)).toEqual({ status: "error", message: "Team not found." });

    session.user = other.user;
    expect(await pollDeployment(other.team.id, deployment.id, 0)).toEqual({
      status: "error",
      message: "Deployment not found.",
    });
    expect((await pollDeployment(other.team.id, other.deployment.id, -1)).status).toBe("error");
    expect((await pollDeployment(other.team.id, "not-a-uuid", 0)).status).toBe("error");
  });
});

describe("cancelDeploymentAction", () => {
  it("refuses a viewer and leaves the deployment running", async () => {
    const { team, user, deployment } = await deploymentWith("viewer");
    session.user = user;
    const state = await cancelDeploymentAction(
      { status: "idle" },
      form({ teamId: team.id, deploymentId: deployment.id }),
    );
    expect(state).toEqual({ status: "error", message: "Your role in this team does not allow this." });
    const row = await getDb().deployment.findUniqueOrThrow({ where: { id: deployment.id } });
    expect(row.cancelRequestedAt).toBeNull();
  });

  it("asks the build to stop for a member, and says why a finished one cannot be", async () => {
    const { team, user, deployment } = await deploymentWith("member");
    session.user = user;
    const fields = { teamId: team.id, deploymentId: deployment.id };
    const state = await cancelDeploymentAction({ status: "idle" }, form(fields));
    expect(state.status).toBe("success");
    const row = await getDb().deployment.findUniqueOrThrow({ where: { id: deployment.id } });
    expect(row.cancelRequestedAt).not.toBeNull();

    // Once its release has started it is too late, and the action says so (#18: a built one can still be cancelled).
    await getDb().deployment.update({ where: { id: deployment.id }, data: { status: "releasing" } });
    const late = await cancelDeploymentAction({ status: "idle" }, form(fields));
    expect(late).toEqual({
      status: "error",
      message: `Too late to cancel: the release of deployment #${deployment.number} had already started. Roll back or deploy again instead.`,
    });
  });
});

const idle = { status: "idle" } as const;

describe("redeployDeploymentAction", () => {
  it("deploys a failed deployment's commit again (Retry) and goes to the new deployment's page", async () => {
    const { team, user, app, deployment } = await deploymentWith("member");
    const sha = "b".repeat(40);
    await getDb().deployment.update({
      where: { id: deployment.id },
      data: { status: "failed", finishedAt: new Date(), commitSha: sha },
    });
    session.user = user;
    const target = await redirectTarget(
      redeployDeploymentAction(idle, form({ teamId: team.id, deploymentId: deployment.id })),
    );
    const again = await getDb().deployment.findFirstOrThrow({ where: { appId: app.id, number: 2 } });
    expect(target).toBe(`/teams/${team.id}/apps/${app.id}/deployments/${again.id}`);
    expect(again).toMatchObject({ trigger: "redeploy", redeployOfId: deployment.id, commitSha: sha });
  });

  it("refuses a viewer and another team's deployment, queuing nothing", async () => {
    const { team, user, app, deployment } = await deploymentWith("viewer");
    const other = await deploymentWith("member");
    session.user = user;
    const refused = await redeployDeploymentAction(idle, form({ teamId: team.id, deploymentId: deployment.id }));
    expect(refused).toEqual({ status: "error", message: "Your role in this team does not allow this." });
    session.user = other.user;
    const foreign = await redeployDeploymentAction(idle, form({ teamId: other.team.id, deploymentId: deployment.id }));
    expect(foreign).toEqual({ status: "error", message: "Deployment not found." });
    expect(await getDb().deployment.count({ where: { appId: app.id } })).toBe(1);
  });
});
