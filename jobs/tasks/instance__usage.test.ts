// instance__usage measures the instance's disk use with the fake podman (`system df`) and bounded walks of the data
// directory's builds, logs and backups, and stores the report the admin's usage view shows.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TaskContext } from "@/jobs/define";
import { tasks } from "@/jobs/tasks";
import { getDb } from "@/lib/db";
import { instanceUsageSchema } from "@/lib/domain/instance-usage";
import { walkDirUsage } from "@/lib/engine/instance-usage";
import { getEnv } from "@/lib/env";
import { type FakePodman, installFakePodman } from "@/test/fake-podman/install";
import { silentLog } from "@/test/release-helpers";

let podman: FakePodman;
let scratch: string;

beforeAll(async () => {
  podman = await installFakePodman();
  scratch = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-usage-"));
});

afterAll(async () => {
  await podman.cleanup();
  await fs.rm(scratch, { recursive: true, force: true });
});

function taskCtx(): TaskContext {
  return { db: getDb(), log: silentLog, jobId: "1", attempt: 1, maxAttempts: 2, workerId: "test" };
}

async function writeBytes(file: string, bytes: number): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, Buffer.alloc(bytes, 1));
}

describe("instance__usage", { timeout: 120_000 }, () => {
  it("stores a report of podman's images and the sizes of builds, logs and backups", async () => {
    // Two images, one of them used by a container: podman's own figures, read back from `system df`.
    const state = {
      containers: [{ id: "c1", name: "web", image: "localhost/app:1", state: "running" }],
      images: [
        { id: "a".repeat(64), names: ["localhost/app:1"], size: 3000, created: "", labels: {}, config: {} },
        { id: "b".repeat(64), names: ["localhost/app:0"], size: 500, created: "", labels: {}, config: {} },
      ],
      networks: [],
    };
    await fs.mkdir(podman.stateDir, { recursive: true });
    await fs.writeFile(path.join(podman.stateDir, "state.json"), JSON.stringify(state));
    const { dataDir } = getEnv();
    await writeBytes(path.join(dataDir, "builds", "d1", "src", "app.py"), 100);
    await writeBytes(path.join(dataDir, "builds", "d1", "requirements.txt"), 20);
    await writeBytes(path.join(dataDir, "logs", "apps", "x.log"), 7);
    await writeBytes(path.join(dataDir, "backups", "t", "d", "b.dump"), 11);

    await tasks.instance__usage.run({}, taskCtx());

    const row = await getDb().instanceUsageReport.findFirstOrThrow({ orderBy: { createdAt: "desc" } });
    const usage = instanceUsageSchema.parse(row.usage);
    expect(usage).toEqual({
      images: { bytes: 3500, count: 2, active: 1, reclaimableBytes: 500 },
      builds: { bytes: 120, files: 2, truncated: false },
      logs: { bytes: 7, files: 1, truncated: false },
      backups: { bytes: 11, files: 1, truncated: false, store: "local" },
      errors: [],
    });
    expect((await podman.calls()).some((args) => args.join(" ") === "system df --format json")).toBe(true);
  });

  it("reports podman's failure as an error line and still stores the directory sizes", async () => {
    await podman.configure({ FAIL_SYSTEM_DF: "125" });
    try {
      await tasks.instance__usage.run({}, taskCtx());
    } finally {
      await podman.configure({});
    }
    const row = await getDb().instanceUsageReport.findFirstOrThrow({ orderBy: { createdAt: "desc" } });
    const usage = instanceUsageSchema.parse(row.usage);
    expect(usage.images).toBeNull();
    expect(usage.errors).toEqual(["Images: The container engine reported an error."]);
    expect(usage.builds).not.toBeNull();
  });
});

describe("walkDirUsage", () => {
  it("stops at its entry limit and says the figures are partial", async () => {
    const root = path.join(scratch, "many");
    for (let i = 0; i < 30; i += 1) await writeBytes(path.join(root, `f${i}`), 1);
    expect(await walkDirUsage(root, 10)).toEqual({ bytes: 10, files: 10, truncated: true });
    expect(await walkDirUsage(root, 1000)).toEqual({ bytes: 30, files: 30, truncated: false });
  });

  it("never follows a symbolic link, to a file or to a directory", async () => {
    const outside = path.join(scratch, "outside");
    await writeBytes(path.join(outside, "big"), 5000);
    const root = path.join(scratch, "linked");
    await writeBytes(path.join(root, "own"), 3);
    await fs.symlink(outside, path.join(root, "dir-link"));
    await fs.symlink(path.join(outside, "big"), path.join(root, "file-link"));
    // A loop back to itself would never end if links were followed.
    await fs.symlink(root, path.join(root, "loop"));
    expect(await walkDirUsage(root)).toEqual({ bytes: 3, files: 1, truncated: false });
  });

  it("treats a missing directory as empty", async () => {
    expect(await walkDirUsage(path.join(scratch, "absent"))).toEqual({ bytes: 0, files: 0, truncated: false });
  });
});
