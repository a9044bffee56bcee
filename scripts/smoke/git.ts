// Push to deploy on the real host: a local git server (test/git-server.ts: `git http-backend` over HTTPS with its own
// test CA; the platform runs with TUSSILAGO_GIT_CA_FILE naming that CA and TUSSILAGO_GIT_ALLOW_PRIVATE_HOSTS=1 for
// its loopback address) holds the wsgi-stdlib example. The app's source is that repository with autoDeploy, a
// webhook is created, a commit is made in a work tree and pushed, and the delivery is sent as GitHub sends it
// (X-Hub-Signature-256 over the exact body). The app must then serve the new commit's answer, and its deployment
// name the commit SHA, message and trigger "push".
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { type GitHttpsServer, gitIn, startGitHttpsServer } from "@/test/git-server";
import { type Api, type App, type Deployment, field, waitDeployed } from "./api";
import { type Front, waitServed } from "./caddy";
import { EXAMPLES_DIR, fail, OPERATION_DEADLINE_MS, phase, say, waitUntil } from "./support";

const EXAMPLE = "wsgi-stdlib";
const GREETING = "Hello from a standard-library WSGI app on Tussilago!";

export type SmokeGit = {
  server: GitHttpsServer;
  /** What the platform starts with so its worker trusts and may reach the local server. */
  platformEnv: Record<string, string>;
  stop(): Promise<void>;
};

export async function startSmokeGit(): Promise<SmokeGit> {
  const server = await startGitHttpsServer();
  return {
    server,
    platformEnv: { TUSSILAGO_GIT_CA_FILE: server.caFile, TUSSILAGO_GIT_ALLOW_PRIVATE_HOSTS: "1" },
    stop: () => server.close(),
  };
}

type DeploymentWithSource = Deployment & {
  trigger: string;
  source: { commitSha: string | null; commitMessage: string | null };
};

/** `origin`: the platform's own address, where the forge would send its delivery. */
export async function smokePushToDeploy(api: Api, front: Front, git: SmokeGit, origin: string): Promise<void> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-smoke-git-"));
  let appId: string | null = null;
  try {
    const repo = path.join(git.server.root, "wsgi.git");
    await phase("push to deploy: a local HTTPS git server holds the example", async () => {
      await fs.cp(path.join(EXAMPLES_DIR, EXAMPLE), work, { recursive: true });
      await gitIn(work, "init", "--quiet", "-b", "main");
      await gitIn(work, "add", "-A");
      await gitIn(work, "commit", "--quiet", "-m", "the example as shipped");
      await gitIn(work, "clone", "--quiet", "--bare", work, repo);
      await gitIn(work, "remote", "add", "origin", repo);
    });

    const app = field<App>(
      await api("POST", "/api/v1/apps", {
        name: "smoke-push",
        source: { type: "git", url: `${git.server.origin}/wsgi.git`, ref: "main", autoDeploy: true },
        settings: { healthCheckPath: "/" },
      }),
      "app",
    );
    appId = app.id;
    const webhook = field<{ url: string; secret: string }>(
      await api("POST", `/api/v1/apps/${app.id}/webhook`, undefined, [201]),
      "webhook",
    );

    const marker = `pushed ${randomBytes(4).toString("hex")}`;
    const message = `smoke: answer "${marker}"`;
    const sha = await phase("push to deploy: commit and git push", async () => {
      const file = path.join(work, "wsgi.py");
      const text = await fs.readFile(file, "utf8");
      if (!text.includes(GREETING)) fail(`${EXAMPLE}/wsgi.py no longer answers "${GREETING}"`);
      await fs.writeFile(file, text.replace(GREETING, marker));
      await gitIn(work, "commit", "--quiet", "-am", message);
      // The bare repository the HTTPS server serves, pushed to through the file system (http-backend's receive-pack
      // would need an authenticated user; the clone side is what is under test).
      await gitIn(work, "push", "--quiet", "origin", "main");
      return await gitIn(work, "rev-parse", "HEAD");
    });

    const deploymentId = await phase("push to deploy: the delivery, signed as GitHub signs it", async () => {
      const before = await gitIn(work, "rev-parse", "HEAD~1");
      const body = JSON.stringify({
        ref: "refs/heads/main",
        before,
        after: sha,
        head_commit: { id: sha, message, author: { name: "Smoke Test" } },
      });
      const response = await fetch(`${origin}${new URL(webhook.url).pathname}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-github-event": "push",
          "x-github-delivery": randomUUID(),
          "x-hub-signature-256": `sha256=${createHmac("sha256", webhook.secret).update(body).digest("hex")}`,
          "user-agent": "GitHub-Hookshot/smoke",
        },
        body,
        signal: AbortSignal.timeout(60_000),
      });
      const answer = (await response.json()) as { deployment?: { id: string } };
      if (response.status !== 202 || !answer.deployment) {
        fail(`the delivery answered ${response.status}: ${JSON.stringify(answer).slice(0, 500)}`);
      }
      return answer.deployment.id;
    });

    await phase("push to deploy: clone over HTTPS (the test CA), build and release", async () => {
      await waitDeployed(api, { id: deploymentId, status: "queued", error: null, phases: [] });
      const deployment = field<DeploymentWithSource>(
        await api("GET", `/api/v1/deployments/${deploymentId}`),
        "deployment",
      );
      if (deployment.source.commitSha !== sha) fail(`deployed ${deployment.source.commitSha}, pushed ${sha}`);
      if (deployment.source.commitMessage !== message) {
        fail(`the deployment's commit message is ${JSON.stringify(deployment.source.commitMessage)}`);
      }
      if (deployment.trigger !== "push") fail(`the deployment's trigger is ${deployment.trigger}, not push`);
      say(`    commit ${sha.slice(0, 12)} "${message}" (push)`);
    });
    await phase("push to deploy: the app serves the pushed commit", () =>
      waitServed(front, app.url, (body) => body.includes(marker)),
    );
  } finally {
    if (appId) {
      const id = appId;
      await api("DELETE", `/api/v1/apps/${id}`, undefined, [202, 404]).catch(() => {});
      await waitUntil("the push app to be deleted", OPERATION_DEADLINE_MS, async () => {
        const status = await api("GET", `/api/v1/apps/${id}`, undefined, [200, 404]);
        return status.error ? true : null;
      }).catch(() => say("    the push app was not deleted in time"));
    }
    await fs.rm(work, { recursive: true, force: true });
  }
}
