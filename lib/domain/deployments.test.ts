// Deployments through their route handlers and the domain: numbering per app (also under concurrency), the build
// job, cancellation of older deployments, hostile git sources refused with no side effect, reading, listing,
// cancelling, the polled build log, and role checks.
import { randomBytes, randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  POST as createDeploymentRoute,
  GET as listDeploymentsRoute,
} from "@/app/api/v1/apps/[appId]/deployments/route";
import { POST as cancelRoute } from "@/app/api/v1/deployments/[id]/cancel/route";
import { GET as logsRoute } from "@/app/api/v1/deployments/[id]/logs/route";
import { GET as getDeploymentRoute } from "@/app/api/v1/deployments/[id]/route";
import {
  createDeploymentEndpoint,
  deploymentLogsEndpoint,
  getDeploymentEndpoint,
  listDeploymentsEndpoint,
} from "@/lib/api/endpoints/deployments";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import type { Ctx } from "@/lib/domain/context";
import { cancelDeployment, createDeployment, LOG_CHUNK_MAX_BYTES } from "@/lib/domain/deployments";
import type { TeamView } from "@/lib/domain/teams";
import { createUpload } from "@/lib/domain/uploads";
import { getEnv } from "@/lib/env";
import type { DeploymentStatus, Role } from "@/lib/generated/prisma/enums";
import { call, errorOf } from "@/test/api";
import { expectAppError } from "@/test/errors";
import { addMember, createTestTeam, createTestToken, createTestUser, userCtx } from "@/test/factories";
import { pendingJobs } from "@/test/helpers";
import { tarGz } from "@/test/tarball";

type LogChunk = { text: string; nextOffset: number; complete: boolean };

const REPO = "https://github.com/acme/shop.git";

function postDeployment(appId: string, token: string, body: unknown = {}): Promise<Response> {
  return call(createDeploymentRoute, `/api/v1/apps/${appId}/deployments`, {
    method: "POST",
    token,
    body,
    params: { appId },
  });
}

async function* chunks(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

async function buildJobsFor(deploymentIds: string[]): Promise<unknown[]> {
  return (await pendingJobs("deployment__build"))
    .map((job) => job.payload)
    .filter((payload) => deploymentIds.includes((payload as { deploymentId?: string }).deploymentId ?? ""));
}

describe("deployments", () => {
  let team: TeamView;
  let owner: Ctx;
  let write: string;
  let read: string;

  beforeAll(async () => {
    const user = await createTestUser();
    team = await createTestTeam(user.id);
    owner = await userCtx(user.id, team.id);
    write = await createTestToken(team.id, ["write"]);
    read = await createTestToken(team.id, ["read"]);
  });

  async function newApp(options: { git?: boolean } = {}): Promise<string> {
    const name = `dep-${randomBytes(4).toString("hex")}`;
    return (await createApp(getDb(), owner, { name, ...(options.git ? { source: { url: REPO } } : {}) })).id;
  }

  async function newUpload(): Promise<string> {
    // A readable .tar.gz (checked at upload time); the worker extracts and validates its content.
    return (await createUpload(getDb(), owner, chunks(await tarGz({ "app.py": "source" })))).id;
  }

  async function deployUpload(appId: string) {
    const response = await postDeployment(appId, write, { source: { type: "upload", uploadId: await newUpload() } });
    expect(response.status).toBe(202);
    return { response, body: createDeploymentEndpoint.responses[202].schema.parse(await response.json()) };
  }

  describe("POST /api/v1/apps/{appId}/deployments", () => {
    it("answers 202 with the deployment, the operation and its Location, and queues a build job of ids", async () => {
      const appId = await newApp();
      const uploadId = await newUpload();
      const response = await postDeployment(appId, write, { source: { type: "upload", uploadId } });
      expect(response.status).toBe(202);
      const { deployment, operation } = createDeploymentEndpoint.responses[202].schema.parse(await response.json());
      expect(response.headers.get("location")).toBe(`/api/v1/operations/${operation.id}`);
      expect(operation).toMatchObject({ kind: "app.deploy", status: "queued", targetId: deployment.id });
      expect(deployment).toMatchObject({
        appId,
        number: 1,
        status: "queued",
        source: { type: "upload", commitSha: null },
        plan: null,
        imageBuilt: false,
        error: null,
        cancelRequested: false,
        finishedAt: null,
      });
      expect(deployment.phases.map((phase) => [phase.name, phase.status])).toEqual([
        ["queued", "running"],
        ["fetching", "pending"],
        ["planning", "pending"],
        ["building", "pending"],
        ["releasing", "pending"],
      ]);
      const row = await getDb().deployment.findUniqueOrThrow({ where: { id: deployment.id } });
      expect(row).toMatchObject({ teamId: team.id, uploadId, operationId: operation.id, sourceType: "upload" });
      // Ids only: the worker reads everything else from the database, so nothing tenant-controlled sits in the queue.
      expect(await buildJobsFor([deployment.id])).toEqual([{ deploymentId: deployment.id, operationId: operation.id }]);
      expect((await getDb().app.findUniqueOrThrow({ where: { id: appId } })).status).toBe("deploying");
      const audit = await getDb().auditEvent.findFirst({ where: { targetId: deployment.id } });
      expect(audit).toMatchObject({ action: "deployment.created", metadata: { appId, number: 1, source: "upload" } });
    });

    it("numbers deployments per app and asks the older unfinished one to cancel", async () => {
      const appId = await newApp();
      const first = await deployUpload(appId);
      const second = await deployUpload(appId);
      expect(first.body.deployment.number).toBe(1);
      expect(second.body.deployment.number).toBe(2);
      expect(second.body.deployment.cancelRequested).toBe(false);
      const older = await getDb().deployment.findUniqueOrThrow({ where: { id: first.body.deployment.id } });
      expect(older.cancelRequestedAt).not.toBeNull();

      // Another app starts at 1 again.
      const otherApp = await newApp();
      expect((await deployUpload(otherApp)).body.deployment.number).toBe(1);
    });

    it("does not touch finished deployments when a new one starts", async () => {
      const appId = await newApp();
      const first = await deployUpload(appId);
      await getDb().deployment.update({ where: { id: first.body.deployment.id }, data: { status: "running" } });
      await deployUpload(appId);
      const older = await getDb().deployment.findUniqueOrThrow({ where: { id: first.body.deployment.id } });
      expect(older.cancelRequestedAt).toBeNull();
    });

    it("allocates distinct numbers to concurrent deployments of one app", async () => {
      const appId = await newApp();
      const uploads = [await newUpload(), await newUpload()];
      const responses = await Promise.all(
        uploads.map((uploadId) => postDeployment(appId, write, { source: { type: "upload", uploadId } })),
      );
      expect(responses.map((response) => response.status)).toEqual([202, 202]);
      const numbers = await Promise.all(
        responses.map(
          async (response) =>
            createDeploymentEndpoint.responses[202].schema.parse(await response.json()).deployment.number,
        ),
      );
      expect(numbers.sort((a, b) => a - b)).toEqual([1, 2]);
      const rows = await getDb().deployment.findMany({ where: { appId }, orderBy: { number: "asc" } });
      expect(rows.map((row) => row.number)).toEqual([1, 2]);
      // Whichever came second cancelled the first.
      expect(rows.filter((row) => row.cancelRequestedAt !== null).map((row) => row.number)).toEqual([1]);
    });

    it("deploys the app's own git source when no source is given", async () => {
      const appId = await newApp({ git: true });
      const response = await postDeployment(appId, write, {});
      expect(response.status).toBe(202);
      const { deployment } = createDeploymentEndpoint.responses[202].schema.parse(await response.json());
      expect(deployment.source).toMatchObject({ type: "git", url: REPO, ref: "main", commitSha: null });
    });

    it("uses a git URL and ref given in the body", async () => {
      const appId = await newApp();
      const response = await postDeployment(appId, write, {
        source: { type: "git", url: "https://gitlab.com/acme/other.git", ref: "feature/x" },
      });
      expect(response.status).toBe(202);
      const { deployment } = createDeploymentEndpoint.responses[202].schema.parse(await response.json());
      expect(deployment.source).toMatchObject({
        type: "git",
        url: "https://gitlab.com/acme/other.git",
        ref: "feature/x",
      });
    });

    it("refuses a deployment without a source on an app without a git source: 422, nothing created", async () => {
      const appId = await newApp();
      for (const body of [{}, { source: { type: "git" } }]) {
        const response = await postDeployment(appId, write, body);
        expect(response.status).toBe(422);
        expect((await errorOf(response)).code).toBe("invalid");
      }
      expect(await getDb().deployment.count({ where: { appId } })).toBe(0);
      expect((await getDb().app.findUniqueOrThrow({ where: { id: appId } })).status).toBe("created");
    });

    const hostileSources: [string, Record<string, string>][] = [
      ["plain http", { url: "http://github.com/acme/shop.git" }],
      ["a file URL", { url: "file:///etc" }],
      ["the ext:: helper", { url: "ext::sh -c id" }],
      ["an option as URL", { url: "--upload-pack=id" }],
      ["loopback", { url: "https://127.0.0.1/x.git" }],
      ["cloud metadata", { url: "https://169.254.169.254/" }],
      ["cloud metadata with a path", { url: "https://169.254.169.254/latest/meta-data" }],
      ["a private address", { url: "https://10.0.0.1/x" }],
      ["IPv6 loopback", { url: "https://[::1]/x.git" }],
      ["loopback spelled in hex", { url: "https://0x7f.1/x.git" }],
      ["localhost", { url: "https://localhost/x.git" }],
      ["an .internal name", { url: "https://metadata.google.internal/x" }],
      ["credentials", { url: "https://user:pass@github.com/x" }],
      ["ssh", { url: "ssh://git@github.com/acme/shop.git" }],
      ["an scp-style address", { url: "git@github.com:acme/shop.git" }],
      ["a ref that is an option", { url: REPO, ref: "-x" }],
      ["a ref with '..'", { url: REPO, ref: "a..b" }],
      ["a ref with a space", { url: REPO, ref: "a b" }],
      ["a ref that is an upload-pack option", { url: REPO, ref: "--upload-pack=id" }],
      ["a ref with a revision expression", { url: REPO, ref: "main@{1}" }],
    ];

    it.each(hostileSources)("refuses %s: 422, no deployment, no operation, no job", async (_label, source) => {
      const appId = await newApp();
      const jobs = (await pendingJobs("deployment__build")).length;
      const operations = await getDb().operation.count({ where: { teamId: team.id } });
      const response = await postDeployment(appId, write, { source: { type: "git", ...source } });
      expect(response.status).toBe(422);
      const error = await errorOf(response);
      expect(error.code).toBe("invalid");
      expect(await getDb().deployment.count({ where: { appId } })).toBe(0);
      expect(await getDb().operation.count({ where: { teamId: team.id } })).toBe(operations);
      expect((await pendingJobs("deployment__build")).length).toBe(jobs);
      expect((await getDb().app.findUniqueOrThrow({ where: { id: appId } })).status).toBe("created");
    });

    it("refuses a hostile source without cancelling the deployment already queued", async () => {
      const appId = await newApp();
      const first = await deployUpload(appId);
      const response = await postDeployment(appId, write, { source: { type: "git", url: "file:///etc" } });
      expect(response.status).toBe(422);
      const row = await getDb().deployment.findUniqueOrThrow({ where: { id: first.body.deployment.id } });
      expect(row.cancelRequestedAt).toBeNull();
    });

    it("answers 404 for an upload id that does not exist", async () => {
      const appId = await newApp();
      const response = await postDeployment(appId, write, { source: { type: "upload", uploadId: randomUUID() } });
      expect(response.status).toBe(404);
      expect(await getDb().deployment.count({ where: { appId } })).toBe(0);
    });

    it("refuses to deploy an app being deleted with 409", async () => {
      const appId = await newApp({ git: true });
      await getDb().app.update({ where: { id: appId }, data: { status: "deleting" } });
      const response = await postDeployment(appId, write, {});
      expect(response.status).toBe(409);
      expect(await getDb().deployment.count({ where: { appId } })).toBe(0);
    });
  });

  describe("reading deployments", () => {
    it("GET /deployments/{id} says whose a failure is (failureSide), and null while it has not failed", async () => {
      const appId = await newApp();
      const { body } = await deployUpload(appId);
      expect(body.deployment.failureSide).toBeNull();
      await getDb().deployment.update({
        where: { id: body.deployment.id },
        data: { status: "failed", failureSide: "operator", error: "The server could not fetch the base image" },
      });
      const response = await call(getDeploymentRoute, `/api/v1/deployments/${body.deployment.id}`, {
        token: read,
        params: { id: body.deployment.id },
      });
      const { deployment } = getDeploymentEndpoint.responses[200].schema.parse(await response.json());
      expect(deployment).toMatchObject({ status: "failed", failureSide: "operator" });
    });

    it("GET /deployments/{id} answers the deployment; another team's token gets 404", async () => {
      const appId = await newApp();
      const { body } = await deployUpload(appId);
      const response = await call(getDeploymentRoute, `/api/v1/deployments/${body.deployment.id}`, {
        token: read,
        params: { id: body.deployment.id },
      });
      expect(response.status).toBe(200);
      const { deployment } = getDeploymentEndpoint.responses[200].schema.parse(await response.json());
      expect(deployment).toEqual(body.deployment);

      const outsider = await createTestUser();
      const otherTeam = await createTestTeam(outsider.id);
      const theirs = await createTestToken(otherTeam.id, ["write"]);
      for (const [route, suffix] of [
        [getDeploymentRoute, ""],
        [logsRoute, "/logs"],
      ] as const) {
        const refused = await call(route, `/api/v1/deployments/${body.deployment.id}${suffix}`, {
          token: theirs,
          params: { id: body.deployment.id },
        });
        expect(refused.status).toBe(404);
      }
      const cancel = await call(cancelRoute, `/api/v1/deployments/${body.deployment.id}/cancel`, {
        method: "POST",
        token: theirs,
        params: { id: body.deployment.id },
      });
      expect(cancel.status).toBe(404);
      const row = await getDb().deployment.findUniqueOrThrow({ where: { id: body.deployment.id } });
      expect(row.cancelRequestedAt).toBeNull();
    });

    it("lists an app's deployments newest first, each exactly once across pages", async () => {
      const appId = await newApp();
      const ids: string[] = [];
      for (let index = 0; index < 5; index += 1) ids.push((await deployUpload(appId)).body.deployment.id);
      // Another app's deployment must not appear.
      await deployUpload(await newApp());

      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : "?limit=2";
        const response = await call(listDeploymentsRoute, `/api/v1/apps/${appId}/deployments${query}`, {
          token: read,
          params: { appId },
        });
        expect(response.status).toBe(200);
        const page = listDeploymentsEndpoint.responses[200].schema.parse(await response.json());
        seen.push(...page.items.map((item) => item.id));
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor && pages < 20);
      expect(pages).toBe(3);
      expect(new Set(seen)).toEqual(new Set(ids));
      expect(seen).toHaveLength(5);
      const numbers = await getDb().deployment.findMany({
        where: { id: { in: seen } },
        select: { id: true, number: true },
      });
      const numberOf = new Map(numbers.map((row) => [row.id, row.number]));
      expect(seen.map((id) => numberOf.get(id))).toEqual([5, 4, 3, 2, 1]);
    });
  });

  describe("POST /api/v1/deployments/{id}/cancel", () => {
    const cancel = (id: string, token = write) =>
      call(cancelRoute, `/api/v1/deployments/${id}/cancel`, { method: "POST", token, params: { id } });

    // "built": its release has not started yet, and refuses to once a cancel is asked for (#18).
    it.each<DeploymentStatus>(["queued", "building", "built"])("cancels a %s deployment with 200", async (status) => {
      const { body } = await deployUpload(await newApp());
      await getDb().deployment.update({ where: { id: body.deployment.id }, data: { status } });
      const response = await cancel(body.deployment.id);
      expect(response.status).toBe(200);
      const { deployment } = getDeploymentEndpoint.responses[200].schema.parse(await response.json());
      expect(deployment.cancelRequested).toBe(true);
      const audit = await getDb().auditEvent.findFirst({
        where: { targetId: body.deployment.id, action: "deployment.cancel_requested" },
      });
      expect(audit).not.toBeNull();
    });

    it.each<DeploymentStatus>(["releasing", "running", "failed", "superseded", "cancelled"])(
      "refuses to cancel a %s deployment with 409, saying why, and changes nothing",
      async (status) => {
        const { body } = await deployUpload(await newApp());
        await getDb().deployment.update({ where: { id: body.deployment.id }, data: { status } });
        const response = await cancel(body.deployment.id);
        expect(response.status).toBe(409);
        const error = await errorOf(response);
        expect(error.code).toBe("conflict");
        expect(error.message).toMatch(
          status === "releasing" || status === "running" ? /too late to cancel.*release.*started/i : /already ended/,
        );
        const row = await getDb().deployment.findUniqueOrThrow({ where: { id: body.deployment.id } });
        expect(row.cancelRequestedAt).toBeNull();
      },
    );

    it("refuses a read token with 403", async () => {
      const { body } = await deployUpload(await newApp());
      expect((await cancel(body.deployment.id, read)).status).toBe(403);
      const row = await getDb().deployment.findUniqueOrThrow({ where: { id: body.deployment.id } });
      expect(row.cancelRequestedAt).toBeNull();
    });
  });

  describe("GET /api/v1/deployments/{id}/logs", () => {
    const logFile = (id: string) => path.join(getEnv().dataDir, "logs", "deployments", `${id}.log`);

    async function writeLog(id: string, text: string | Buffer, options: { append?: boolean } = {}): Promise<void> {
      await fs.mkdir(path.dirname(logFile(id)), { recursive: true });
      if (options.append) await fs.appendFile(logFile(id), text);
      else await fs.writeFile(logFile(id), text);
    }

    async function poll(id: string, offset: number): Promise<LogChunk> {
      const response = await call(logsRoute, `/api/v1/deployments/${id}/logs?offset=${offset}`, {
        token: read,
        params: { id },
      });
      expect(response.status).toBe(200);
      return deploymentLogsEndpoint.responses[200].schema.parse(await response.json());
    }

    /** Polls like a client until `complete`, bounded so that a log that never completes fails the test. */
    async function readToEnd(id: string): Promise<{ text: string; polls: number }> {
      let text = "";
      let offset = 0;
      let polls = 0;
      for (;;) {
        const chunk = await poll(id, offset);
        text += chunk.text;
        offset = chunk.nextOffset;
        polls += 1;
        if (chunk.complete || polls >= 10) return { text, polls };
      }
    }

    it("answers an empty, incomplete chunk before any log exists", async () => {
      const { body } = await deployUpload(await newApp());
      expect(await poll(body.deployment.id, 0)).toEqual({ text: "", nextOffset: 0, complete: false });
    });

    it("returns the file's contents, and never half a line while the build runs", async () => {
      const { body } = await deployUpload(await newApp());
      const id = body.deployment.id;
      const lines = ["Step 1/3: fetching source\n", "Step 2/3: planning – Python 3.12 ✓\n", "Step 3/3: building\n"];
      // The third line is still being written: the reader must stop after the second.
      await writeLog(id, `${lines[0]}${lines[1]}${(lines[2] ?? "").slice(0, 7)}`);
      const first = await poll(id, 0);
      expect(first).toEqual({
        text: `${lines[0]}${lines[1]}`,
        nextOffset: Buffer.byteLength(`${lines[0]}${lines[1]}`),
        complete: false,
      });
      // Nothing new yet: the same offset comes back.
      expect(await poll(id, first.nextOffset)).toEqual({ text: "", nextOffset: first.nextOffset, complete: false });

      await writeLog(id, (lines[2] ?? "").slice(7), { append: true });
      const second = await poll(id, first.nextOffset);
      expect(second.text).toBe(lines[2]);
      expect(first.text + second.text).toBe(lines.join(""));
      expect(second.nextOffset).toBe(Buffer.byteLength(lines.join("")));
      expect(second.complete).toBe(false);

      // Once the deployment has finished, the log is complete.
      await getDb().deployment.update({ where: { id }, data: { status: "failed" } });
      expect(await poll(id, second.nextOffset)).toEqual({ text: "", nextOffset: second.nextOffset, complete: true });
    });

    it("returns a final line without a newline once the deployment has finished", async () => {
      const { body } = await deployUpload(await newApp());
      const id = body.deployment.id;
      await writeLog(id, "line one\nline two\nerror: build failed");
      await getDb().deployment.update({ where: { id }, data: { status: "failed" } });
      expect(await readToEnd(id)).toEqual({ text: "line one\nline two\nerror: build failed", polls: 1 });
    });

    it("does not report complete before the reader has the whole log of a finished deployment", async () => {
      const { body } = await deployUpload(await newApp());
      const id = body.deployment.id;
      // The first chunk ends exactly on a newline at the chunk size, and more follows.
      const line = `${"x".repeat(1023)}\n`;
      const full = `${line.repeat(LOG_CHUNK_MAX_BYTES / line.length)}the last line\n`;
      await writeLog(id, full);
      await getDb().deployment.update({ where: { id }, data: { status: "failed" } });
      const { text } = await readToEnd(id);
      expect(text.length).toBe(full.length);
      expect(text).toBe(full);
    });

    it("never splits a UTF-8 character across polls, even in a line longer than a chunk", async () => {
      const { body } = await deployUpload(await newApp());
      const id = body.deployment.id;
      // One ASCII byte, then two-byte characters: the chunk boundary falls in the middle of one.
      const full = `a${"é".repeat(LOG_CHUNK_MAX_BYTES)}\nend\n`;
      await writeLog(id, full);
      await getDb().deployment.update({ where: { id }, data: { status: "failed" } });
      const { text } = await readToEnd(id);
      expect(text.includes("\ufffd")).toBe(false);
      expect(text).toBe(full);
    });

    it("refuses a negative or non-numeric offset with 422", async () => {
      const { body } = await deployUpload(await newApp());
      for (const offset of ["-1", "abc", "1.5"]) {
        const response = await call(logsRoute, `/api/v1/deployments/${body.deployment.id}/logs?offset=${offset}`, {
          token: read,
          params: { id: body.deployment.id },
        });
        expect(response.status).toBe(422);
      }
    });
  });

  describe("roles in the domain", () => {
    async function ctxWithRole(role: Role): Promise<Ctx> {
      const user = await createTestUser();
      await addMember(team.id, user.id, role);
      return await userCtx(user.id, team.id);
    }

    it("refuses a viewer createDeployment and cancelDeployment: forbidden, nothing created or changed", async () => {
      const appId = await newApp({ git: true });
      const viewer = await ctxWithRole("viewer");
      const jobs = (await pendingJobs("deployment__build")).length;
      await expectAppError(createDeployment(getDb(), viewer, appId, undefined), "forbidden");
      expect(await getDb().deployment.count({ where: { appId } })).toBe(0);
      expect((await pendingJobs("deployment__build")).length).toBe(jobs);

      const { deployment } = await createDeployment(getDb(), owner, appId, undefined);
      await expectAppError(cancelDeployment(getDb(), viewer, deployment.id), "forbidden");
      const row = await getDb().deployment.findUniqueOrThrow({ where: { id: deployment.id } });
      expect(row.cancelRequestedAt).toBeNull();
      expect(await getDb().auditEvent.count({ where: { requestId: viewer.meta.requestId } })).toBe(0);
    });

    it("lets a member deploy and cancel, recording who deployed", async () => {
      const appId = await newApp({ git: true });
      const member = await ctxWithRole("member");
      const { deployment, operation } = await createDeployment(getDb(), member, appId, undefined);
      expect(deployment.number).toBe(1);
      expect(await buildJobsFor([deployment.id])).toEqual([{ deploymentId: deployment.id, operationId: operation.id }]);
      const row = await getDb().deployment.findUniqueOrThrow({ where: { id: deployment.id } });
      expect(row.createdBy).toBe(member.actor.type === "user" ? member.actor.userId : null);
      expect((await cancelDeployment(getDb(), member, deployment.id)).cancelRequested).toBe(true);
    });

    it("answers not_found to another team's member for an app of this team", async () => {
      const appId = await newApp({ git: true });
      const stranger = await createTestUser();
      const otherTeam = await createTestTeam(stranger.id);
      const intruder = await userCtx(stranger.id, otherTeam.id);
      await expectAppError(createDeployment(getDb(), intruder, appId, undefined), "not_found");
      expect(await getDb().deployment.count({ where: { appId } })).toBe(0);
    });
  });
});
