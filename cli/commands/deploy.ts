// deploy [DIR], deployments, rollback [ID].
import path from "node:path";
import type { Command } from "commander";
import { sleep } from "../api/client";
import type { Deployment } from "../api/schemas";
import { type Context, output, progress, waitForOperation } from "../context";
import { CliError, EXIT } from "../errors";
import { paint, table } from "../io";
import { formatMb, listSource, packSource } from "../pack";
import { act, type Setup, stringArg } from "../program";

const ENDED = new Set<Deployment["status"]>(["running", "failed", "cancelled", "superseded"]);
/** The platform's default upload limit (TUSSILAGO_UPLOAD_MAX_MB); the server's own limit still applies. */
const DEFAULT_MAX_MB = 100;

export function registerDeploy(program: Command, setup: Setup): void {
  program
    .command("deploy")
    .description("upload a directory (default: the current one) and follow its build and release")
    .argument("[dir]", "the source directory", ".")
    .option("--max-mb <mb>", "refuse to upload more than this many MB (compressed)", String(DEFAULT_MAX_MB))
    .option("--no-follow", "return once the deployment is queued")
    .action(
      act(setup, async (ctx, args, options) => {
        const dir = path.resolve(ctx.io.cwd, stringArg(args[0]) ?? ".");
        const maxMb = Number(options.maxMb);
        if (!Number.isInteger(maxMb) || maxMb < 1)
          throw new CliError("invalid", "--max-mb takes a whole number.", EXIT.usage);
        const app = await ctx.app(dir);
        const list = await listSource(dir);
        for (const link of list.skippedLinks) progress(ctx, `Skipping ${link}: a symlink pointing outside ${dir}.`);
        const tarball = await packSource(dir, list, maxMb * 1024 * 1024);
        progress(ctx, `Uploading ${list.entries.length} entries (${formatMb(tarball.length)}) for ${app.name}…`);
        const { upload } = await ctx.client.call("createUpload", {
          raw: { bytes: tarball, contentType: "application/gzip" },
        });
        const { deployment } = await ctx.client.call("createDeployment", {
          params: { appId: app.id },
          body: { source: { type: "upload", uploadId: upload.id } },
        });
        progress(ctx, `Deployment #${deployment.number} (${deployment.id}) queued.`);
        if (options.follow === false) {
          output(ctx, { deployment }, () => deployment.id);
          return EXIT.ok;
        }
        const ended = await follow(ctx, deployment);
        if (ended.status !== "running") {
          const reason = ended.error ?? `it ended ${ended.status}`;
          throw new CliError("deploy_failed", `Deployment #${ended.number} failed: ${reason}`, EXIT.failure);
        }
        const { app: live } = await ctx.client.call("getApp", { params: { appId: app.id } });
        output(ctx, { deployment: ended, url: live.url }, () =>
          live.url
            ? `${paint(ctx.io, "green", "Deployed")} #${ended.number}: ${paint(ctx.io, "bold", live.url)}`
            : `${paint(ctx.io, "green", "Deployed")} #${ended.number} (no web process, so no URL).`,
        );
        return EXIT.ok;
      }),
    );

  program
    .command("deployments")
    .description("list the app's deployments, newest first")
    .option("--limit <n>", "how many", "20")
    .action(
      act(setup, async (ctx, _args, options) => {
        const app = await ctx.app();
        const limit = Math.min(Math.max(Number.parseInt(String(options.limit), 10) || 20, 1), 200);
        const { items } = await ctx.client.call("listDeployments", { params: { appId: app.id }, query: { limit } });
        output(ctx, { deployments: items }, () =>
          table([
            ["#", "STATUS", "TRIGGER", "CREATED", "ID", "ERROR"],
            ...items.map((d) => [
              String(d.number),
              d.id === app.currentDeploymentId ? `${d.status} (current)` : d.status,
              d.trigger,
              d.createdAt,
              d.id,
              d.error ?? "",
            ]),
          ]),
        );
        return EXIT.ok;
      }),
    );

  program
    .command("rollback")
    .description("release an earlier deployment's image again (default: the one before the current release)")
    .argument("[deployment]", "a deployment ID or number")
    .action(
      act(setup, async (ctx, args) => {
        const app = await ctx.app();
        const target = await rollbackTarget(ctx, app.id, app.currentDeploymentId, stringArg(args[0]));
        const answer = await ctx.client.call("rollbackApp", {
          params: { appId: app.id },
          body: { deploymentId: target.id },
        });
        progress(ctx, `Rolling ${app.name} back to deployment #${target.number}…`);
        const operation = await waitForOperation(ctx, answer.operation);
        output(ctx, { deployment: target, operation }, () => `Rolled back to #${target.number}.`);
        return EXIT.ok;
      }),
    );
}

/** Follows a deployment to its end, printing its build and release log (stderr) as it grows. */
export async function follow(ctx: Context, start: Deployment): Promise<Deployment> {
  let deployment = start;
  let offset = 0;
  let logComplete = false;
  let lastStatus = "";
  for (;;) {
    const chunk = await ctx.client.call("getDeploymentLogs", { params: { id: deployment.id }, query: { offset } });
    if (chunk.text !== "") ctx.io.stderr(chunk.text);
    offset = chunk.nextOffset;
    logComplete = chunk.complete;
    if (ENDED.has(deployment.status) && (logComplete || chunk.text === "")) return deployment;
    await sleep(ctx.pollMs);
    deployment = (await ctx.client.call("getDeployment", { params: { id: deployment.id } })).deployment;
    if (deployment.status !== lastStatus) {
      lastStatus = deployment.status;
      progress(ctx, paint(ctx.io, "cyan", `-----> ${deployment.status}`));
    }
  }
}

async function rollbackTarget(
  ctx: Context,
  appId: string,
  currentId: string | null,
  selector: string | undefined,
): Promise<Deployment> {
  const { items } = await ctx.client.call("listDeployments", { params: { appId }, query: { limit: 200 } });
  if (selector !== undefined) {
    const found = items.find((d) => d.id === selector || String(d.number) === selector.replace(/^#/, ""));
    if (!found) throw new CliError("not_found", `No deployment ${selector} among the app's latest 200.`, EXIT.notFound);
    return found;
  }
  const current = items.find((d) => d.id === currentId);
  const earlier = items.find(
    (d) => d.id !== currentId && d.imageBuilt && d.status !== "failed" && (!current || d.number < current.number),
  );
  if (!earlier)
    throw new CliError("not_found", "No earlier deployment with a kept image to roll back to.", EXIT.notFound);
  return earlier;
}
