import type { ExecResult } from "../exec";
import { checkImageRef } from "./args";
import { callOptions, type PodmanContext } from "./context";
import { commandFailed, isExit, NO_SUCH_IMAGE, PodmanError, stderrMatches } from "./errors";
import { imageInspectSchema, parseJson } from "./parse";
import type { CallOptions, ImageDetails, Podman } from "./types";

// Images on the host: inspect (the build reads a base image's ONBUILD triggers, the engine a release's ports), remove,
// exists.
export function imageCommands(ctx: PodmanContext): Pick<Podman, "inspectImage" | "removeImage" | "imageExists"> {
  const { podman, json, exists } = ctx;

  async function inspectImage(ref: string, options?: CallOptions): Promise<ImageDetails | null> {
    checkImageRef("inspect_image", ref);
    let result: ExecResult;
    try {
      result = await json(["image", "inspect", "--", ref], callOptions(options));
    } catch (err) {
      if (stderrMatches(err, NO_SUCH_IMAGE)) return null;
      throw commandFailed("inspect_image", err);
    }
    const [image] = parseJson("inspect_image", imageInspectSchema, result.stdout);
    if (image === undefined) throw new PodmanError("unexpected_output", "inspect_image", "empty answer");
    return {
      id: image.Id,
      digest: image.Digest ?? null,
      tags: image.RepoTags ?? [],
      created: image.Created ?? null,
      sizeBytes: image.Size ?? null,
      labels: image.Labels ?? {},
      user: image.Config?.User || null,
      exposedPorts: Object.keys(image.Config?.ExposedPorts ?? {}).sort(),
      onBuild: image.Config?.OnBuild ?? [],
    };
  }

  return {
    inspectImage,

    async removeImage(ref, options) {
      const operation = "image_remove";
      checkImageRef(operation, ref);
      try {
        // No --force: it would also remove the containers using the image, e.g. the release still serving.
        await podman(["image", "rm", "--", ref], callOptions(options));
      } catch (err) {
        if (stderrMatches(err, NO_SUCH_IMAGE)) return;
        if (stderrMatches(err, /image is in use|image used by|being used/i) || isExit(err, 2)) {
          throw new PodmanError("in_use", operation, "image in use", { cause: err, resource: "image" });
        }
        throw commandFailed(operation, err);
      }
    },

    async imageExists(ref, options) {
      return exists("image_exists", ["image", "exists", "--", checkImageRef("image_exists", ref)], options);
    },
  };
}
