// The processes operators run: they refuse to start without a secret key, and the management CLI works.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseImageFor } from "@/lib/build/containerfile";
import { getDb } from "@/lib/db";
import { defaultPythonVersion, getEnv } from "@/lib/env";
import { type FakeCaddy, startFakeCaddy } from "@/test/fake-caddy";
import { type FakePodman, installFakePodman } from "@/test/fake-podman/install";

type Result = { code: number | null; stdout: string; stderr: string };

function runTs(args: string[], env: Record<string, string | undefined>): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", ...args],
      {
        env: {
          NODE_ENV: "test",
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          LOG_LEVEL: "silent",
          TUSSILAGO_HOST_CONFIG: "none",
          ...env,
        },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr });
      },
    );
  });
}

describe("without TUSSILAGO_SECRET_KEY", () => {
  it.each([
    ["the supervisor (npm start)", ["scripts/start.ts"]],
    ["the worker", ["jobs/worker.ts"]],
    ["the management CLI", ["scripts/manage.ts", "check"]],
  ])("%s exits 1 and says how to set one", async (_name, args) => {
    const result = await runTs(args, { TUSSILAGO_DATA_DIR: getEnv().dataDir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("TUSSILAGO_SECRET_KEY is not set");
    expect(result.stderr).toContain("export TUSSILAGO_SECRET_KEY=");
  });
});

describe("npm run manage", () => {
  let podman: FakePodman;
  let caddy: FakeCaddy;
  beforeAll(async () => {
    podman = await installFakePodman();
    caddy = await startFakeCaddy();
  });
  afterAll(async () => {
    await podman.cleanup();
    await caddy.close();
  });

  // The host checks run the fake podman and reach the fake Caddy admin API; the firewall check is told there is no
  // chain (no iptables in tests).
  const env = () => ({
    TUSSILAGO_SECRET_KEY: "k".repeat(40),
    DATABASE_URL: getEnv().databaseUrl,
    TUSSILAGO_DATA_DIR: getEnv().dataDir,
    TUSSILAGO_PODMAN_PATH: podman.path,
    TUSSILAGO_FIREWALL_CHAIN: "none",
    TUSSILAGO_CADDY_ADMIN: caddy.url,
  });

  it("lists its commands", async () => {
    const result = await runTs(["scripts/manage.ts", "help"], {});
    expect(result.code).toBe(0);
    for (const command of ["migrate", "check", "plan"]) expect(result.stdout).toContain(command);
  });

  it("refuses an unknown command with usage", async () => {
    const result = await runTs(["scripts/manage.ts", "frobnicate"], {});
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown command: frobnicate");
  });

  it("migrate --json reports nothing to apply on a migrated database", async () => {
    const result = await runTs(["scripts/manage.ts", "migrate", "--json"], env());
    expect(result.code).toBe(0);
    const body = JSON.parse(result.stdout) as { applied: string[]; total: number };
    expect(body.applied).toEqual([]);
    expect(body.total).toBeGreaterThan(0);
  });

  it("check --json reports each section, and fails while no worker runs", async () => {
    await getDb().workerHeartbeat.deleteMany();
    const down = await runTs(["scripts/manage.ts", "check", "--json", "--no-ping"], env());
    expect(down.code).toBe(1);
    const report = JSON.parse(down.stdout) as {
      ok: boolean;
      sections: { name: string; checks: { name: string; status: string }[] }[];
    };
    expect(report.ok).toBe(false);
    expect(report.sections.map((section) => section.name)).toEqual([
      "configuration",
      "database",
      "worker",
      "host",
      "tenant services",
      "backups",
    ]);
    const worker = report.sections.find((section) => section.name === "worker");
    expect(worker?.checks[0]).toMatchObject({ name: "heartbeat", status: "error" });
    const database = report.sections.find((section) => section.name === "database");
    expect(database?.checks.every((check) => check.status === "ok")).toBe(true);

    const now = new Date();
    await getDb().workerHeartbeat.create({
      data: { workerId: "check-test", hostname: "h", pid: 1, startedAt: now, beatAt: now },
    });
    // The base image stored locally, as host setup leaves it: then a registry this machine cannot reach (no network
    // in the tests) is the air-gapped host's warning, not an error (lib/checks/reachability.ts).
    const baseImage = baseImageFor(getEnv().infra.pythonImage, defaultPythonVersion());
    await promisify(execFile)(podman.path, ["pull", baseImage], { timeout: 30_000 });
    const up = await runTs(["scripts/manage.ts", "check", "--json", "--no-ping"], env());
    expect(JSON.parse(up.stdout).ok).toBe(true);
    expect(up.code).toBe(0);
  });

  it("check reports the host: podman, the sandbox runtime, the base image and the firewall", async () => {
    const result = await runTs(["scripts/manage.ts", "check", "--json", "--no-ping"], env());
    const report = JSON.parse(result.stdout) as {
      sections: { name: string; checks: { name: string; status: string }[] }[];
    };
    const host = report.sections.find((section) => section.name === "host");
    const byName = Object.fromEntries((host?.checks ?? []).map((check) => [check.name, check.status]));
    expect(byName).toMatchObject({ podman: "ok", "sandbox runtime": "ok", firewall: "warn" });
    expect(byName["base image"]).toBeDefined();

    const missing = await runTs(["scripts/manage.ts", "check", "--json", "--no-ping"], {
      ...env(),
      TUSSILAGO_PODMAN_PATH: "/nonexistent/podman",
    });
    expect(missing.code).toBe(1);
    const missingHost = (JSON.parse(missing.stdout) as typeof report).sections.find((s) => s.name === "host");
    expect(missingHost?.checks.find((check) => check.name === "podman")).toMatchObject({ status: "error" });
  });

  it("plan --json prints the plan of an example, and exits non-zero when there is none", async () => {
    const ok = await runTs(["scripts/manage.ts", "plan", "examples/wsgi-stdlib", "--json"], {});
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ builder: "python", installer: "none" });
    const none = await runTs(["scripts/manage.ts", "plan", "prisma", "--json"], {});
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("Looked for");
  });
});

describe("modules load on their own", () => {
  // Scripts import these first (smoke:host imports release.ts before anything else); an import cycle through the job
  // registry once left a payload schema's constant uninitialized in that order only.
  it.each([
    "lib/engine/release/index.ts",
    "lib/engine/routing.ts",
    "lib/domain/lifecycle.ts",
    "lib/domain/deployments.ts",
    "jobs/tasks/index.ts",
  ])("%s", async (module) => {
    const result = await runTs(["-e", `await import(${JSON.stringify(`./${module}`)})`], {});
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.code).toBe(0);
  });
});
