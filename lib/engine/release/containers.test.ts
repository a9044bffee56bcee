import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { runContainer } from "@/lib/engine/release/containers";
import type { AppRow, ReleaseDeps, Spec } from "@/lib/engine/release/context";
import { AppError } from "@/lib/errors";
import type { Deployment } from "@/lib/generated/prisma/client";
import { type Podman, PodmanError, type PodmanResource } from "@/lib/infra/podman";

// How runContainer reads podman's refusals: by the error's kind and resource, never by its message.

function depsWhoseRunFails(error: Error): ReleaseDeps {
  const run: Podman["run"] = () => Promise.reject(error);
  // runContainer uses nothing of its dependencies but podman.run.
  return { podman: { run } } as unknown as ReleaseDeps;
}

function spec(): Spec {
  const app = { id: randomUUID(), teamId: randomUUID(), memoryMb: 256, cpuMillis: 500 } as unknown as AppRow;
  const deployment = { id: randomUUID(), number: 3 } as unknown as Deployment;
  return { app, deployment, image: "localhost/tsl-x:r3", network: "tsl-net", env: {}, types: ["web"] };
}

function refusal(kind: "not_found" | "already_exists", resource: PodmanResource, message: string): PodmanError {
  return new PodmanError(kind, "run", message, { resource });
}

async function outcome(error: Error): Promise<unknown> {
  try {
    return await runContainer(depsWhoseRunFails(error), spec(), "tsl-name", "web", { port: 8000 });
  } catch (thrown) {
    return thrown;
  }
}

describe("runContainer", () => {
  it("answers false when the container already exists (a retry adopts it)", async () => {
    expect(await outcome(refusal("already_exists", "container", "container name in use"))).toBe(false);
  });

  it("tells the user to deploy again when the image is gone", async () => {
    const result = await outcome(refusal("not_found", "image", "gone"));
    expect(result).toBeInstanceOf(AppError);
    expect((result as AppError).message).toBe(
      "The image of deployment #3 is no longer on this host. Deploy again to rebuild it.",
    );
  });

  it("passes a missing network on unchanged, whatever its message says", async () => {
    const missingNetwork = refusal("not_found", "network", "network for image tsl-x not found");
    expect(await outcome(missingNetwork)).toBe(missingNetwork);
  });
});
