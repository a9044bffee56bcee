// Push to deploy with real git (#14): a repository served over HTTPS by `git http-backend` (test/git-server.ts), a
// GitHub-style delivery for a pushed commit, then the build engine's fetch with the real Executor. The branch moves
// on after the push; the deployment still builds exactly the pushed commit, and git's subject and author are stored.
// No podman: the host readiness check fails the build right after the source was fetched and planned.
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST as createWebhookRoute } from "@/app/api/v1/apps/[appId]/webhook/route";
import { POST as hookRoute } from "@/app/api/v1/hooks/[urlToken]/route";
import { createWebhookEndpoint } from "@/lib/api/endpoints/webhooks";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import { buildDeployment } from "@/lib/engine/build";
import { getEnv, resetEnvForTests } from "@/lib/env";
import { execFileExecutor } from "@/lib/infra/exec";
import { call } from "@/test/api";
import { createTestTeam, createTestToken, createTestUser, userCtx } from "@/test/factories";
import { type GitHttpsServer, gitIn, makeBareRepo, startGitHttpsServer } from "@/test/git-server";

let server: GitHttpsServer;
let work: string;

beforeAll(async () => {
  process.env.TUSSILAGO_GIT_ALLOW_PRIVATE_HOSTS = "1";
  resetEnvForTests();
  server = await startGitHttpsServer();
  work = await mkdtemp(path.join(tmpdir(), "tsl-push-work-"));
});

afterAll(async () => {
  await server.close();
  await rm(work, { recursive: true, force: true });
  delete process.env.TUSSILAGO_GIT_ALLOW_PRIVATE_HOSTS;
  resetEnvForTests();
});

async function commitAndPush(clone: string, file: string, subject: string): Promise<string> {
  await writeFile(path.join(clone, file), `${subject}\n`);
  await gitIn(clone, "add", "-A");
  await gitIn(clone, "commit", "--quiet", "-m", subject);
  await gitIn(clone, "push", "--quiet", "origin", "main");
  return await gitIn(clone, "rev-parse", "HEAD");
}

describe("push to deploy over real git", () => {
  it("builds exactly the pushed commit after the branch moved on", async () => {
    const name = `shop-${randomBytes(3).toString("hex")}`;
    await makeBareRepo(server.root, name, { "requirements.txt": "flask\n", Procfile: "web: python app.py\n" });
    const clone = path.join(work, name);
    await gitIn(work, "clone", "--quiet", path.join(server.root, `${name}.git`), clone);
    const pushed = await commitAndPush(clone, "app.py", "Deploy this one");

    const user = await createTestUser();
    const team = await createTestTeam(user.id);
    const ctx = await userCtx(user.id, team.id);
    const app = await createApp(getDb(), ctx, {
      name,
      source: { url: `${server.origin}/${name}.git`, ref: "main", autoDeploy: true },
    });
    const write = await createTestToken(team.id, ["write"]);
    const created = await call(createWebhookRoute, `/api/v1/apps/${app.id}/webhook`, {
      method: "POST",
      token: write,
      params: { appId: app.id },
    });
    const { webhook } = createWebhookEndpoint.responses[201].schema.parse(await created.json());
    const urlToken = webhook?.url.split("/").pop() ?? "";
    const body = Buffer.from(
      JSON.stringify({
        ref: "refs/heads/main",
        before: "0".repeat(40),
        after: pushed,
        head_commit: { id: pushed, message: "Deploy this one", author: { name: "Test Author" } },
      }),
    );
    const answer = await hookRoute(
      new Request(`http://tussilago.test/api/v1/hooks/${urlToken}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-github-event": "push",
          "x-github-delivery": randomUUID(),
          "x-hub-signature-256": `sha256=${createHmac("sha256", webhook?.secret ?? "")
            .update(body)
            .digest("hex")}`,
        },
        body: new Uint8Array(body),
      }),
      { params: Promise.resolve({ urlToken }) },
    );
    expect(answer.status).toBe(202);

    // Another push lands before the build starts (its delivery is not sent): the build must not pick it up.
    const later = await commitAndPush(clone, "app.py", "A later commit");
    expect(later).not.toBe(pushed);

    const deployment = await getDb().deployment.findFirstOrThrow({ where: { appId: app.id } });
    const env = getEnv();
    await buildDeployment(
      {
        db: getDb(),
        log: pino({ level: "silent" }),
        dataDir: env.dataDir,
        config: { ...env.infra, gitAllowPrivateHosts: true, gitCaFile: server.caFile },
        defaultPythonVersion: "3.12",
        podman: () => {
          throw new Error("podman was not expected to be asked");
        },
        exec: execFileExecutor,
        gitPath: () => "git",
        readinessProblem: async () => "no sandbox runtime here",
        cancelPollMs: 1000,
        buildCgroup: async () => null,
      },
      { deploymentId: deployment.id, operationId: deployment.operationId ?? "" },
    );
    const built = await getDb().deployment.findUniqueOrThrow({ where: { id: deployment.id } });
    expect(built).toMatchObject({
      trigger: "push",
      commitSha: pushed,
      commitMessage: "Deploy this one",
      commitAuthor: "Test Author",
      // It got as far as the host check: the source was fetched and planned.
      error: "no sandbox runtime here",
    });
  });
});
