// Log filters and search over the kept runtime logs (#17): process type, replica, plain-text case-insensitive search
// (pattern characters are literal), a time range, the download, the API's query rules, and the scan bound.
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { GET as logsRoute } from "@/app/api/v1/apps/[appId]/logs/route";
import { type AppLogLine, encodeAppLogLine, readAppLogLines, SEARCH_WINDOW_BYTES } from "@/lib/app-log-file";
import { appLogPath } from "@/lib/data-paths";
import { getDb } from "@/lib/db";
import { downloadAppLogs } from "@/lib/domain/app-logs";
import { createApp } from "@/lib/domain/apps";
import { getEnv } from "@/lib/env";
import { call } from "@/test/api";
import { createTestTeam, createTestToken, createTestUser, userCtx } from "@/test/factories";

const LINES = [
  { time: "2026-11-28T12:00:00.000000001Z", replica: 0, process: "web", stream: "stdout", text: "Booting worker" },
  { time: "2026-11-28T12:00:01.000000001Z", replica: 1, process: "web", stream: "stderr", text: "GET /a.b 500" },
  { time: "2026-11-28T12:00:02.000000001Z", replica: 0, process: "worker", stream: "stdout", text: "task OK" },
  { time: "2026-11-28T12:00:03.000000001Z", replica: 1, process: "web", stream: "stdout", text: "GET /axb 200" },
] as const;

async function appWithLogs(lines: readonly AppLogLine[] = LINES) {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  const ctx = await userCtx(owner.id, team.id);
  const app = await createApp(getDb(), ctx, { name: `logs-${Math.random().toString(36).slice(2, 8)}` });
  const file = appLogPath(getEnv().dataDir, app.id);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, `${lines.map((line) => encodeAppLogLine(line)).join("\n")}\n`);
  return { ctx, app, team, file, token: await createTestToken(team.id, ["read"]) };
}

const texts = (lines: { text: string }[]) => lines.map((line) => line.text);

describe("filtered app logs", () => {
  it("filters by process, replica, text (any case, literally) and time range", async () => {
    const { app } = await appWithLogs();
    const dir = getEnv().dataDir;
    const read = (filter: object) => readAppLogLines(dir, app.id, { tail: 100, ...filter });
    expect(texts(await read({ process: "worker" }))).toEqual(["task OK"]);
    expect(texts(await read({ process: "web", replica: 1 }))).toEqual(["GET /a.b 500", "GET /axb 200"]);
    expect(texts(await read({ q: "booting" }))).toEqual(["Booting worker"]);
    // "." is a character to find, not a pattern: /axb does not match "a.b".
    expect(texts(await read({ q: "a.b" }))).toEqual(["GET /a.b 500"]);
    expect(texts(await read({ q: "(" }))).toEqual([]);
    expect(
      texts(await read({ since: new Date("2026-11-28T12:00:01Z"), until: new Date("2026-11-28T12:00:02.5Z") })),
    ).toEqual(["GET /a.b 500", "task OK"]);
  });

  it("answers the filters through the API and refuses malformed ones", async () => {
    const { app, token } = await appWithLogs();
    const params = { appId: app.id };
    const get = (query: string) => call(logsRoute, `/api/v1/apps/${app.id}/logs?${query}`, { token, params });
    const searched = await get("q=GET&replica=1&process=web&until=2026-11-28T12:00:02Z");
    expect(searched.status).toBe(200);
    expect(texts((await searched.json()).lines)).toEqual(["GET /a.b 500"]);
    for (const bad of ["replica=-1", "replica=0x1", "process=Web!", `q=${"x".repeat(201)}`, "until=yesterday"]) {
      expect((await get(bad)).status, bad).toBe(422);
    }
  });

  it("downloads the matching lines as text", async () => {
    const { ctx, app } = await appWithLogs();
    const text = await downloadAppLogs(getDb(), ctx, app.id, { q: "get" });
    expect(text).toBe(
      "2026-11-28T12:00:01.000000001Z web.1 stderr GET /a.b 500\n2026-11-28T12:00:03.000000001Z web.1 stdout GET /axb 200\n",
    );
  });

  it("scans at most the kept window: a match older than it is not read", async () => {
    const old = { ...LINES[0], text: "needle-in-the-old-part" };
    const { app, file } = await appWithLogs([old]);
    const filler = `${encodeAppLogLine({ ...LINES[2], text: "x".repeat(1000) })}\n`;
    await fs.appendFile(file, filler.repeat(Math.ceil(SEARCH_WINDOW_BYTES / filler.length) + 10));
    expect(await readAppLogLines(getEnv().dataDir, app.id, { tail: 10, q: "needle" })).toEqual([]);
  });
});
