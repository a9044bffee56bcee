// `npm run smoke:host`: the real deploy path on a host prepared by scripts/host-setup.sh, outside the test suite.
// Starts the platform with the host's configuration (podman, gVisor, the host's Caddy) and a throwaway data directory,
// then through the REST API, for each example that needs no package index: upload, build, release under gVisor and a
// request through Caddy; a redeploy while a probe loop hits the app (no failed request during the cutover); a
// rollback; scale to 2 and back; stop; delete. On the first example, a custom domain is added, proven with a TXT
// record and served over HTTPS through the host's Caddy with a certificate from a local Pebble (test CA; the platform
// runs with TUSSILAGO_TLS=on against it), then removed (domains.ts; --no-tls skips it). Push to deploy (git.ts; --no-git
// skips it): a local HTTPS git server with its test CA holds wsgi-stdlib, a commit is pushed and its signed delivery
// deploys it. Processes (processes.ts; --no-processes skips it): wsgi-stdlib with a worker type, both under the sandbox
// runtime, a one-off run's output and exit code, a cron job's run each minute. Metrics and notifications (observe.ts;
// --no-metrics skips it): a signed webhook to a loopback receiver (the platform runs with
// TUSSILAGO_WEBHOOK_ALLOW_PRIVATE_HOSTS=1), a burst through Caddy counted by the metrics API beside CPU and memory
// samples, and the app's container killed with `podman kill`: the crash reaches the webhook and the app serves again.
// Backups (backups.ts; --no-backups skips it): a tenant database with rows backed up and verified, a dropped table
// restored onto the same database (a safety backup first), a restore into a new database, a Redis export and import.
// Before the examples, a hostile Containerfile (`ADD` of a loopback URL)
// must be refused by the build policy with nothing reaching the host's loopback. Prints each phase's time and exits
// non-zero on the first failure.
// Where the base image is missing (no registry here), it is built from Debian packages first (docs/operations.md).
//
//   sudo npm run smoke:host [-- --keep-data] [-- --example wsgi-stdlib] [-- --no-tls] [-- --no-git] [-- --no-processes]
//     [-- --no-metrics] [-- --no-backups]
//
// The rooms: main.ts (this sequence), journeys.ts (what is proved), api.ts, caddy.ts and host.ts (how it is observed),
// domains.ts (custom domains and HTTPS), platform.ts (starting it, through scripts/launcher.ts), support.ts (deadlines, phases, failing).
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { detectPlan, fsSourceTree } from "@/lib/build/plan";
import { teamNetworkName } from "@/lib/engine/release";
import { DEFAULT_HOST_CONFIG, defaultPythonVersion, parseEnv, readHostConfig } from "@/lib/env";
import { apiClient } from "./api";
import { smokeBackups } from "./backups";
import { caddyFront } from "./caddy";
import { resetHostCaddy, type SmokeTls, startSmokeTls } from "./domains";
import { type SmokeGit, smokePushToDeploy, startSmokeGit } from "./git";
import { ensureBaseImage } from "./host";
import { smokeExample, smokeHostileAdd } from "./journeys";
import { smokeObserve } from "./observe";
import { manage, startPlatform } from "./platform";
import { smokeProcesses } from "./processes";
import { EXAMPLES_DIR, execFileAsync, fail, phase, SmokeFailure, say, timings } from "./support";

function noIndexExamples(only: string | undefined): string[] {
  const names = only ? [only] : ["django-procfile", "fastapi-uv", "flask-requirements", "wsgi-stdlib"];
  const chosen: string[] = [];
  for (const name of names) {
    const dir = path.join(EXAMPLES_DIR, name);
    if (!existsSync(dir)) fail(`no example ${name} in examples/`);
    chosen.push(name);
  }
  return chosen;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      "keep-data": { type: "boolean", default: false },
      example: { type: "string" },
      "no-tls": { type: "boolean", default: false },
      "no-git": { type: "boolean", default: false },
      "no-processes": { type: "boolean", default: false },
      "no-metrics": { type: "boolean", default: false },
      "no-backups": { type: "boolean", default: false },
    },
  });
  if (process.getuid?.() !== 0) fail("run as root: rootful podman is what runs gVisor (sudo npm run smoke:host)");
  const hostConfig = process.env.TUSSILAGO_HOST_CONFIG ?? DEFAULT_HOST_CONFIG;
  if (hostConfig !== "none" && !existsSync(hostConfig)) {
    fail(`${hostConfig} is missing: prepare the host first with sudo scripts/host-setup.sh`);
  }
  const secretKey = randomBytes(32).toString("base64url");
  const env = parseEnv({ ...readHostConfig(process.env), ...process.env, TUSSILAGO_SECRET_KEY: secretKey });
  const front = caddyFront(env);

  const candidates = noIndexExamples(values.example);
  const examples: string[] = [];
  for (const name of candidates) {
    const plan = await detectPlan(fsSourceTree(path.join(EXAMPLES_DIR, name)), {
      defaultPythonVersion: defaultPythonVersion(),
    });
    // Only examples that install nothing can build without a package index (this host has none).
    if (plan.builder === "python" && plan.installer === "none") examples.push(name);
    else say(`skipping ${name}: its ${plan.installer} install needs a package index`);
  }
  if (examples.length === 0) fail("no example can be built without a package index");

  await ensureBaseImage(env);

  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-smoke-"));
  await fs.chmod(dataDir, 0o711);
  const logFile = path.join(os.tmpdir(), `${path.basename(dataDir)}.log`);
  say(`platform log: ${logFile}`);
  // Pebble first: the platform reads its ACME CA and DNS server from the environment it starts with.
  const tls: SmokeTls | null = values["no-tls"]
    ? null
    : await phase("start Pebble (local ACME CA)", () => startSmokeTls(env));
  // The git server too: the platform trusts its CA (TUSSILAGO_GIT_CA_FILE) from the start.
  let git: SmokeGit | null = null;
  let platform: Awaited<ReturnType<typeof startPlatform>>;
  try {
    git = values["no-git"] ? null : await phase("start a local HTTPS git server", () => startSmokeGit());
    platform = await phase("start the platform (build when sources changed)", () =>
      startPlatform(dataDir, logFile, secretKey, {
        // The notification step's receiver listens on the host's loopback, over http.
        TUSSILAGO_WEBHOOK_ALLOW_PRIVATE_HOSTS: "1",
        ...(tls?.platformEnv ?? {}),
        ...(git?.platformEnv ?? {}),
      }),
    );
  } catch (error) {
    await git?.stop();
    await tls?.stop();
    throw error;
  }
  let teamId: string | null = null;
  try {
    const report = await phase("host readiness (manage check)", () => manage(platform, ["check", "--no-ping"]));
    if (report.ok !== true) {
      fail(`the host is not ready:\n${JSON.stringify(report.sections, null, 2).slice(0, 4000)}`);
    }
    const email = `smoke-${randomBytes(4).toString("hex")}@example.com`;
    await manage(platform, ["create-user", "--email", email, "--password", randomBytes(18).toString("base64url")]);
    const team = await manage(platform, [
      "create-team",
      "--name",
      `Smoke ${randomBytes(3).toString("hex")}`,
      "--owner",
      email,
    ]);
    const token = await manage(platform, [
      "create-token",
      "--team",
      String(team.id),
      "--name",
      "smoke",
      "--scopes",
      "read,write",
    ]);
    teamId = String(team.id);
    const api = apiClient(platform.origin, String(token.token));
    await phase("a Containerfile ADD of a loopback URL is refused, nothing fetched", () => smokeHostileAdd(api, env));
    for (const [index, example] of examples.entries()) {
      await smokeExample(api, env, front, example, dataDir, index === 0 ? tls : null);
    }
    if (git) await smokePushToDeploy(api, front, git, platform.origin);
    if (!values["no-metrics"]) await smokeObserve(api, env, front);
    if (!values["no-processes"]) await smokeProcesses(api, env, front);
    if (!values["no-backups"]) await smokeBackups(api);
  } finally {
    await platform.stop();
    await git?.stop();
    if (tls) {
      // The host's Caddy must not keep a config that names this run's Pebble (domains.ts resetHostCaddy).
      await resetHostCaddy(env).catch((error: unknown) =>
        say(`could not reset the host's Caddy to a plain config: ${String(error)}`),
      );
      await tls.stop();
    }
    // The smoke's team outlives its apps; its podman network is the one thing left on the host.
    if (teamId) {
      await execFileAsync(env.infra.podmanPath, ["network", "rm", "--force", teamNetworkName(teamId)]).catch(() => {});
    }
    if (!values["keep-data"]) await fs.rm(dataDir, { recursive: true, force: true });
  }
  say("");
  say("phase times:");
  for (const { name, ms } of timings) say(`  ${(ms / 1000).toFixed(1).padStart(7)} s  ${name}`);
  say("smoke: ok");
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`smoke: FAILED: ${error instanceof SmokeFailure ? error.message : String(error)}\n`);
    if (!(error instanceof SmokeFailure) && error instanceof Error && error.stack)
      process.stderr.write(`${error.stack}\n`);
    process.exit(1);
  },
);
