import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { type JobHelpers, runOnce } from "graphile-worker";
import pino from "pino";
import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { enqueue } from "@/jobs/enqueue";
import { buildTaskList, giveUpReason, startWorker, wrapTask } from "@/jobs/runner";
import { tasks } from "@/jobs/tasks";
import { workerLogger } from "@/lib/database/migrate";
import { getDb } from "@/lib/db";
import { createOperation } from "@/lib/domain/operations";
import { getEnv } from "@/lib/env";
import { AppError } from "@/lib/errors";
import { pendingJobs } from "@/test/helpers";

const log = pino({ level: "silent" });

async function queuePing(times = 1) {
  return await getDb().$transaction(async (tx) => {
    const operation = await createOperation(tx, { kind: "platform.ping" });
    for (let i = 0; i < times; i++) await enqueue(tx, "platform__ping", { operationId: operation.id });
    return operation;
  });
}

async function drain() {
  const connectionString = getEnv().databaseDirectUrl;
  await runOnce({ connectionString, logger: workerLogger(log) }, buildTaskList({ db: getDb(), log, workerId: "test" }));
}

function fakeHelpers(attempts: number, maxAttempts: number): JobHelpers {
  return { job: { id: "42", attempts, max_attempts: maxAttempts } } as unknown as JobHelpers;
}

describe("task registry", () => {
  it("has one entry per file in jobs/tasks, named after the file", async () => {
    const files = (await fs.readdir(path.join("jobs", "tasks")))
      .filter((file) => file.endsWith(".ts") && file !== "index.ts" && !file.endsWith(".test.ts"))
      .map((file) => file.replace(/\.ts$/, ""));
    expect(Object.keys(tasks).sort()).toEqual(files.sort());
    for (const [name, definition] of Object.entries(tasks)) {
      expect(definition.name).toBe(name);
      expect(definition.maxAttempts).toBeGreaterThanOrEqual(1);
    }
  });

  it("lists exactly the catalog's tasks, each run with its catalog entry's payload, attempts and queue", () => {
    // enqueue validates and queues with the catalog entry and the worker runs the task: they must be the same.
    expect(Object.keys(catalog).sort()).toEqual(Object.keys(tasks).sort());
    for (const [name, definition] of Object.entries(tasks)) {
      const entry = catalog[name as keyof typeof catalog];
      expect(entry.name).toBe(name);
      expect(definition.payload).toBe(entry.payload);
      expect(definition.maxAttempts).toBe(entry.maxAttempts);
      expect(definition.queue).toBe(entry.queue);
    }
  });
});

describe("platform__ping through the queue", () => {
  it("moves its operation from queued to succeeded", async () => {
    const operation = await queuePing();
    expect(operation.status).toBe("queued");
    await drain();
    const after = await getDb().operation.findUniqueOrThrow({ where: { id: operation.id } });
    expect(after).toMatchObject({ status: "succeeded", attempts: 1, error: null });
    expect(after.finishedAt).toBeInstanceOf(Date);
    expect(await pendingJobs("platform__ping")).toEqual([]);
  });

  it("runs the step once when the job is duplicated", async () => {
    const operation = await queuePing(2);
    await drain();
    const after = await getDb().operation.findUniqueOrThrow({ where: { id: operation.id } });
    expect(after).toMatchObject({ status: "succeeded", attempts: 1 });
  });

  it("finishes quietly when the operation is gone", async () => {
    await getDb().$transaction((tx) => enqueue(tx, "platform__ping", { operationId: randomUUID() }));
    await drain();
    expect(await pendingJobs("platform__ping")).toEqual([]);
  });
});

describe("wrapTask", () => {
  const failing = (error: unknown) => {
    const onGiveUp = vi.fn(async () => {});
    const definition = defineTask(
      { name: "test__fail", payload: z.strictObject({ n: z.number() }), maxAttempts: 3 },
      {
        run: async () => {
          throw error;
        },
        onGiveUp,
      },
    );
    return { task: wrapTask(definition, { db: getDb(), log, workerId: "w" }), onGiveUp };
  };

  it("retries without giving up before the last attempt", async () => {
    const { task, onGiveUp } = failing(new Error("boom"));
    await expect(task({ n: 1 }, fakeHelpers(1, 3))).rejects.toThrow("boom");
    expect(onGiveUp).not.toHaveBeenCalled();
  });

  it("gives up on the last attempt with the user-readable message of an AppError", async () => {
    const { task, onGiveUp } = failing(new AppError("unavailable", "Caddy did not answer; try again later."));
    await expect(task({ n: 1 }, fakeHelpers(3, 3))).rejects.toThrow();
    expect(onGiveUp).toHaveBeenCalledWith({ n: 1 }, "Caddy did not answer; try again later.", expect.anything());
  });

  it("never shows internal error text to the user", async () => {
    const { task, onGiveUp } = failing(new Error("ECONNREFUSED 127.0.0.1:2019 /var/lib/secret"));
    await expect(task({ n: 1 }, fakeHelpers(3, 3))).rejects.toThrow();
    const reason = onGiveUp.mock.calls[0]?.at(1) as unknown as string;
    expect(reason).toBe(giveUpReason(new Error("x"), 3, "42"));
    expect(reason).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|\/var/);
  });

  it("drops a payload that does not validate instead of retrying it forever", async () => {
    const { task, onGiveUp } = failing(new Error("never reached"));
    await expect(task({ n: "one" }, fakeHelpers(1, 3))).resolves.toBeUndefined();
    expect(onGiveUp).not.toHaveBeenCalled();
  });
});

describe("startWorker", () => {
  it("beats, processes jobs as they arrive, and removes its heartbeat when stopped", async () => {
    const worker = await startWorker({
      connectionString: getEnv().databaseDirectUrl ?? "",
      db: getDb(),
      log,
      concurrency: 2,
      pollInterval: 200,
    });
    try {
      expect(await getDb().workerHeartbeat.count({ where: { workerId: worker.workerId } })).toBe(1);
      const operation = await queuePing();
      let status = operation.status;
      for (let delay = 25; status !== "succeeded" && delay < 10_000; delay *= 2) {
        await new Promise((resolve) => setTimeout(resolve, delay));
        status = (await getDb().operation.findUniqueOrThrow({ where: { id: operation.id } })).status;
      }
      expect(status).toBe("succeeded");
    } finally {
      await worker.stop();
    }
    expect(await getDb().workerHeartbeat.count({ where: { workerId: worker.workerId } })).toBe(0);
  });
});
