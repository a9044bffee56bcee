import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { enqueue } from "@/jobs/enqueue";
import { getDb } from "@/lib/db";
import { createOperation } from "@/lib/domain/operations";
import { pendingJobs } from "@/test/helpers";

describe("enqueue", () => {
  it("commits the job together with the intent row", async () => {
    const operation = await getDb().$transaction(async (tx) => {
      const created = await createOperation(tx, { kind: "platform.ping" });
      await enqueue(tx, "platform__ping", { operationId: created.id });
      return created;
    });
    const jobs = await pendingJobs("platform__ping");
    expect(jobs.map((job) => job.payload)).toContainEqual({ operationId: operation.id });
  });

  it("rolls the job back with the transaction", async () => {
    const operationId = randomUUID();
    await expect(
      getDb().$transaction(async (tx) => {
        await enqueue(tx, "platform__ping", { operationId });
        throw new Error("the domain write failed");
      }),
    ).rejects.toThrow("the domain write failed");
    const jobs = await pendingJobs("platform__ping");
    expect(jobs.map((job) => job.payload)).not.toContainEqual({ operationId });
  });

  it("refuses a payload its task would reject, failing the caller's transaction", async () => {
    const before = (await pendingJobs()).length;
    await expect(
      getDb().$transaction(async (tx) => {
        // @ts-expect-error: not a UUID, and an extra field the schema forbids.
        await enqueue(tx, "platform__ping", { operationId: "nope", extra: 1 });
      }),
    ).rejects.toThrow();
    expect(await pendingJobs()).toHaveLength(before);
  });

  it("replaces a pending job with the same key instead of adding another", async () => {
    const first = randomUUID();
    const second = randomUUID();
    const key = `ping-${randomUUID()}`;
    await getDb().$transaction((tx) => enqueue(tx, "platform__ping", { operationId: first }, { jobKey: key }));
    await getDb().$transaction((tx) => enqueue(tx, "platform__ping", { operationId: second }, { jobKey: key }));
    const payloads = (await pendingJobs("platform__ping")).map((job) => job.payload);
    expect(payloads).toContainEqual({ operationId: second });
    expect(payloads).not.toContainEqual({ operationId: first });
  });
});
