// The `tussilago` systemd unit host setup installs: what it runs and how, and that systemd accepts it.
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const SCRIPT = path.join(import.meta.dirname, "tussilago-unit.sh");
const REPO = path.resolve(import.meta.dirname, "..", "..");
const ENV_FILE = "/etc/tussilago/tussilago.env";
const hasSystemdAnalyze = spawnSync("systemd-analyze", ["--version"]).status === 0;

function render(...args: string[]) {
  return spawnSync(SCRIPT, args, { encoding: "utf8" });
}

let dir: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "tsl-unit-"));
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe("scripts/host/tussilago-unit.sh", () => {
  it("runs npm start in the repository with the secret key file, restarting on failure after the network", () => {
    const result = render(REPO, process.execPath, path.dirname(process.execPath), ENV_FILE);
    expect(result.status).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines).toEqual(
      expect.arrayContaining([
        `WorkingDirectory=${REPO}`,
        `ExecStart=${process.execPath} start`,
        `EnvironmentFile=${ENV_FILE}`,
        "Restart=on-failure",
        "After=network-online.target tussilago-caddy.service",
        "Wants=network-online.target",
        // SIGTERM reaches the supervisor only (it stops its children in order), through bash rather than dash.
        "KillMode=mixed",
        "Environment=npm_config_script_shell=/bin/bash",
        "WantedBy=multi-user.target",
      ]),
    );
  });

  it.skipIf(!hasSystemdAnalyze)("is accepted by systemd-analyze verify", async () => {
    const unit = path.join(dir, "tussilago.service");
    // npm's real path: verify checks that ExecStart is executable.
    const npm = execFileSync("bash", ["-c", "command -v npm"], { encoding: "utf8" }).trim();
    const result = render(REPO, npm, path.dirname(process.execPath), ENV_FILE);
    await fs.writeFile(unit, result.stdout);
    const verify = spawnSync("systemd-analyze", ["verify", unit], { encoding: "utf8" });
    expect(verify.stderr).toBe("");
    expect(verify.status).toBe(0);
  });

  it.each([
    ["a relative path", "relative/repo"],
    ["whitespace, which systemd splits on", "/srv/tussilago repo"],
    ["a % specifier", "/srv/%h"],
  ])("refuses %s", (_what, repo) => {
    const result = render(repo, "/usr/bin/npm", "/usr/bin", ENV_FILE);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe("");
  });
});
