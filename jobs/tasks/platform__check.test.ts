// platform__check runs the host checks in the worker against the fake podman and the fake Caddy, and stores the
// report the admin host page shows; an unready host (no sandbox runtime, Caddy down) is reported, not thrown.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { TaskContext } from "@/jobs/define";
import { tasks } from "@/jobs/tasks";
import { getDb } from "@/lib/db";
import { hostCheckState, requestHostCheck } from "@/lib/domain/host-checks";
import { resetEnvForTests } from "@/lib/env";
import { resetInfraForTests } from "@/lib/services/infra";
import { createTestUser } from "@/test/factories";
import { type FakeCaddy, startFakeCaddy } from "@/test/fake-caddy";
import { type FakePodman, installFakePodman } from "@/test/fake-podman/install";
import { silentLog } from "@/test/release-helpers";

let podman: FakePodman;
let caddy: FakeCaddy;

beforeAll(async () => {
  podman = await installFakePodman();
  caddy = await startFakeCaddy();
});

afterEach(async () => {
  delete process.env.TUSSILAGO_CADDY_ADMIN;
  resetEnvForTests();
  resetInfraForTests();
  await podman.configure({});
});

afterAll(async () => {
  await caddy.close();
  await podman.cleanup();
});

function taskCtx(): TaskContext {
  return { db: getDb(), log: silentLog, jobId: "1", attempt: 1, maxAttempts: 2, workerId: "test" };
}

function hostSection(sections: { name: string; checks: { name: string; status: string; message: string }[] }[]) {
  return Object.fromEntries((sections.find((s) => s.name === "host")?.checks ?? []).map((c) => [c.name, c]));
}

describe("platform__check", { timeout: 120_000 }, () => {
  it("stores a report with podman, the sandbox runtime and Caddy ready, once per operation", async () => {
    process.env.TUSSILAGO_CADDY_ADMIN = caddy.url;
    resetEnvForTests();
    resetInfraForTests();
    const admin = await createTestUser({ admin: true });
    const { id } = await requestHostCheck(getDb(), admin);
    await tasks.platform__check.run({ operationId: id }, taskCtx());
    // A retry of the same job does nothing more.
    await tasks.platform__check.run({ operationId: id }, taskCtx());
    expect(await getDb().hostCheckReport.count({ where: { operationId: id } })).toBe(1);
    expect((await getDb().operation.findUniqueOrThrow({ where: { id } })).status).toBe("succeeded");

    const state = await hostCheckState(getDb(), admin);
    expect(state.running).toBeNull();
    const host = hostSection(state.report?.sections ?? []);
    expect(host.podman?.status).toBe("ok");
    expect(host["sandbox runtime"]?.status).toBe("ok");
    expect(host["caddy admin"]?.status).toBe("ok");
    expect(host.firewall).toBeDefined();
    expect(state.report?.sections.map((s) => s.name)).toEqual(
      expect.arrayContaining(["configuration", "database", "worker", "host"]),
    );
  });

  it("reports a missing sandbox runtime and an unreachable Caddy with what to do", async () => {
    await podman.configure({ RUNTIMES: "runc" });
    const admin = await createTestUser({ admin: true });
    const { id } = await requestHostCheck(getDb(), admin);
    await tasks.platform__check.run({ operationId: id }, taskCtx());
    const state = await hostCheckState(getDb(), admin);
    expect(state.report?.ok).toBe(false);
    const host = hostSection(state.report?.sections ?? []);
    expect(host["sandbox runtime"]).toMatchObject({ status: "error" });
    expect(host["sandbox runtime"]?.message).toContain("scripts/host-setup.sh");
    expect(host["caddy admin"]).toMatchObject({ status: "error" });
  });

  it("is refused to users who are not instance administrators", async () => {
    const user = await createTestUser({ admin: false });
    await expect(requestHostCheck(getDb(), user)).rejects.toMatchObject({ code: "not_found" });
    await expect(hostCheckState(getDb(), user)).rejects.toMatchObject({ code: "not_found" });
  });
});
