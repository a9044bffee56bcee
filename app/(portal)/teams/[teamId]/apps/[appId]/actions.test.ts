// Deploying from the app page: the upload action streams a real tarball made by tar(1) into an upload and queues
// its build; the git action queues a build of the app's repository. A viewer is refused with nothing written (no
// upload row or file, no deployment, no job), whatever the page shows.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { uploadPath } from "@/lib/data-paths";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import type { PublicUser } from "@/lib/domain/users";
import { getEnv } from "@/lib/env";
import type { Role } from "@/lib/generated/prisma/enums";
import { form, redirectTarget } from "@/test/actions";
import { addMember, createTestTeam, createTestUser, userCtx } from "@/test/factories";
import { pendingJobs } from "@/test/helpers";

const session = vi.hoisted(() => ({ user: null as PublicUser | null }));

vi.mock("@/lib/auth/session", () => ({
  currentUser: async () => session.user,
  currentRequestMeta: async () => ({ requestId: randomUUID(), ip: "203.0.113.9", userAgent: "vitest" }),
}));

// revalidatePath() needs a live Next request; there is no page to revalidate in a test.
vi.mock("next/cache", () => ({ refresh: () => {}, revalidatePath: () => {} }));

const { deployGitAction, deployUploadAction } = await import("@/app/(portal)/teams/[teamId]/apps/[appId]/actions");

const run = promisify(execFile);
let tarball: Buffer;

beforeAll(async () => {
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), "portal-deploy-test-"));
  try {
    const archive = path.join(scratch, "app.tar.gz");
    await run("tar", ["-czf", archive, "-C", path.resolve("examples/wsgi-stdlib"), "--", "."]);
    tarball = await fs.readFile(archive);
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
});

afterAll(() => {
  session.user = null;
});

function file(bytes: Uint8Array, name = "app.tar.gz"): File {
  return new File([new Uint8Array(bytes)], name, { type: "application/gzip" });
}

async function appWith(role: Role, source?: { url: string }) {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  const user = await createTestUser();
  await addMember(team.id, user.id, role);
  const app = await createApp(getDb(), await userCtx(owner.id, team.id), {
    name: "web",
    ...(source ? { source } : {}),
  });
  return { team, user, app };
}

async function nothingWritten(teamId: string) {
  expect(await getDb().upload.count({ where: { teamId } })).toBe(0);
  expect(await getDb().deployment.count({ where: { teamId } })).toBe(0);
}

beforeEach(() => {
  session.user = null;
});

describe("deployUploadAction", () => {
  it("refuses a viewer: no upload, no deployment", async () => {
    const { team, user, app } = await appWith("viewer");
    session.user = user;
    const state = await deployUploadAction(
      { status: "idle" },
      form({ teamId: team.id, appId: app.id, file: file(tarball) }),
    );
    expect(state).toEqual({ status: "error", message: "Your role in this team does not allow this." });
    await nothingWritten(team.id);
  });

  it("answers not found for another team's app and keeps no upload", async () => {
    const { team, user } = await appWith("member");
    const other = await appWith("member");
    session.user = user;
    const state = await deployUploadAction(
      { status: "idle" },
      form({ teamId: team.id, appId: other.app.id, file: file(tarball) }),
    );
    expect(state).toEqual({ status: "error", message: "App not found." });
    await nothingWritten(team.id);
    await nothingWritten(other.team.id);
  });

  it("lets a member upload a real tarball, queues its build and goes to the deployment", async () => {
    const { team, user, app } = await appWith("member");
    session.user = user;
    const target = await redirectTarget(
      deployUploadAction({ status: "idle" }, form({ teamId: team.id, appId: app.id, file: file(tarball) })),
    );

    const upload = await getDb().upload.findFirstOrThrow({ where: { teamId: team.id } });
    expect(upload.sizeBytes).toBe(tarball.byteLength);
    expect(await fs.readFile(uploadPath(getEnv().dataDir, upload.id))).toEqual(tarball);
    const deployment = await getDb().deployment.findFirstOrThrow({ where: { appId: app.id } });
    expect(deployment).toMatchObject({ number: 1, status: "queued", sourceType: "upload", uploadId: upload.id });
    expect(target).toBe(`/teams/${team.id}/apps/${app.id}/deployments/${deployment.id}`);
    const jobs = await pendingJobs("deployment__build");
    expect(jobs.some((job) => (job.payload as { deploymentId?: string }).deploymentId === deployment.id)).toBe(true);
  });

  it("asks for a file when none was chosen, and refuses a file that is not gzip", async () => {
    const { team, user, app } = await appWith("member");
    session.user = user;
    // A browser sends an empty, nameless file when the input was left empty.
    const empty = await deployUploadAction(
      { status: "idle" },
      form({ teamId: team.id, appId: app.id, file: new File([], "") }),
    );
    expect(empty.status).toBe("error");
    expect(empty.fieldErrors).toEqual({ file: "Choose a .tar.gz file to upload." });

    const text = await deployUploadAction(
      { status: "idle" },
      form({ teamId: team.id, appId: app.id, file: file(new TextEncoder().encode("not a tarball"), "app.tar.gz") }),
    );
    expect(text).toEqual({ status: "error", message: "This is not a gzip-compressed tarball (.tar.gz)." });
    await nothingWritten(team.id);
  });
});

describe("deployGitAction", () => {
  it("refuses a viewer", async () => {
    const { team, user, app } = await appWith("viewer", { url: "https://github.com/acme/web.git" });
    session.user = user;
    const state = await deployGitAction({ status: "idle" }, form({ teamId: team.id, appId: app.id }));
    expect(state).toEqual({ status: "error", message: "Your role in this team does not allow this." });
    await nothingWritten(team.id);
  });

  it("queues a build of the app's repository for a member", async () => {
    const { team, user, app } = await appWith("member", { url: "https://github.com/acme/web.git" });
    session.user = user;
    const target = await redirectTarget(deployGitAction({ status: "idle" }, form({ teamId: team.id, appId: app.id })));
    const deployment = await getDb().deployment.findFirstOrThrow({ where: { appId: app.id } });
    expect(deployment).toMatchObject({ sourceType: "git", gitUrl: "https://github.com/acme/web.git", gitRef: "main" });
    expect(target).toBe(`/teams/${team.id}/apps/${app.id}/deployments/${deployment.id}`);
  });

  it("explains that an app without a repository deploys by upload", async () => {
    const { team, user, app } = await appWith("member");
    session.user = user;
    const state = await deployGitAction({ status: "idle" }, form({ teamId: team.id, appId: app.id }));
    expect(state.status).toBe("error");
    expect(state.message).toMatch(/no git URL/);
    await nothingWritten(team.id);
  });
});
