// Source tarball uploads through POST /api/v1/uploads and the domain: a real .tar.gz is stored with its size and
// hash; anything else (not gzip, wrong Content-Type, over the limit) is refused with no file left behind; another
// team cannot deploy it; viewers cannot upload.
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { POST as createDeploymentRoute } from "@/app/api/v1/apps/[appId]/deployments/route";
import { POST as uploadRoute } from "@/app/api/v1/uploads/route";
import { createUploadEndpoint } from "@/lib/api/endpoints/apps";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import type { Ctx } from "@/lib/domain/context";
import type { TeamView } from "@/lib/domain/teams";
import { createUpload, UPLOAD_TTL_MS } from "@/lib/domain/uploads";
import { getEnv, resetEnvForTests } from "@/lib/env";
import type { Role } from "@/lib/generated/prisma/enums";
import { call, errorOf } from "@/test/api";
import { expectAppError } from "@/test/errors";
import { addMember, createTestTeam, createTestToken, createTestUser, userCtx } from "@/test/factories";

const run = promisify(execFile);

/**
 * A real source tarball made by tar(1): a tiny Python app. `gzip: false` gives a plain, uncompressed tar; `data`
 * adds a file with these bytes (random bytes make a big archive, since they do not compress).
 */
async function tarball(options: { gzip?: boolean; data?: Buffer } = {}): Promise<Buffer> {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), "uploads-test-src-"));
  try {
    await fs.writeFile(path.join(directory, "app.py"), "def app(environ, start_response):\n    return [b'ok']\n");
    await fs.writeFile(path.join(directory, "requirements.txt"), "gunicorn\n");
    if (options.data) await fs.writeFile(path.join(directory, "data.bin"), options.data);
    const archive = path.join(directory, "..", `${path.basename(directory)}.tar${options.gzip === false ? "" : ".gz"}`);
    await run("tar", [options.gzip === false ? "-cf" : "-czf", archive, "-C", directory, "--", "."]);
    try {
      return await fs.readFile(archive);
    } finally {
      await fs.rm(archive, { force: true });
    }
  } finally {
    await fs.rm(directory, { recursive: true, force: true });
  }
}

function upload(token: string, body: Uint8Array | null, headers: Record<string, string> = {}): Promise<Response> {
  return call(uploadRoute, "/api/v1/uploads", {
    method: "POST",
    token,
    ...(body === null ? {} : { body }),
    headers: { "content-type": "application/gzip", ...headers },
  });
}

function deploy(appId: string, token: string, uploadId: string): Promise<Response> {
  return call(createDeploymentRoute, `/api/v1/apps/${appId}/deployments`, {
    method: "POST",
    token,
    body: { source: { type: "upload", uploadId } },
    params: { appId },
  });
}

function uploadsDir(): string {
  return path.join(getEnv().dataDir, "uploads");
}

/** Everything in the uploads folder, partial files included; none at all before the first upload. */
async function storedFiles(): Promise<string[]> {
  try {
    return (await fs.readdir(uploadsDir())).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}

async function* chunks(...parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield part;
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

describe("uploads", () => {
  let team: TeamView;
  let owner: Ctx;
  let write: string;

  beforeAll(async () => {
    const user = await createTestUser();
    team = await createTestTeam(user.id);
    owner = await userCtx(user.id, team.id);
    write = await createTestToken(team.id, ["write"]);
  });

  afterEach(() => {
    delete process.env.TUSSILAGO_UPLOAD_MAX_MB;
    resetEnvForTests();
  });

  describe("POST /api/v1/uploads", () => {
    it("stores a real .tar.gz: 201 with id, size and the SHA-256 of the bytes, expiring in a day", async () => {
      const bytes = await tarball();
      const before = Date.now();
      const response = await upload(write, bytes);
      const after = Date.now();
      expect(response.status).toBe(201);
      const body = createUploadEndpoint.responses[201].schema.parse(await response.json());
      expect(body.upload.sizeBytes).toBe(bytes.length);
      expect(body.upload.sha256).toBe(sha256(bytes));
      const expiresAt = new Date(body.upload.expiresAt).getTime();
      expect(expiresAt).toBeGreaterThanOrEqual(before + UPLOAD_TTL_MS);
      expect(expiresAt).toBeLessThanOrEqual(after + UPLOAD_TTL_MS);

      expect(await fs.readFile(path.join(uploadsDir(), `${body.upload.id}.tar.gz`))).toEqual(bytes);
      expect((await storedFiles()).filter((name) => name.endsWith(".partial"))).toEqual([]);
      const row = await getDb().upload.findUniqueOrThrow({ where: { id: body.upload.id } });
      expect(row).toMatchObject({ teamId: team.id, sizeBytes: bytes.length, sha256: sha256(bytes), createdBy: null });
      const audit = await getDb().auditEvent.findFirst({ where: { targetId: body.upload.id } });
      expect(audit).toMatchObject({ action: "upload.created", teamId: team.id, metadata: { sizeBytes: bytes.length } });
      // The response names no host path.
      expect(JSON.stringify(body)).not.toContain(getEnv().dataDir);
    });

    it.each(["application/x-gzip", "application/octet-stream", "application/gzip; charset=binary"])(
      "accepts Content-Type %s",
      async (type) => {
        const response = await upload(write, await tarball(), { "content-type": type });
        expect(response.status).toBe(201);
      },
    );

    it("refuses a plain (uncompressed) tar with 422, leaving no file and no row", async () => {
      const files = await storedFiles();
      const rows = await getDb().upload.count();
      const response = await upload(write, await tarball({ gzip: false }));
      expect(response.status).toBe(422);
      expect((await errorOf(response)).code).toBe("invalid");
      expect(await storedFiles()).toEqual(files);
      expect(await getDb().upload.count()).toBe(rows);
    });

    it.each([
      ["text", Buffer.from("#!/bin/sh\nid\n")],
      ["a single gzip magic byte", Buffer.from([0x1f])],
      ["an empty body", Buffer.alloc(0)],
    ])("refuses %s with a 4xx, leaving no file and no row", async (_label, bytes) => {
      const files = await storedFiles();
      const rows = await getDb().upload.count();
      const response = await upload(write, bytes);
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(await storedFiles()).toEqual(files);
      expect(await getDb().upload.count()).toBe(rows);
    });

    it.each([
      ["application/json", { "content-type": "application/json" }],
      ["text/plain", { "content-type": "text/plain" }],
      ["multipart/form-data", { "content-type": "multipart/form-data; boundary=x" }],
      ["a look-alike (application/gzipx)", { "content-type": "application/gzipx" }],
    ])("refuses Content-Type %s with 415, leaving no file and no row", async (_label, headers) => {
      const files = await storedFiles();
      const rows = await getDb().upload.count();
      const response = await upload(write, await tarball(), headers);
      // The handler refuses a media type the endpoint does not read (lib/api/handler.ts, issue #22 part A).
      expect(response.status).toBe(415);
      expect((await errorOf(response)).code).toBe("unsupported_media_type");
      expect(await storedFiles()).toEqual(files);
      expect(await getDb().upload.count()).toBe(rows);
    });

    it("refuses a body over the limit with 413 while streaming, leaving no file and no row", async () => {
      process.env.TUSSILAGO_UPLOAD_MAX_MB = "1";
      resetEnvForTests();
      // Random bytes do not compress: a valid .tar.gz well over 1 MiB.
      const bytes = await tarball({ data: randomBytes(1536 * 1024) });
      expect(bytes.length).toBeGreaterThan(1024 * 1024);
      const files = await storedFiles();
      const rows = await getDb().upload.count();
      const response = await upload(write, bytes);
      expect(response.status).toBe(413);
      expect((await errorOf(response)).code).toBe("too_large");
      expect(await storedFiles()).toEqual(files);
      expect(await getDb().upload.count()).toBe(rows);
    });

    it("refuses a declared Content-Length over the limit with 413 before reading", async () => {
      process.env.TUSSILAGO_UPLOAD_MAX_MB = "1";
      resetEnvForTests();
      const files = await storedFiles();
      const response = await upload(write, await tarball(), { "content-length": String(2 * 1024 * 1024) });
      expect(response.status).toBe(413);
      expect(await storedFiles()).toEqual(files);
    });

    it("accepts exactly the limit", async () => {
      process.env.TUSSILAGO_UPLOAD_MAX_MB = "1";
      resetEnvForTests();
      const limit = 1024 * 1024;
      const head = await tarball({ data: randomBytes(900 * 1024) });
      // A real .tar.gz padded with zeros to exactly the limit (readers stop at the archive's end marker).
      const bytes = Buffer.concat([head, Buffer.alloc(limit - head.length)]);
      const response = await upload(write, bytes);
      expect(response.status).toBe(201);
    });

    it.each([
      ["gzip data that is not a tar archive", () => gzipSync(Buffer.from("#!/bin/sh\nid\n".repeat(200)))],
      ["the gzip magic followed by garbage", () => Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08]), randomBytes(4096)])],
      ["a .tar.gz cut short", async () => (await tarball({ data: randomBytes(64 * 1024) })).subarray(0, 30 * 1024)],
      [
        "a gzip stream whose tar ends without its end marker",
        async () => gzipSync((await tarball({ gzip: false })).subarray(0, 1024)),
      ],
    ])("refuses %s at upload time with 422 and a clear message, leaving no file and no row", async (_label, make) => {
      const bytes = await make();
      const files = await storedFiles();
      const rows = await getDb().upload.count();
      const response = await upload(write, bytes);
      expect(response.status).toBe(422);
      const error = await errorOf(response);
      expect(error.code).toBe("invalid");
      expect(error.message).toMatch(/tar|gzip|archive/i);
      expect(error.message).not.toContain(getEnv().dataDir);
      expect(await storedFiles()).toEqual(files);
      expect(await getDb().upload.count()).toBe(rows);
    });

    it("refuses a read token with 403 and leaves no file", async () => {
      const read = await createTestToken(team.id, ["read"]);
      const files = await storedFiles();
      const response = await upload(read, await tarball());
      expect(response.status).toBe(403);
      expect(await storedFiles()).toEqual(files);
    });
  });

  describe("deploying an upload", () => {
    it("lets the uploading team deploy it and answers 404 to another team, creating nothing there", async () => {
      const response = await upload(write, await tarball());
      const { upload: stored } = createUploadEndpoint.responses[201].schema.parse(await response.json());

      const ours = await createApp(getDb(), owner, { name: `up-${randomBytes(4).toString("hex")}` });
      expect((await deploy(ours.id, write, stored.id)).status).toBe(202);

      const stranger = await createTestUser();
      const otherTeam = await createTestTeam(stranger.id);
      const theirCtx = await userCtx(stranger.id, otherTeam.id);
      const theirs = await createApp(getDb(), theirCtx, { name: `up-${randomBytes(4).toString("hex")}` });
      const theirToken = await createTestToken(otherTeam.id, ["write"]);
      const refused = await deploy(theirs.id, theirToken, stored.id);
      expect(refused.status).toBe(404);
      expect((await errorOf(refused)).code).toBe("not_found");
      expect(await getDb().deployment.count({ where: { appId: theirs.id } })).toBe(0);
      expect(await getDb().operation.count({ where: { teamId: otherTeam.id } })).toBe(0);
    });

    it("refuses an expired upload with 422", async () => {
      const response = await upload(write, await tarball());
      const { upload: stored } = createUploadEndpoint.responses[201].schema.parse(await response.json());
      await getDb().upload.update({ where: { id: stored.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
      const app = await createApp(getDb(), owner, { name: `exp-${randomBytes(4).toString("hex")}` });
      expect((await deploy(app.id, write, stored.id)).status).toBe(422);
      expect(await getDb().deployment.count({ where: { appId: app.id } })).toBe(0);
    });
  });

  describe("createUpload in the domain", () => {
    async function ctxWithRole(role: Role): Promise<Ctx> {
      const user = await createTestUser();
      await addMember(team.id, user.id, role);
      return await userCtx(user.id, team.id);
    }

    it("refuses a viewer: forbidden, no file, no row, no audit", async () => {
      const viewer = await ctxWithRole("viewer");
      const files = await storedFiles();
      const rows = await getDb().upload.count();
      await expectAppError(createUpload(getDb(), viewer, chunks(await tarball())), "forbidden");
      expect(await storedFiles()).toEqual(files);
      expect(await getDb().upload.count()).toBe(rows);
      expect(await getDb().auditEvent.count({ where: { requestId: viewer.meta.requestId } })).toBe(0);
    });

    it("lets a member upload, recording who did, and reads the gzip magic across chunk boundaries", async () => {
      const member = await ctxWithRole("member");
      const bytes = await tarball();
      // The two magic bytes arrive in separate chunks, then the rest in small pieces.
      const parts = [bytes.subarray(0, 1), bytes.subarray(1, 2), bytes.subarray(2, 100), bytes.subarray(100)];
      const view = await createUpload(getDb(), member, chunks(...parts));
      expect(view).toMatchObject({ sizeBytes: bytes.length, sha256: sha256(bytes) });
      expect(await fs.readFile(path.join(uploadsDir(), `${view.id}.tar.gz`))).toEqual(bytes);
      const row = await getDb().upload.findUniqueOrThrow({ where: { id: view.id } });
      expect(row.createdBy).toBe(member.actor.type === "user" ? member.actor.userId : null);
    });

    it("refuses a missing body with bad_request and no file", async () => {
      const files = await storedFiles();
      await expectAppError(createUpload(getDb(), owner, null), "bad_request");
      expect(await storedFiles()).toEqual(files);
    });
  });
});
