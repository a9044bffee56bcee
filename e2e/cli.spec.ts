// The `tussilago` command line against the real e2e platform (fake podman): bin/tussilago.mjs runs as a child process
// (execFile, no shell), as a user runs it. A person makes an API token in the portal; the CLI logs in with it,
// creates and links an app, sets an env var, deploys a directory (its .gitignore honoured) to a running release whose
// URL it prints, and a source the platform cannot plan and a failing image build both end in a non-zero exit with the
// reason. --json output parses throughout.
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect, type Page, test } from "@playwright/test";
import { signUpWithTeam, unique, uniqueEmail } from "./fixtures/identity";

const CLI = path.resolve("bin/tussilago.mjs");

let scratch: string;
let configDir: string;

test.beforeAll(async () => {
  scratch = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-e2e-cli-"));
  configDir = path.join(scratch, "config");
});

test.afterAll(async () => {
  await fs.rm(scratch, { recursive: true, force: true });
});

type Result = { code: number; stdout: string; stderr: string };

/** Runs the CLI in `cwd`; never rejects, the exit code is part of the result. */
function tussilago(args: string[], cwd: string): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        cwd,
        timeout: 240_000,
        maxBuffer: 16 * 1024 * 1024,
        // Only what the CLI needs: no inherited TUSSILAGO_* of the platform, no colours.
        env: {
          NODE_ENV: "production",
          PATH: process.env.PATH ?? "",
          HOME: scratch,
          TUSSILAGO_CONFIG_DIR: configDir,
          NO_COLOR: "1",
        },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function fakePodmanDir(): string {
  const dir = process.env.E2E_FAKE_PODMAN_DIR;
  if (!dir) throw new Error("e2e/global-setup.ts did not set E2E_FAKE_PODMAN_DIR");
  return dir;
}

/** Runs `body` with a fake podman switch file present (e2e/global-setup.ts). */
async function withSwitch<T>(file: string, body: () => Promise<T>): Promise<T> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, "");
  try {
    return await body();
  } finally {
    await fs.rm(file, { force: true });
  }
}

async function createToken(page: Page, teamId: string): Promise<string> {
  const name = unique("cli");
  await page.goto(`/teams/${teamId}/tokens`);
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Read and write", { exact: false }).first().check();
  await page.getByRole("button", { name: "Create token" }).click();
  const field = page.getByLabel(`API token “${name}”`);
  await expect(field).toHaveValue(/^tsl_/);
  return field.inputValue();
}

test("the CLI logs in, creates an app, sets env, deploys it live, and fails a broken deploy with the reason", async ({
  page,
  baseURL,
}) => {
  test.setTimeout(600_000);
  if (!baseURL) throw new Error("no baseURL");
  const teamName = `Team ${unique("cli")}`;
  const teamId = await signUpWithTeam(page, { name: "Cleo Cli", email: uniqueEmail("cli"), team: teamName });
  const token = await createToken(page, teamId);

  // Login with flags: the token is checked against the API, stored 0600, and --json answers the team.
  const login = await tussilago(["login", "--url", baseURL, "--token", token, "--json"], scratch);
  expect(login.code, login.stderr).toBe(0);
  expect(JSON.parse(login.stdout)).toMatchObject({ team: { id: teamId, name: teamName } });
  const stat = await fs.stat(path.join(configDir, "config.json"));
  expect(stat.mode & 0o777).toBe(0o600);

  // A source directory: the example app, plus files its .gitignore keeps out of the upload.
  const source = path.join(scratch, "shop");
  await fs.cp(path.resolve("examples/wsgi-stdlib"), source, { recursive: true });
  await fs.writeFile(path.join(source, ".gitignore"), "venv/\n*.log\n");
  await fs.mkdir(path.join(source, "venv"));
  await fs.writeFile(path.join(source, "venv", "huge.bin"), Buffer.alloc(1024));
  await fs.writeFile(path.join(source, "debug.log"), "noise\n");

  const name = unique("cli-shop");
  const created = await tussilago(["apps:create", name, "--json"], source);
  expect(created.code, created.stderr).toBe(0);
  const app = JSON.parse(created.stdout) as { app: { id: string; name: string } };
  expect(app.app.name).toBe(name);
  expect(JSON.parse(await fs.readFile(path.join(source, ".tussilago.json"), "utf8"))).toEqual({
    appId: app.app.id,
    name,
  });

  const apps = await tussilago(["apps", "--json"], scratch);
  expect(apps.code, apps.stderr).toBe(0);
  expect((JSON.parse(apps.stdout) as { apps: { name: string }[] }).apps.map((a) => a.name)).toContain(name);

  // Env vars, through the linked directory (no --app).
  const set = await tussilago(["env:set", "GREETING=hello world", "MODE=a=b"], source);
  expect(set.code, set.stderr).toBe(0);
  const env = await tussilago(["env", "--json"], source);
  expect(env.code, env.stderr).toBe(0);
  expect(Object.keys((JSON.parse(env.stdout) as { env: Record<string, string> }).env).sort()).toEqual([
    "GREETING",
    "MODE",
  ]);

  // Deploy: followed to a running release (the fake containers answer HTTP), the URL printed.
  const deployed = await withSwitch(path.join(fakePodmanDir(), "state", "serve-http"), () =>
    tussilago(["deploy"], source),
  );
  expect(deployed.code, deployed.stderr).toBe(0);
  expect(deployed.stdout).toMatch(new RegExp(`Deployed #1: http://${name}-[a-z0-9-]+\\.`));
  expect(deployed.stderr).toContain("running");

  const deployments = await tussilago(["deployments", "--json"], source);
  expect(deployments.code, deployments.stderr).toBe(0);
  const list = JSON.parse(deployments.stdout) as { deployments: { number: number; status: string }[] };
  expect(list.deployments).toEqual([expect.objectContaining({ number: 1, status: "running" })]);

  // Nothing to plan: exit code 1 and the platform's reason on stderr.
  const empty = path.join(scratch, "no-app");
  await fs.mkdir(empty);
  await fs.writeFile(path.join(empty, "README.md"), "Not an app.\n");
  const emptyName = unique("cli-empty");
  expect((await tussilago(["apps:create", emptyName, "--no-link"], scratch)).code).toBe(0);
  const unplannable = await tussilago(["deploy", empty, "--app", emptyName], scratch);
  expect(unplannable.code).toBe(1);
  expect(unplannable.stderr).toMatch(
    /error: deploy_failed: Deployment #1 failed: .*could not find how to start this app/,
  );
  expect(unplannable.stderr).not.toMatch(/\n\s+at /);

  // A source whose image build fails (the fake podman's injected build failure): exit code 1 with the reason.
  const brokenName = unique("cli-broken");
  expect((await tussilago(["apps:create", brokenName, "--no-link"], scratch)).code).toBe(0);
  const broken = await withSwitch(path.join(fakePodmanDir(), "fail-build"), () =>
    tussilago(["deploy", source, "--app", brokenName, "--json"], scratch),
  );
  expect(broken.code).toBe(1);
  expect(broken.stdout).toBe("");
  expect(broken.stderr).toMatch(/error: deploy_failed: Deployment #1 failed: \S/);

  // Not found and auth errors have their own exit codes.
  expect((await tussilago(["env", "--app", unique("nope")], scratch)).code).toBe(4);
  expect((await tussilago(["logout"], scratch)).code).toBe(0);
  expect((await tussilago(["apps"], scratch)).code).toBe(3);
});
