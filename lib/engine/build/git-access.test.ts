// Private repositories with real git, no mocks (issue #14): a local bare repository served over HTTPS by
// `git http-backend` with a test CA (test/git-server.ts) and, where openssh-server is installed, over ssh by a private
// sshd (test/sshd.ts). The clone runs as the worker runs it: fetchGitSource with the app's GitAccess over the
// database (deploy key, pinned host keys, read token) and the real Executor, private hosts allowed
// (TUSSILAGO_GIT_ALLOW_PRIVATE_HOSTS=1) since the servers are on loopback.
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SourceError } from "@/lib/build/source-errors";
import { fetchGitSource, parseHostKey, shippedHostKeys, sshFingerprint } from "@/lib/build/source-git";
import { SHIPPED_HOST_KEYS } from "@/lib/build/source-git/known-hosts";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import { createOrRotateDeployKey } from "@/lib/domain/deploy-keys";
import { confirmGitHostKey, listGitHostKeys } from "@/lib/domain/git-host-keys";
import { setGitToken } from "@/lib/domain/git-tokens";
import { gitAccessFor } from "@/lib/engine/build/git-access";
import { type ExecOptions, type Executor, execFileExecutor } from "@/lib/infra/exec";
import { createTestTeam, createTestUser, userCtx } from "@/test/factories";
import { type GitHttpsServer, makeBareRepo, startGitHttpsServer } from "@/test/git-server";
import { sshdPath, startSshd, type TestSshd } from "@/test/sshd";

type Recorded = { file: string; args: readonly string[]; options: ExecOptions };

function recordingExecutor(): { exec: Executor; calls: Recorded[] } {
  const calls: Recorded[] = [];
  return {
    calls,
    exec: (file, args, options) => {
      calls.push({ file, args, options });
      return execFileExecutor(file, args, options);
    },
  };
}

async function sourceError(run: () => Promise<unknown>): Promise<SourceError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof SourceError) return error;
    throw error;
  }
  throw new Error("expected a SourceError");
}

async function freshApp() {
  const user = await createTestUser();
  const team = await createTestTeam(user.id);
  const ctx = await userCtx(user.id, team.id);
  const app = await createApp(getDb(), ctx, { name: `git-${randomBytes(3).toString("hex")}` });
  return { ctx, app };
}

let workspace: string;
beforeEach(async () => {
  workspace = await mkdtemp(path.join(tmpdir(), "tsl-git-access-"));
});
afterEach(async () => {
  await rm(workspace, { recursive: true, force: true });
});

const base = () => ({ dest: path.join(workspace, "src"), timeoutMs: 60_000, maxBytes: 10 * 1024 * 1024 });

describe("HTTPS with the operator's CA file and a read token", () => {
  let server: GitHttpsServer;
  let publicSha: string;
  let privateSha: string;

  beforeAll(async () => {
    server = await startGitHttpsServer();
    publicSha = await makeBareRepo(server.root, "public");
    privateSha = await makeBareRepo(server.root, "private", { "secret.py": "x = 1\n" });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("clones over HTTPS trusting TUSSILAGO_GIT_CA_FILE in addition to the system's CAs, and not without it", async () => {
    server.requireToken(null);
    const url = `${server.origin}/public.git`;
    const refused = await sourceError(() =>
      fetchGitSource(execFileExecutor, { ...base(), url, allowPrivateHosts: true }),
    );
    expect(refused.code).toBe("clone_failed");
    const result = await fetchGitSource(execFileExecutor, {
      ...base(),
      url,
      allowPrivateHosts: true,
      caFile: server.caFile,
      caBundleDir: workspace,
    });
    expect(result.commitSha).toBe(publicSha);
    expect(await readFile(path.join(workspace, "src", "app.py"), "utf8")).toContain("hello");
    // The combined bundle holds the system's CAs too (http.sslCAInfo replaces them otherwise).
    const bundle = (await readdir(workspace)).find((name) => name.startsWith("git-ca-bundle-"));
    const text = await readFile(path.join(workspace, bundle ?? "missing"), "utf8");
    expect(text).toContain(await readFile(server.caFile, "utf8"));
    expect(text.split("BEGIN CERTIFICATE").length).toBeGreaterThan(3);
  });

  it("clones a private repository with the app's token, sent as a header and never in arguments or messages", async () => {
    const { ctx, app } = await freshApp();
    const token = `tok_${randomBytes(16).toString("hex")}`;
    server.requireToken({ username: "deployer", token });
    const url = `${server.origin}/private.git`;
    const options = { ...base(), url, allowPrivateHosts: true, caFile: server.caFile, caBundleDir: workspace };

    // No token stored yet: the server refuses, and the message says how to fix it.
    const withoutToken = await sourceError(() =>
      fetchGitSource(execFileExecutor, {
        ...options,
        access: gitAccessFor({ db: getDb(), exec: execFileExecutor }, app.id),
      }),
    );
    expect(withoutToken.userMessage).toMatch(/private: for a private repository, give the app a read token/);

    await setGitToken(getDb(), ctx, app.id, { username: "deployer", token });
    const { exec, calls } = recordingExecutor();
    server.authorizations.length = 0;
    const result = await fetchGitSource(exec, { ...options, access: gitAccessFor({ db: getDb(), exec }, app.id) });
    expect(result.commitSha).toBe(privateSha);
    expect(server.authorizations).toContain(`Basic ${Buffer.from(`deployer:${token}`).toString("base64")}`);
    for (const call of calls) expect(JSON.stringify(call.args)).not.toContain(token);
    const row = await getDb().gitHttpsToken.findUniqueOrThrow({ where: { appId: app.id } });
    expect(row.tokenSealed).not.toContain(token);

    // A wrong token: refused, and neither the token nor its header appears in the message.
    server.requireToken({ username: "deployer", token: "another" });
    await rm(path.join(workspace, "src"), { recursive: true, force: true });
    const wrong = await sourceError(() =>
      fetchGitSource(execFileExecutor, {
        ...options,
        access: gitAccessFor({ db: getDb(), exec: execFileExecutor }, app.id),
      }),
    );
    expect(wrong.code).toBe("clone_failed");
    expect(`${wrong.userMessage} ${wrong.detail ?? ""}`).not.toContain(token);
    server.requireToken(null);
  });
});

const sshd = sshdPath();
describe.skipIf(sshd === null)(`SSH with a deploy key and pinned host keys${sshd ? "" : " (skipped: no sshd)"}`, () => {
  let server: TestSshd;
  let repos: string;
  let sha: string;

  beforeAll(async () => {
    server = await startSshd();
    repos = await mkdtemp(path.join(tmpdir(), "tsl-ssh-repos-"));
    sha = await makeBareRepo(repos, "private");
  });
  afterAll(async () => {
    await server?.close();
    if (repos) await rm(repos, { recursive: true, force: true });
  });

  function sshUrl(): string {
    return `ssh://${server.user}@127.0.0.1:${server.port}${repos}/private.git`;
  }

  it("records an unknown host's key unconfirmed and fails readably; once confirmed, clones with the deploy key", async () => {
    const { ctx, app } = await freshApp();
    const { deployKey } = await createOrRotateDeployKey(getDb(), ctx, app.id);
    await server.authorize([deployKey.publicKey]);
    const { exec, calls } = recordingExecutor();
    const options = {
      ...base(),
      url: sshUrl(),
      allowPrivateHosts: true,
      access: gitAccessFor({ db: getDb(), exec }, app.id),
    };

    const first = await sourceError(() => fetchGitSource(exec, options));
    const keys = await listGitHostKeys(getDb(), ctx, app.id);
    expect(keys).toHaveLength(1);
    const [key] = keys;
    expect(key).toMatchObject({
      host: "127.0.0.1",
      port: server.port,
      keyType: server.hostKey.keyType,
      publicKey: `${server.hostKey.keyType} ${server.hostKey.publicKey}`,
      source: "first_use",
      confirmed: false,
    });
    expect(first.userMessage).toContain(`Confirm the host key ${key?.fingerprint} of host 127.0.0.1:${server.port}`);
    expect(key?.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    // ssh-keyscan ran with an argument array and a time limit; git did not run.
    expect(calls.map((call) => call.file)).toEqual(["ssh-keyscan"]);
    expect(calls[0]?.args).toEqual([
      "-T",
      "20",
      "-p",
      String(server.port),
      "-t",
      "ed25519,ecdsa,rsa",
      "--",
      "127.0.0.1",
    ]);

    // Asking again does not trust it by itself.
    expect((await sourceError(() => fetchGitSource(exec, options))).userMessage).toContain("Confirm the host key");

    await confirmGitHostKey(getDb(), ctx, key?.id ?? "");
    const result = await fetchGitSource(exec, options);
    expect(result.commitSha).toBe(sha);
    expect(await readFile(path.join(workspace, "src", "app.py"), "utf8")).toContain("hello");
    // git reached ssh through GIT_SSH (no shell: no GIT_SSH_COMMAND, no core.sshCommand), and the per-clone ssh
    // directory with the private key is gone afterwards.
    const gitCalls = calls.filter((call) => call.file !== "ssh-keyscan");
    for (const call of gitCalls) {
      expect(call.options.env?.GIT_SSH).toMatch(/ssh\.cjs$/);
      expect(call.options.env?.GIT_SSH_VARIANT).toBe("ssh");
      expect(call.options.env).not.toHaveProperty("GIT_SSH_COMMAND");
      expect(JSON.stringify(call.args)).not.toContain("sshCommand");
    }
    expect((await readdir(workspace)).filter((name) => name.startsWith("git-ssh-"))).toEqual([]);
  });

  it("refuses a server whose key is not the confirmed one, without the private key in any message", async () => {
    const { ctx, app } = await freshApp();
    const { deployKey } = await createOrRotateDeployKey(getDb(), ctx, app.id);
    await server.authorize([deployKey.publicKey]);
    // Pin (and confirm) a different key for this host and port: what a man in the middle would look like.
    const other = await createOrRotateDeployKey(getDb(), ctx, (await freshApp()).app.id).catch(() => null);
    expect(other).toBeNull(); // another team's app: not found, nothing created
    const [, impostor = ""] = deployKey.publicKey.split(" ");
    const pinned = await getDb().gitHostKey.create({
      data: {
        appId: app.id,
        host: "127.0.0.1",
        port: server.port,
        keyType: "ssh-ed25519",
        publicKey: impostor,
        fingerprint: deployKey.fingerprint,
        source: "first_use",
        confirmedAt: new Date(),
      },
    });
    expect(pinned.confirmedAt).not.toBeNull();
    const options = {
      ...base(),
      url: sshUrl(),
      allowPrivateHosts: true,
      access: gitAccessFor({ db: getDb(), exec: execFileExecutor }, app.id),
    };
    const error = await sourceError(() => fetchGitSource(execFileExecutor, options));
    expect(error.userMessage).toMatch(/host key is not the confirmed key of this host, so the clone was refused/);
    const sealed = await getDb().deployKey.findUniqueOrThrow({ where: { appId: app.id } });
    const { decryptBound } = await import("@/lib/crypto");
    const privateKey = decryptBound(sealed.privateKeySealed, ["deploy-key", app.id]);
    const body = privateKey.split("\n").slice(1, -2).join("");
    expect(body.length).toBeGreaterThan(40);
    expect(JSON.stringify({ message: error.userMessage, detail: error.detail, log: error.toLog() })).not.toContain(
      body.slice(0, 40),
    );
    expect((await readdir(workspace)).filter((name) => name.startsWith("git-ssh-"))).toEqual([]);
  });

  it("refuses a clone over SSH without a deploy key before connecting", async () => {
    const { app } = await freshApp();
    const { exec, calls } = recordingExecutor();
    const error = await sourceError(() =>
      fetchGitSource(exec, {
        ...base(),
        url: sshUrl(),
        allowPrivateHosts: true,
        access: gitAccessFor({ db: getDb(), exec }, app.id),
      }),
    );
    expect(error.userMessage).toMatch(/needs the app's deploy key/);
    expect(calls).toEqual([]);
  });
});

describe("shipped host keys of github.com, gitlab.com and codeberg.org", () => {
  it("ships well-formed keys whose fingerprints are the published ones", () => {
    for (const [host, keys] of Object.entries(SHIPPED_HOST_KEYS)) {
      expect(keys.length, host).toBeGreaterThan(0);
      for (const key of keys) {
        expect(key.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
        if (key.publicKey === null) continue;
        expect(sshFingerprint(key.publicKey), host).toBe(key.fingerprint);
        expect(parseHostKey(key.keyType, key.publicKey), host).not.toBeNull();
      }
    }
    expect(shippedHostKeys("github.com", 2222)).toBeNull();
    expect(shippedHostKeys("constructor", 22)).toBeNull();
  });

  it("pins github.com's shipped keys as confirmed without asking the network", async () => {
    const { ctx, app } = await freshApp();
    await createOrRotateDeployKey(getDb(), ctx, app.id);
    const { exec, calls } = recordingExecutor();
    const access = gitAccessFor({ db: getDb(), exec }, app.id);
    const { hostKeys } = await access.ssh({ host: "github.com", port: 22, address: "140.82.121.3" });
    expect(hostKeys.map((key) => key.publicKey)).toEqual(
      (shippedHostKeys("github.com", 22) ?? []).map((key) => key.publicKey),
    );
    expect(calls).toEqual([]);
    const keys = await listGitHostKeys(getDb(), ctx, app.id);
    expect(keys.map((key) => [key.source, key.confirmed])).toEqual([
      ["shipped", true],
      ["shipped", true],
      ["shipped", true],
    ]);
  });

  it("refuses codeberg.org when the scanned keys are not its published fingerprints, recording nothing", async () => {
    const { ctx, app } = await freshApp();
    const { deployKey } = await createOrRotateDeployKey(getDb(), ctx, app.id);
    const [keyType = "", blob = ""] = deployKey.publicKey.split(" ");
    const calls: string[] = [];
    const exec: Executor = async (file) => {
      calls.push(file);
      return {
        stdout: `# codeberg.org:22 SSH-2.0-x\ncodeberg.org ${keyType} ${blob}\n`,
        stderr: "",
        exitCode: 0,
        durationMs: 1,
      };
    };
    const error = await sourceError(() =>
      gitAccessFor({ db: getDb(), exec }, app.id).ssh({ host: "codeberg.org", port: 22, address: "217.197.84.140" }),
    );
    expect(error.userMessage).toMatch(/not codeberg\.org's published keys/);
    expect(calls).toEqual(["ssh-keyscan"]);
    expect(await getDb().gitHostKey.count({ where: { appId: app.id } })).toBe(0);
  });
});
