import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { pgToolsCheck } from "@/lib/checks/pg-tools-check";
import { parseEnv } from "@/lib/env";

// pg_dump's version against the test run's PostgreSQL (the tenant server here), with the host's tools and with fakes.

const { adminUrl } = inject("testDatabase");
let dataDir: string;

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-pg-tools-check-"));
});

afterAll(async () => {
  await fs.rm(dataDir, { recursive: true, force: true });
});

function env(vars: Record<string, string> = {}) {
  return parseEnv({ TUSSILAGO_SECRET_KEY: "k".repeat(40), TUSSILAGO_DATA_DIR: dataDir, ...vars });
}

async function binDir(version: string | null): Promise<string> {
  const dir = await fs.mkdtemp(path.join(dataDir, "bin-"));
  if (version === null) return dir;
  for (const tool of ["pg_dump", "pg_restore"]) {
    await fs.writeFile(path.join(dir, tool), `#!/bin/sh\necho "${tool} (PostgreSQL) ${version}"\n`, { mode: 0o755 });
  }
  return dir;
}

describe("the backup tools check", () => {
  it("reports the host's pg_dump beside the tenant server's version", async () => {
    const result = await pgToolsCheck(env({ TENANT_PG_ADMIN_URL: adminUrl }));
    expect(result).toMatchObject({ name: "backup tools", status: "ok" });
    expect(result.message).toMatch(/^pg_dump \d+\.\d+ in \/.+, tenant PostgreSQL \d+/);
  });

  it("fails when pg_dump is older than the tenant server, and says what to install", async () => {
    const dir = await binDir("9.6.24");
    const result = await pgToolsCheck(env({ TENANT_PG_ADMIN_URL: adminUrl, TUSSILAGO_PG_BIN_DIR: dir }));
    expect(result.status).toBe("error");
    expect(result.message).toContain(`pg_dump 9.6 in ${dir} is older than the tenant PostgreSQL`);
    expect(result.message).toMatch(/install postgresql-client-\d+/);
  });

  it("fails when the tools are missing, and warns when there is no tenant server to compare with", async () => {
    const missing = await pgToolsCheck(env({ TUSSILAGO_PG_BIN_DIR: await binDir(null) }));
    expect(missing).toMatchObject({ status: "error", message: expect.stringMatching(/pg_dump is missing/) });
    const alone = await pgToolsCheck(env({ TUSSILAGO_PG_BIN_DIR: await binDir("15.18") }));
    expect(alone).toMatchObject({ status: "warn", message: expect.stringMatching(/no tenant PostgreSQL/) });
  });
});
