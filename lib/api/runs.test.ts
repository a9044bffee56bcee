// The cron and runs API through its route handlers: answer shapes (parsed with the endpoint schemas), PUT/GET of the
// cron set with 422 naming the bad field, POST a run → 202 {run, operation} with Location, audited with the command
// and the actor, 409 without a release and past the concurrent run quota, GET one, its logs by offset and tail,
// cancel (409 once ended), the list paginated with signed cursors in a constant number of queries, 404 across teams,
// read tokens refused.

import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { GET as getCronRoute, PUT as putCronRoute } from "@/app/api/v1/apps/[appId]/cron/route";
import { POST as createRunRoute, GET as listRunsRoute } from "@/app/api/v1/apps/[appId]/runs/route";
import { POST as cancelRunRoute } from "@/app/api/v1/runs/[id]/cancel/route";
import { GET as runLogsRoute } from "@/app/api/v1/runs/[id]/logs/route";
import { GET as getRunRoute } from "@/app/api/v1/runs/[id]/route";
import {
  cancelRunEndpoint,
  createRunEndpoint,
  getCronEndpoint,
  getRunEndpoint,
  listRunsEndpoint,
  putCronEndpoint,
  runLogsEndpoint,
} from "@/lib/api/endpoints/runs";
import { runLogPath } from "@/lib/data-paths";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import { getEnv } from "@/lib/env";
import { call, errorOf } from "@/test/api";
import { createTestTeam, createTestToken, createTestUser, userCtx } from "@/test/factories";
import { pendingJobs } from "@/test/helpers";

async function freshApp(options: { released?: boolean } = {}) {
  const user = await createTestUser();
  const team = await createTestTeam(user.id);
  const app = await createApp(getDb(), await userCtx(user.id, team.id), {
    name: `web-${randomBytes(3).toString("hex")}`,
  });
  if (options.released !== false) {
    const deployment = await getDb().deployment.create({
      data: { appId: app.id, teamId: team.id, number: 1, status: "running", sourceType: "upload" },
    });
    await getDb().app.update({ where: { id: app.id }, data: { currentDeploymentId: deployment.id } });
  }
  return {
    team,
    app,
    write: await createTestToken(team.id, ["write"]),
    read: await createTestToken(team.id, ["read"]),
  };
}

function postRun(appId: string, token: string, body: unknown) {
  return call(createRunRoute, `/api/v1/apps/${appId}/runs`, { method: "POST", token, body, params: { appId } });
}

describe("cron API", () => {
  it("PUT replaces the set and GET answers it; a bad schedule or zone is 422 naming the field; read tokens 403", async () => {
    const { app, write, read } = await freshApp();
    const body = {
      jobs: [
        {
          name: "nightly",
          schedule: "0 3 * * *",
          command: "python manage.py clearsessions",
          timezone: "Europe/Stockholm",
          timeoutSeconds: 600,
        },
      ],
    };
    const put = await call(putCronRoute, `/api/v1/apps/${app.id}/cron`, {
      method: "PUT",
      token: write,
      body,
      params: { appId: app.id },
    });
    expect(put.status).toBe(200);
    const { jobs } = putCronEndpoint.responses[200].schema.parse(await put.json());
    expect(jobs).toEqual([expect.objectContaining({ ...body.jobs[0], enabled: true })]);
    expect(jobs[0]?.nextRunAt).toEqual(expect.any(String));

    const got = await call(getCronRoute, `/api/v1/apps/${app.id}/cron`, { token: read, params: { appId: app.id } });
    expect(getCronEndpoint.responses[200].schema.parse(await got.json()).jobs.map((job) => job.name)).toEqual([
      "nightly",
    ]);

    for (const [job, field] of [
      [{ name: "a", schedule: "61 * * * *", command: "x" }, "jobs.0.schedule"],
      [{ name: "a", schedule: "@daily", command: "x", timezone: "Nowhere/Land" }, "jobs.0.timezone"],
      [{ name: "A B", schedule: "@daily", command: "x" }, "jobs.0.name"],
      [{ name: "a", schedule: "@daily", command: "x", extra: 1 }, "jobs.0"],
    ] as const) {
      const refused = await call(putCronRoute, `/api/v1/apps/${app.id}/cron`, {
        method: "PUT",
        token: write,
        body: { jobs: [job] },
        params: { appId: app.id },
      });
      expect(refused.status).toBe(422);
      expect((await errorOf(refused)).details?.[0]?.path).toBe(field);
    }
    const readOnly = await call(putCronRoute, `/api/v1/apps/${app.id}/cron`, {
      method: "PUT",
      token: read,
      body,
      params: { appId: app.id },
    });
    expect(readOnly.status).toBe(403);
  });
});

describe("runs API", () => {
  it("POST queues a run (202, run + operation, Location), audited with the command and the actor", async () => {
    const { app, team, write } = await freshApp();
    const response = await postRun(app.id, write, { command: "python manage.py migrate", timeoutSeconds: 120 });
    expect(response.status).toBe(202);
    const { run, operation } = createRunEndpoint.responses[202].schema.parse(await response.json());
    expect(run).toMatchObject({
      appId: app.id,
      kind: "oneoff",
      cronJob: null,
      command: "python manage.py migrate",
      status: "queued",
      exitCode: null,
      timeoutSeconds: 120,
    });
    expect(operation).toMatchObject({ kind: "app.run", status: "queued", targetId: run.id });
    expect(response.headers.get("location")).toBe(`/api/v1/runs/${run.id}`);
    const jobs = await pendingJobs("run__execute");
    expect(jobs.filter((job) => (job.payload as { runId: string }).runId === run.id)).toHaveLength(1);
    const [audit] = await getDb().auditEvent.findMany({ where: { teamId: team.id, action: "run.create" } });
    expect(audit).toMatchObject({ actorType: "token", targetId: run.id });
    expect(audit?.metadata).toMatchObject({ command: "python manage.py migrate", appId: app.id });

    const shown = await call(getRunRoute, `/api/v1/runs/${run.id}`, { token: write, params: { id: run.id } });
    expect(getRunEndpoint.responses[200].schema.parse(await shown.json()).run.id).toBe(run.id);
    const stranger = await freshApp();
    const hidden = await call(getRunRoute, `/api/v1/runs/${run.id}`, { token: stranger.read, params: { id: run.id } });
    expect(hidden.status).toBe(404);
  });

  it("answers 409 without a release, 409 past the concurrent run quota, 422 past the maximum time limit", async () => {
    const bare = await freshApp({ released: false });
    const noRelease = await postRun(bare.app.id, bare.write, { command: "true" });
    expect(noRelease.status).toBe(409);
    expect((await errorOf(noRelease)).code).toBe("conflict");

    const { app, write, read } = await freshApp();
    expect((await postRun(app.id, write, { command: "true", timeoutSeconds: 3601 })).status).toBe(422);
    expect((await postRun(app.id, write, { command: "a\u0000b" })).status).toBe(422);
    expect((await postRun(app.id, read, { command: "true" })).status).toBe(403);
    expect((await postRun(app.id, write, { command: "one" })).status).toBe(202);
    expect((await postRun(app.id, write, { command: "two" })).status).toBe(202);
    const third = await postRun(app.id, write, { command: "three" });
    expect(third.status).toBe(409);
    expect(await errorOf(third)).toMatchObject({ code: "quota_exceeded" });
    expect(await getDb().run.count({ where: { appId: app.id } })).toBe(2);
  });

  it("serves the output by offset and by tail, and cancels once (409 after)", async () => {
    const { app, write } = await freshApp();
    const { run } = createRunEndpoint.responses[202].schema.parse(
      await (await postRun(app.id, write, { command: "seq 3" })).json(),
    );
    const file = runLogPath(getEnv().dataDir, run.id);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, "1\n2\n3\npartial");
    const logs = (query: string) =>
      call(runLogsRoute, `/api/v1/runs/${run.id}/logs${query}`, { token: write, params: { id: run.id } });
    const first = runLogsEndpoint.responses[200].schema.parse(await (await logs("")).json());
    expect(first).toEqual({ text: "1\n2\n3\n", nextOffset: 6, complete: false });
    const tail = runLogsEndpoint.responses[200].schema.parse(await (await logs("?tail=2")).json());
    expect(tail).toEqual({ text: "2\n3\n", nextOffset: 6, complete: false });

    const cancel = () =>
      call(cancelRunRoute, `/api/v1/runs/${run.id}/cancel`, { method: "POST", token: write, params: { id: run.id } });
    const cancelled = await cancel();
    expect(cancelRunEndpoint.responses[200].schema.parse(await cancelled.json()).run.status).toBe("cancelled");
    expect((await cancel()).status).toBe(409);
    // Ended: the last line counts without its newline and the log is complete.
    const rest = runLogsEndpoint.responses[200].schema.parse(await (await logs("?offset=6")).json());
    expect(rest).toEqual({ text: "partial", nextOffset: 13, complete: true });
  });

  it("lists one-off and cron runs newest first, by signed cursor, in the same number of queries for 1 or 6", async () => {
    const { app, team, read } = await freshApp();
    const seed = (count: number) =>
      getDb().run.createMany({
        data: Array.from({ length: count }, (_, i) => ({
          appId: app.id,
          teamId: team.id,
          kind: i % 2 === 0 ? ("oneoff" as const) : ("cron" as const),
          command: `cmd ${i}`,
          status: "succeeded" as const,
          timeoutSeconds: 60,
          createdAt: new Date(Date.UTC(2030, 0, 1, 0, i)),
        })),
      });
    const list = (query = "") =>
      call(listRunsRoute, `/api/v1/apps/${app.id}/runs${query}`, { token: read, params: { appId: app.id } });
    await seed(1);
    // The token's first use records its last-used time: warm it up so both counts see the same request.
    await list();
    const one = await countQueries(() => list());
    await getDb().run.deleteMany({ where: { appId: app.id } });
    await seed(6);
    const many = await countQueries(() => list());
    expect(many.count).toBe(one.count);
    const page = listRunsEndpoint.responses[200].schema.parse(await many.result.json());
    expect(page.items.map((run) => run.command)).toEqual(["cmd 5", "cmd 4", "cmd 3", "cmd 2", "cmd 1", "cmd 0"]);

    const first = listRunsEndpoint.responses[200].schema.parse(await (await list("?limit=4")).json());
    expect(first.items).toHaveLength(4);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = listRunsEndpoint.responses[200].schema.parse(
      await (await list(`?limit=4&cursor=${encodeURIComponent(first.nextCursor ?? "")}`)).json(),
    );
    expect(second.items.map((run) => run.command)).toEqual(["cmd 1", "cmd 0"]);
    expect(second.nextCursor).toBe(null);
    expect((await list("?cursor=forged")).status).toBe(422);
  });
});
