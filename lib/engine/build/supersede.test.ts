// Deploy on push in the build engine (#14): a deployment superseded by a newer one of the same app ends cancelled
// and says by which; a deployment pinned to a commit (a push, a redeploy) fetches exactly that commit, wherever the
// branch is, and stores the subject and author git reports. Fakes only: no podman, and git is a recording executor.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import { createDeployment } from "@/lib/domain/deployments";
import { type BuildDeps, buildDeployment } from "@/lib/engine/build";
import { getEnv } from "@/lib/env";
import type { Executor } from "@/lib/infra/exec";
import { createTestTeam, createTestUser, userCtx } from "@/test/factories";

function deps(overrides: Partial<BuildDeps> = {}): BuildDeps {
  const env = getEnv();
  return {
    db: getDb(),
    log: pino({ level: "silent" }),
    dataDir: env.dataDir,
    config: { ...env.infra, gitAllowPrivateHosts: true },
    defaultPythonVersion: "3.12",
    podman: () => {
      throw new Error("podman was not expected to be asked");
    },
    exec: async () => {
      throw new Error("no process was expected");
    },
    gitPath: () => "/usr/bin/git",
    readinessProblem: async () => "no sandbox runtime here",
    cancelPollMs: 50,
    buildCgroup: async () => null,
    ...overrides,
  };
}

async function gitApp() {
  const user = await createTestUser();
  const team = await createTestTeam(user.id);
  const ctx = await userCtx(user.id, team.id);
  const app = await createApp(getDb(), ctx, {
    name: `push-${crypto.randomUUID().slice(0, 8)}`,
    source: { url: "https://github.com/acme/shop.git", ref: "main" },
  });
  return { ctx, app };
}

describe("superseded and pinned builds", () => {
  it("ends a queued deployment superseded by a newer one as cancelled, naming the newer one", async () => {
    const { ctx, app } = await gitApp();
    const first = await createDeployment(getDb(), ctx, app.id, undefined);
    const second = await createDeployment(getDb(), ctx, app.id, undefined);
    await buildDeployment(deps(), { deploymentId: first.deployment.id, operationId: first.operation.id });
    const ended = await getDb().deployment.findUniqueOrThrow({ where: { id: first.deployment.id } });
    expect(ended).toMatchObject({
      status: "cancelled",
      error: `Superseded by deployment #${second.deployment.number}.`,
      supersededById: second.deployment.id,
    });
    const operation = await getDb().operation.findUniqueOrThrow({ where: { id: first.operation.id } });
    expect(operation.error).toBe(`Superseded by deployment #${second.deployment.number}.`);
  });

  it("fetches exactly the pinned commit and stores git's subject and author over the payload's", async () => {
    const { ctx, app } = await gitApp();
    const { deployment, operation } = await createDeployment(getDb(), ctx, app.id, undefined);
    const pinned = "ab".repeat(20);
    await getDb().deployment.update({
      where: { id: deployment.id },
      data: { commitSha: pinned, commitMessage: "claimed by the payload", commitAuthor: "someone" },
    });
    const calls: string[][] = [];
    const exec: Executor = async (_file, args) => {
      calls.push([...args]);
      const dest = args.includes("-C") ? (args[args.indexOf("-C") + 1] ?? "") : (args.at(-1) ?? "");
      if (args.includes("init")) await mkdir(path.join(dest, ".git"), { recursive: true });
      if (args.includes("checkout")) await writeFile(path.join(dest, "requirements.txt"), "flask\n");
      const stdout = args.includes("rev-parse")
        ? `${pinned}\n`
        : args.includes("log")
          ? "Real subject\u0000Real Author\n"
          : "";
      return { stdout, stderr: "", exitCode: 0, durationMs: 1 };
    };
    await buildDeployment(deps({ exec }), { deploymentId: deployment.id, operationId: operation.id });
    const fetch = calls.find((args) => args.includes("fetch"));
    expect(fetch?.slice(-3)).toEqual(["--", "https://github.com/acme/shop.git", pinned]);
    expect(calls.some((args) => args.includes("clone"))).toBe(false);
    const row = await getDb().deployment.findUniqueOrThrow({ where: { id: deployment.id } });
    expect(row).toMatchObject({ commitSha: pinned, commitMessage: "Real subject", commitAuthor: "Real Author" });
  });
});
