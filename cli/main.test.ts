// The CLI run in-process against a fake API (a fetch that answers by method and path): argument parsing, exit codes,
// --json output, confirmation, idempotency keys and bounded retries. The real platform is exercised by
// e2e/cli.spec.ts.
import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EXIT } from "./errors";
import type { Env, Io } from "./io";
import { runCli } from "./main";

type Sent = { method: string; path: string; search: string; headers: Headers; body: unknown };
type Answer = { status: number; body?: unknown } | Error;
type Route = (sent: Sent) => Answer | undefined;

const TOKEN = `tsl_${"t".repeat(43)}`;
const APP_ID = randomUUID();

let dir: string;
let sent: Sent[];
let routes: Route[];

const app = (overrides: Record<string, unknown> = {}) => ({
  id: APP_ID,
  name: "shop",
  status: "running",
  url: "http://shop-team.apps.example",
  replicas: 1,
  currentDeploymentId: null,
  ...overrides,
});
const operation = (status = "succeeded", error: string | null = null) => ({
  id: randomUUID(),
  kind: "app.scale",
  status,
  error,
});

const fakeFetch: typeof fetch = async (input, init) => {
  const url = new URL(String(input));
  const raw = init?.body;
  const body = typeof raw === "string" ? JSON.parse(raw) : raw === undefined ? undefined : "<bytes>";
  const request = {
    method: init?.method ?? "GET",
    path: url.pathname,
    search: url.search,
    headers: new Headers(init?.headers),
    body,
  };
  sent.push(request);
  for (const route of routes) {
    const answer = route(request);
    if (answer instanceof Error) throw answer;
    if (answer)
      return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), { status: answer.status });
  }
  return new Response(JSON.stringify({ error: { code: "not_found", message: "Not found.", requestId: "req-1" } }), {
    status: 404,
  });
};

const on =
  (method: string, pathname: string, answer: Answer | ((sent: Sent) => Answer)): Route =>
  (request) =>
    request.method === method && request.path === pathname
      ? typeof answer === "function"
        ? answer(request)
        : answer
      : undefined;

async function cli(argv: string[], env: Env = {}) {
  let stdout = "";
  let stderr = "";
  const io: Io = {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    prompt: null,
    env: { TUSSILAGO_CONFIG_DIR: path.join(dir, "config"), TUSSILAGO_POLL_MS: "1", ...env },
    cwd: dir,
    color: false,
  };
  const code = await runCli(argv, io, { fetch: fakeFetch });
  return { code, stdout, stderr };
}

const loggedIn = { TUSSILAGO_URL: "https://p.example", TUSSILAGO_TOKEN: TOKEN };

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-cli-main-"));
  sent = [];
  routes = [on("GET", `/api/v1/apps/${APP_ID}`, { status: 200, body: { app: app() } })];
});

afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe("argument parsing and exit codes", () => {
  it("answers usage errors with exit code 2 and no request", async () => {
    for (const argv of [
      ["bogus"],
      ["apps:create"],
      ["scale", "web=two"],
      ["env:set", "NOEQUALS"],
      ["logs", "-n", "0"],
    ]) {
      const result = await cli(["--app", APP_ID, ...argv], loggedIn);
      expect(result.code, argv.join(" ")).toBe(EXIT.usage);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
    expect(sent.filter((s) => s.method !== "GET")).toEqual([]);
  });

  it("answers 3 when not logged in, and 4 with the API's code and request ID for a missing app", async () => {
    expect((await cli(["apps"])).code).toBe(EXIT.auth);
    const missing = await cli(["env", "--app", randomUUID()], loggedIn);
    expect(missing.code).toBe(EXIT.notFound);
    expect(missing.stderr).toBe("error: not_found: Not found. (request req-1)\n");
  });

  it("needs --app or a linked directory, and finds the linked app from .tussilago.json", async () => {
    routes.push(on("GET", `/api/v1/apps/${APP_ID}/env`, { status: 200, body: { env: { A: "••••" } } }));
    expect((await cli(["env"], loggedIn)).code).toBe(EXIT.usage);
    await fs.writeFile(path.join(dir, ".tussilago.json"), JSON.stringify({ appId: APP_ID, name: "shop" }));
    const result = await cli(["env", "--json"], loggedIn);
    expect(result.code).toBe(EXIT.ok);
    expect(JSON.parse(result.stdout)).toEqual({ env: { A: "••••" } });
  });
});

describe("commands", () => {
  it("env:set sends KEY=VALUE pairs (values may hold '='), env:unset sends nulls", async () => {
    routes.push(on("PUT", `/api/v1/apps/${APP_ID}/env`, { status: 200, body: { env: {} } }));
    expect((await cli(["env:set", "A=1", "B=x=y", "C=", "--app", APP_ID], loggedIn)).code).toBe(EXIT.ok);
    expect((await cli(["env:unset", "A", "B", "--app", APP_ID], loggedIn)).code).toBe(EXIT.ok);
    const puts = sent.filter((s) => s.method === "PUT").map((s) => s.body);
    expect(puts).toEqual([{ env: { A: "1", B: "x=y", C: "" } }, { env: { A: null, B: null } }]);
  });

  it("scale sends the process counts with an Idempotency-Key and waits for the operation", async () => {
    const queued = operation("queued");
    routes.push(
      on("POST", `/api/v1/apps/${APP_ID}/actions/scale`, { status: 202, body: { app: app(), operation: queued } }),
      on("GET", `/api/v1/operations/${queued.id}`, {
        status: 200,
        body: { operation: { ...queued, status: "failed", error: "Over the processes quota." } },
      }),
    );
    const result = await cli(["scale", "web=2", "worker=1", "--app", APP_ID], loggedIn);
    const post = sent.find((s) => s.method === "POST");
    expect(post?.body).toEqual({ processes: { web: 2, worker: 1 } });
    expect(post?.headers.get("idempotency-key")).toMatch(/^cli-[0-9a-f-]{36}$/);
    expect(result.code).toBe(EXIT.failure);
    expect(result.stderr).toContain("Over the processes quota.");
  });

  it("apps:delete refuses a confirmation that does not match, without a request", async () => {
    const result = await cli(["apps:delete", "shop", "--confirm", "shp"], loggedIn);
    expect(result.code).toBe(EXIT.usage);
    expect(sent).toEqual([]);
  });

  it("--json prints exactly one JSON document on stdout", async () => {
    routes.push(on("GET", "/api/v1/apps", { status: 200, body: { items: [app()], nextCursor: null } }));
    const result = await cli(["apps", "--json"], loggedIn);
    expect(JSON.parse(result.stdout)).toMatchObject({ apps: [{ id: APP_ID, name: "shop" }] });
  });

  it("run prints the output and exits with the run's exit code", async () => {
    const runId = randomUUID();
    const base = { id: runId, command: "python -c 'exit(3)'", reason: null };
    let polls = 0;
    routes.push(
      on("POST", `/api/v1/apps/${APP_ID}/runs`, (request) => {
        expect(request.body).toEqual({ command: "python -c 'exit(3)'" });
        return {
          status: 202,
          body: { run: { ...base, status: "queued", exitCode: null }, operation: operation("queued") },
        };
      }),
      on("GET", `/api/v1/runs/${runId}`, () => {
        polls += 1;
        return {
          status: 200,
          body: { run: { ...base, status: polls > 1 ? "failed" : "running", exitCode: polls > 1 ? 3 : null } },
        };
      }),
      on("GET", `/api/v1/runs/${runId}/logs`, (request) => {
        const offset = new URLSearchParams(request.search).get("offset");
        return offset === "0"
          ? { status: 200, body: { text: "working\n", nextOffset: 8, complete: false } }
          : { status: 200, body: { text: "", nextOffset: 8, complete: polls > 1 } };
      }),
    );
    const result = await cli(["run", "--app", APP_ID, "--", "python", "-c", "exit(3)"], loggedIn);
    expect(result.stdout).toBe("working\n");
    expect(result.code).toBe(3);
  });
});

describe("network errors", () => {
  it("retries a GET a bounded number of times, then answers exit code 6", async () => {
    routes.unshift(on("GET", "/api/v1/apps", new TypeError("fetch failed")));
    const result = await cli(["apps"], { ...loggedIn, TUSSILAGO_URL: "https://p.example" });
    expect(result.code).toBe(EXIT.unavailable);
    expect(sent.filter((s) => s.path === "/api/v1/apps")).toHaveLength(4);
  }, 20_000);

  it("retries an idempotent POST with the same Idempotency-Key", async () => {
    let calls = 0;
    routes.unshift(
      on("POST", "/api/v1/apps", () => {
        calls += 1;
        return calls === 1 ? new TypeError("fetch failed") : { status: 201, body: { app: app() } };
      }),
    );
    const result = await cli(["apps:create", "shop", "--no-link"], loggedIn);
    expect(result.code).toBe(EXIT.ok);
    const keys = sent.filter((s) => s.method === "POST").map((s) => s.headers.get("idempotency-key"));
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe(keys[1]);
  }, 20_000);
});

describe("login", () => {
  it("checks the token against the API, then stores it with mode 0600", async () => {
    routes.push(
      on("GET", "/api/v1/team", { status: 200, body: { team: { id: randomUUID(), name: "Team", slug: "team" } } }),
    );
    const result = await cli(["login", "--url", "https://p.example/", "--token", TOKEN, "--json"]);
    expect(result.code).toBe(EXIT.ok);
    const { configFile } = JSON.parse(result.stdout) as { configFile: string };
    expect((await fs.stat(configFile)).mode & 0o777).toBe(0o600);
    expect(sent[0]?.headers.get("authorization")).toBe(`Bearer ${TOKEN}`);
    expect((await cli(["logout"])).code).toBe(EXIT.ok);
    expect((await cli(["apps"])).code).toBe(EXIT.auth);
  });

  it("refuses a malformed token without a request", async () => {
    expect((await cli(["login", "--url", "https://p.example", "--token", "nope"])).code).toBe(EXIT.usage);
    expect(sent).toEqual([]);
  });
});
