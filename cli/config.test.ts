// The stored login: mode 0600 in a 0700 directory, TUSSILAGO_URL/TUSSILAGO_TOKEN over the file, none → exit code 3.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configFile, normalizeUrl, readConfig, removeConfig, resolveCredentials, writeConfig } from "./config";
import { CliError, EXIT } from "./errors";
import type { Env } from "./io";

let dir: string;
let env: Env;
const TOKEN = `tsl_${"a".repeat(43)}`;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-cli-config-"));
  env = { TUSSILAGO_CONFIG_DIR: path.join(dir, "nested", "tussilago") };
});

afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe("the config file", () => {
  it("is written with mode 0600 in a 0700 directory, even under a permissive umask", async () => {
    const previous = process.umask(0o000);
    try {
      const file = await writeConfig(env, { url: "https://p.example", token: TOKEN });
      expect(file).toBe(configFile(env));
      expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
      expect((await fs.stat(path.dirname(file))).mode & 0o777).toBe(0o700);
    } finally {
      process.umask(previous);
    }
  });

  it("stays 0600 when it existed with a wider mode", async () => {
    const file = await writeConfig(env, { url: "https://p.example", token: TOKEN });
    await fs.chmod(file, 0o644);
    await writeConfig(env, { url: "https://q.example", token: TOKEN });
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    expect(await readConfig(env)).toEqual({ url: "https://q.example", token: TOKEN });
  });

  it("is overridden by TUSSILAGO_URL and TUSSILAGO_TOKEN", async () => {
    await writeConfig(env, { url: "https://stored.example", token: TOKEN });
    const other = `tsl_${"b".repeat(43)}`;
    expect(await resolveCredentials({ ...env, TUSSILAGO_URL: "https://env.example/", TUSSILAGO_TOKEN: other })).toEqual(
      { url: "https://env.example", token: other, source: "environment" },
    );
    expect(await resolveCredentials(env)).toEqual({
      url: "https://stored.example",
      token: TOKEN,
      source: "config file",
    });
  });

  it("answers not logged in (exit code 3) without a file or variables, and after logout", async () => {
    await writeConfig(env, { url: "https://p.example", token: TOKEN });
    expect(await removeConfig(env)).toBe(true);
    const error = await resolveCredentials(env).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(EXIT.auth);
  });

  it("accepts only http(s) platform URLs", () => {
    expect(normalizeUrl("https://p.example/base/")).toBe("https://p.example/base");
    expect(() => normalizeUrl("ftp://p.example")).toThrow(CliError);
    expect(() => normalizeUrl("not a url")).toThrow(CliError);
  });
});
