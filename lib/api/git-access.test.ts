// The private-repository API through its route handlers (issue #14): deploy keys (create 201, rotate 200, show,
// delete), pinned SSH host keys (list in constant queries, confirm, forget) and the HTTPS read token (store, delete).
// The key pair is checked with the real OpenSSH tools: ssh-keygen reads the stored private key (sealed at rest) and
// derives the answered public key and fingerprint. Secrets never appear in an answer or the audit log.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import {
  DELETE as deleteDeployKeyRoute,
  GET as getDeployKeyRoute,
  POST as postDeployKeyRoute,
} from "@/app/api/v1/apps/[appId]/deploy-key/route";
import { POST as createDeploymentRoute } from "@/app/api/v1/apps/[appId]/deployments/route";
import { GET as listHostKeysRoute } from "@/app/api/v1/apps/[appId]/git-host-keys/route";
import { DELETE as deleteGitTokenRoute, POST as postGitTokenRoute } from "@/app/api/v1/apps/[appId]/git-token/route";
import { POST as confirmHostKeyRoute } from "@/app/api/v1/git-host-keys/[id]/confirm/route";
import { DELETE as deleteHostKeyRoute } from "@/app/api/v1/git-host-keys/[id]/route";
import {
  confirmGitHostKeyEndpoint,
  createDeployKeyEndpoint,
  getDeployKeyEndpoint,
  listGitHostKeysEndpoint,
  setGitTokenEndpoint,
} from "@/lib/api/endpoints/git-access";
import { decryptBound } from "@/lib/crypto";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import { deployKeyBinding } from "@/lib/domain/deploy-keys";
import { call, errorOf } from "@/test/api";
import { createTestTeam, createTestToken, createTestUser, userCtx } from "@/test/factories";

const run = promisify(execFile);

async function freshApp() {
  const user = await createTestUser();
  const team = await createTestTeam(user.id);
  const app = await createApp(getDb(), await userCtx(user.id, team.id), {
    name: `git-${randomBytes(3).toString("hex")}`,
  });
  return {
    team,
    app,
    write: await createTestToken(team.id, ["write"]),
    read: await createTestToken(team.id, ["read"]),
  };
}

function postKey(appId: string, token: string) {
  return call(postDeployKeyRoute, `/api/v1/apps/${appId}/deploy-key`, { method: "POST", token, params: { appId } });
}

async function auditText(teamId: string): Promise<string> {
  const rows = await getDb().auditEvent.findMany({ where: { teamId } });
  return JSON.stringify(rows);
}

describe("deploy keys API", () => {
  it("creates (201) an ed25519 key OpenSSH reads, rotates (200), shows and deletes it (204)", async () => {
    const { app, team, write, read } = await freshApp();
    const created = await postKey(app.id, write);
    expect(created.status).toBe(201);
    const first = createDeployKeyEndpoint.responses[201].schema.parse(await created.json()).deployKey;
    expect(first.publicKey).toMatch(
      new RegExp(`^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5[A-Za-z0-9+/]+=* tussilago-${app.name}$`),
    );
    expect(first.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);

    // The stored private key is sealed, bound to the app, and is a key OpenSSH's own tools read.
    const row = await getDb().deployKey.findUniqueOrThrow({ where: { appId: app.id } });
    expect(row.privateKeySealed).not.toContain("PRIVATE KEY");
    const privateKey = decryptBound(row.privateKeySealed, deployKeyBinding(app.id));
    expect(privateKey).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
    const dir = await mkdtemp(path.join(tmpdir(), "tsl-deploy-key-"));
    try {
      const file = path.join(dir, "id");
      await writeFile(file, privateKey, { mode: 0o600 });
      const derived = (await run("ssh-keygen", ["-y", "-f", file])).stdout.trim();
      expect(first.publicKey.startsWith(derived)).toBe(true);
      const listed = (await run("ssh-keygen", ["-l", "-f", file])).stdout;
      expect(listed).toContain(first.fingerprint);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    // Bound to this app: moved to another app's row, it does not open.
    const otherAppId = (await freshApp()).app.id;
    expect(() => decryptBound(row.privateKeySealed, deployKeyBinding(otherAppId))).toThrow();

    const rotated = await postKey(app.id, write);
    expect(rotated.status).toBe(200);
    const second = createDeployKeyEndpoint.responses[200].schema.parse(await rotated.json()).deployKey;
    expect(second.fingerprint).not.toBe(first.fingerprint);

    const shown = await call(getDeployKeyRoute, `/api/v1/apps/${app.id}/deploy-key`, {
      token: read,
      params: { appId: app.id },
    });
    const text = await shown.text();
    expect(getDeployKeyEndpoint.responses[200].schema.parse(JSON.parse(text)).deployKey).toEqual(second);
    expect(text).not.toContain("PRIVATE");
    expect(await auditText(team.id)).not.toContain("PRIVATE");

    const removed = await call(deleteDeployKeyRoute, `/api/v1/apps/${app.id}/deploy-key`, {
      method: "DELETE",
      token: write,
      params: { appId: app.id },
    });
    expect(removed.status).toBe(204);
    const gone = await call(getDeployKeyRoute, `/api/v1/apps/${app.id}/deploy-key`, {
      token: read,
      params: { appId: app.id },
    });
    expect(gone.status).toBe(404);
  });

  it("refuses a read token (403) and another team's app (404)", async () => {
    const { app, read } = await freshApp();
    expect((await errorOf(await postKey(app.id, read))).code).toBe("forbidden");
    const other = await freshApp();
    const response = await postKey(app.id, other.write);
    expect(response.status).toBe(404);
    expect(await getDb().deployKey.count({ where: { appId: app.id } })).toBe(0);
  });
});

describe("SSH repository URLs on deployments", () => {
  it("refuses an SSH URL (422, nothing queued) until the app has a deploy key, then queues it normalized", async () => {
    const { app, write } = await freshApp();
    const deploy = () =>
      call(createDeploymentRoute, `/api/v1/apps/${app.id}/deployments`, {
        method: "POST",
        token: write,
        body: { source: { type: "git", url: "git@github.com:acme/shop.git", ref: "main" } },
        params: { appId: app.id },
      });
    const refused = await deploy();
    expect(refused.status).toBe(422);
    expect((await errorOf(refused)).message).toMatch(/needs the app's deploy key/);
    expect(await getDb().deployment.count({ where: { appId: app.id } })).toBe(0);

    expect((await postKey(app.id, write)).status).toBe(201);
    const accepted = await deploy();
    expect(accepted.status).toBe(202);
    const row = await getDb().deployment.findFirstOrThrow({ where: { appId: app.id } });
    expect(row.gitUrl).toBe("ssh://git@github.com/acme/shop.git");
  });
});

describe("git host keys API", () => {
  async function recordKey(appId: string, keyType: string) {
    return getDb().gitHostKey.create({
      data: {
        appId,
        host: "git.example.org",
        port: 22,
        keyType,
        publicKey: randomBytes(32).toString("base64"),
        fingerprint: `SHA256:${randomBytes(32).toString("base64").replace(/=+$/, "")}`,
        source: "first_use",
      },
    });
  }

  it("lists in a constant number of queries, confirms, and forgets a key; other teams see none", async () => {
    const { app, write, read } = await freshApp();
    const list = () =>
      call(listHostKeysRoute, `/api/v1/apps/${app.id}/git-host-keys`, { token: read, params: { appId: app.id } });
    const key = await recordKey(app.id, "ssh-ed25519");
    await list(); // the token's first use records lastUsedAt once
    const one = await countQueries(list);
    await recordKey(app.id, "ssh-rsa");
    await recordKey(app.id, "ecdsa-sha2-nistp256");
    const many = await countQueries(list);
    expect(many.count).toBe(one.count);
    const items = listGitHostKeysEndpoint.responses[200].schema.parse(await many.result.json()).items;
    expect(items).toHaveLength(3);
    expect(items[0]).toMatchObject({ id: key.id, confirmed: false, confirmedAt: null, source: "first_use" });

    const other = await freshApp();
    const foreign = await call(confirmHostKeyRoute, `/api/v1/git-host-keys/${key.id}/confirm`, {
      method: "POST",
      token: other.write,
      params: { id: key.id },
    });
    expect(foreign.status).toBe(404);
    const refused = await call(confirmHostKeyRoute, `/api/v1/git-host-keys/${key.id}/confirm`, {
      method: "POST",
      token: read,
      params: { id: key.id },
    });
    expect(refused.status).toBe(403);

    const confirmed = await call(confirmHostKeyRoute, `/api/v1/git-host-keys/${key.id}/confirm`, {
      method: "POST",
      token: write,
      params: { id: key.id },
    });
    expect(confirmed.status).toBe(200);
    const hostKey = confirmGitHostKeyEndpoint.responses[200].schema.parse(await confirmed.json()).hostKey;
    expect(hostKey).toMatchObject({ id: key.id, confirmed: true, publicKey: `ssh-ed25519 ${key.publicKey}` });

    const forgotten = await call(deleteHostKeyRoute, `/api/v1/git-host-keys/${key.id}`, {
      method: "DELETE",
      token: write,
      params: { id: key.id },
    });
    expect(forgotten.status).toBe(204);
    expect(await getDb().gitHostKey.count({ where: { appId: app.id } })).toBe(2);
  });
});

describe("git token API", () => {
  function postToken(appId: string, token: string, body: unknown) {
    return call(postGitTokenRoute, `/api/v1/apps/${appId}/git-token`, {
      method: "POST",
      token,
      body,
      params: { appId },
    });
  }

  it("stores the token sealed, answers without it, and deletes it", async () => {
    const { app, team, write } = await freshApp();
    const secret = `glpat-${randomBytes(12).toString("hex")}`;
    const stored = await postToken(app.id, write, { token: secret });
    const text = await stored.text();
    expect(stored.status).toBe(200);
    expect(setGitTokenEndpoint.responses[200].schema.parse(JSON.parse(text)).gitToken.username).toBe("git");
    expect(text).not.toContain(secret);
    const row = await getDb().gitHttpsToken.findUniqueOrThrow({ where: { appId: app.id } });
    expect(row.tokenSealed).not.toContain(secret);
    expect(await auditText(team.id)).not.toContain(secret);

    const path1 = `/api/v1/apps/${app.id}/git-token`;
    const removed = await call(deleteGitTokenRoute, path1, {
      method: "DELETE",
      token: write,
      params: { appId: app.id },
    });
    expect(removed.status).toBe(204);
    const again = await call(deleteGitTokenRoute, path1, { method: "DELETE", token: write, params: { appId: app.id } });
    expect(again.status).toBe(404);
  });

  it.each([
    ["a newline (header injection)", { token: "abc\r\nX-Evil: 1" }],
    ["a space", { token: "abc def" }],
    ["an empty token", { token: "" }],
    ["a colon in the user name", { username: "a:b", token: "abc" }],
    ["an unknown field", { token: "abc", url: "https://x" }],
  ])("refuses %s (422) and stores nothing", async (_name, body) => {
    const { app, write } = await freshApp();
    const response = await postToken(app.id, write, body);
    expect(response.status).toBe(422);
    expect(await getDb().gitHttpsToken.count({ where: { appId: app.id } })).toBe(0);
  });
});
