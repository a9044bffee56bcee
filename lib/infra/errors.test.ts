import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CaddyError } from "./caddy";
import { InfraError, isRetryable } from "./errors";
import { CommandError, toUserMessage } from "./exec";
import { PodmanError } from "./podman";
import { RedisServerError } from "./redis-server";
import { RedisConnectionError, RedisReplyError } from "./resp";
import { TenantPostgresError } from "./tenant-postgres";
import { TenantRedisError } from "./tenant-redis";

// Callers branch on `instanceof InfraError` (kind, retryable, userMessage, cause), never on class names as strings.
describe("InfraError", () => {
  const cause = new CommandError({ kind: "timeout", file: "/usr/bin/podman", args: ["ps"], timeoutMs: 5 });
  const errors: [string, InfraError][] = [
    ["CommandError", cause],
    ["PodmanError", new PodmanError("command_failed", "run", "failed", { cause, retryable: true })],
    ["CaddyError", new CaddyError("unavailable", "load", "refused", { cause, retryable: true })],
    ["TenantPostgresError", new TenantPostgresError("unavailable", "provision", "down", { cause })],
    ["TenantRedisError", new TenantRedisError("unavailable", "provision", "down", { cause, retryable: true })],
    ["RedisServerError", new RedisServerError("timeout", "slow start", { cause })],
    ["RedisConnectionError", new RedisConnectionError("timeout", "no answer", { cause })],
  ];

  it.each(errors)("%s extends InfraError with its kind, retryable flag, user message and cause", (name, error) => {
    expect(error).toBeInstanceOf(InfraError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe(name);
    expect(typeof error.kind).toBe("string");
    expect(error.retryable).toBe(true);
    expect(isRetryable(error)).toBe(true);
    expect(error.userMessage).not.toMatch(/podman|\/usr|ps/);
    expect(toUserMessage(error)).toBe(error.userMessage);
    expect(error.toLog()).toMatchObject({ kind: error.kind, retryable: true });
    if (error !== cause) expect(error.cause).toBe(cause);
  });

  it("keeps each adapter's own kinds and fields", () => {
    const podman = new PodmanError("not_found", "inspect_container", "gone");
    expect(podman).toMatchObject({ kind: "not_found", operation: "inspect_container", retryable: false });
    expect(podman.userMessage).toBe("The requested resource does not exist.");
    const postgres = new TenantPostgresError("failed", "provision", "boom", { step: "role", sqlState: "42501" });
    expect(postgres).toMatchObject({ kind: "failed", step: "role", sqlState: "42501", retryable: false });
    expect(new CommandError({ kind: "exit", file: "/bin/x", args: [], exitCode: 2 }).userMessage).toBe(
      "A system command failed.",
    );
  });

  it("is not retryable when nothing says so", () => {
    expect(isRetryable(new Error("timeout"))).toBe(false);
    expect(isRetryable(new RedisConnectionError("protocol", "not RESP"))).toBe(false);
    const reply = new RedisReplyError("NOPERM this user has no permissions to run the 'keys' command");
    expect(reply).toBeInstanceOf(InfraError);
    expect(reply).toMatchObject({ kind: "reply", code: "NOPERM", retryable: false });
    expect(toUserMessage(reply)).toBe("An internal error occurred.");
    expect(toUserMessage(new Error("/var/lib/secret"))).toBe("An internal error occurred.");
  });
});

// The regression this base class exists for: a check such as `error.name === "PodmanError"` keeps compiling after a
// rename and silently stops matching. Production code asks `instanceof` instead.
describe("infrastructure errors are never matched by name", () => {
  const ROOT = fileURLToPath(new URL("../..", import.meta.url));
  const NAMES =
    "InfraError|CommandError|PodmanError|CaddyError|TenantPostgresError|TenantRedisError|RedisServerError|RedisConnectionError|RedisReplyError";
  const BY_NAME = new RegExp(
    `\\.name\\s*[!=]==?\\s*["'](?:${NAMES})["']|["'](?:${NAMES})["'][^\\n]*\\.includes\\(\\s*\\w+\\.name`,
  );

  async function sources(dir: string): Promise<string[]> {
    const entries = await readdir(join(ROOT, dir), { withFileTypes: true });
    const nested = await Promise.all(
      entries.map((entry) => {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) return entry.name === "generated" ? [] : sources(path);
        return /\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name) ? [path] : [];
      }),
    );
    return nested.flat();
  }

  it("has no string comparison of an infrastructure error's name in app, lib, jobs or scripts", async () => {
    const files = (await Promise.all(["app", "components", "lib", "jobs", "scripts"].map(sources))).flat();
    const offenders: string[] = [];
    for (const file of files) {
      const text = await readFile(join(ROOT, file), "utf8");
      text.split("\n").forEach((line, index) => {
        if (BY_NAME.test(line)) offenders.push(`${file}:${index + 1}`);
      });
    }
    expect(files.length).toBeGreaterThan(100);
    expect(offenders).toEqual([]);
  });
});
