// Do not rebuild what is built: a generated build's image key (image-key.ts) is computed before `podman build`, and
// a kept image of an earlier deployment of the same app (same team) with the same key is released instead. Never
// across apps or teams: the lookup is by this app and team, and both are part of the key too.

import fs from "node:fs/promises";
import { baseImageFor } from "@/lib/build/containerfile";
import type { BuildPlan } from "@/lib/build/plan";
import { planToJson } from "@/lib/build/plan";
import { imageKeyOf } from "@/lib/engine/build/image-key";
import type { BuildRun } from "@/lib/engine/build/steps";

/**
 * The key of a generated build, or null when there is none to compute: the base image is not on this host yet
 * (the build pulls it; asked again after the build).
 */
export async function imageKeyFor(
  run: BuildRun,
  input: { plan: BuildPlan; context: string; containerfile: string },
): Promise<string | null> {
  const { deps, deployment } = run;
  const base = await deps.podman().inspectImage(baseImageFor(deps.config.pythonImage, input.plan.pythonVersion));
  if (!base) return null;
  return await imageKeyOf({
    teamId: deployment.teamId,
    appId: deployment.appId,
    contextDir: input.context,
    plan: planToJson(input.plan),
    containerfile: await fs.readFile(input.containerfile, "utf8"),
    baseImageId: base.id,
  });
}

/**
 * The image of an earlier deployment of this app and team with this key, still on the host, now also this
 * deployment's (its imageRef and imageKey are set); or null when there is none and the image must be built.
 */
export async function reuseImage(run: BuildRun, key: string): Promise<{ imageRef: string; number: number } | null> {
  const { deps, deployment } = run;
  const earlier = await deps.db.deployment.findFirst({
    where: {
      appId: deployment.appId,
      teamId: deployment.teamId,
      imageKey: key,
      imageRef: { not: null },
      imagePrunedAt: null,
      id: { not: deployment.id },
    },
    orderBy: { number: "desc" },
    select: { number: true, imageRef: true },
  });
  if (!earlier?.imageRef) return null;
  // Recorded before podman is asked: platform__prune keeps an image an unfinished deployment references, so it
  // cannot remove this one between the check and the release.
  await deps.db.deployment.update({
    where: { id: deployment.id },
    data: { imageRef: earlier.imageRef, imageKey: key },
  });
  if (await deps.podman().imageExists(earlier.imageRef)) return { imageRef: earlier.imageRef, number: earlier.number };
  await deps.db.deployment.update({ where: { id: deployment.id }, data: { imageRef: null, imageKey: null } });
  return null;
}
