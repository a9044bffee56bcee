// The release command (migrations and the like) in a one-off container of the new image, before any replica starts.
// Run once: an exited container from an earlier attempt is its result.
import { userFailure } from "@/lib/engine/failure";
import { runContainer } from "@/lib/engine/release/containers";
import {
  isTimeout,
  OUTPUT_TAIL_LINES,
  outputOf,
  RELEASE_OUTPUT_LINES,
  type ReleaseDeps,
  releaseContainerName,
  type Say,
  type Spec,
  step,
  withOutput,
} from "@/lib/engine/release/context";

// ---------------------------------------------------------------------------------------------------------------
// Steps

export async function runReleaseCommand(deps: ReleaseDeps, spec: Spec, command: string, say: Say): Promise<void> {
  const { podman } = deps;
  const name = releaseContainerName(spec.app.id, spec.deployment.number);
  // An exited release container from an earlier attempt means the command already ran: it is not run twice. It is
  // removed when the release finishes either way.
  if ((await podman.inspectContainer(name)) === null) {
    await say(`==> Running the release command: ${command}`);
    // Name taken: a concurrent attempt started it a moment ago, and waiting for it below is right.
    await runContainer(deps, spec, name, "release", { command: ["/bin/sh", "-c", command] });
    deps.log.info({ container: name }, "release command started");
  }
  let exitCode: number;
  try {
    exitCode = await podman.wait(name, { timeoutMs: deps.releaseCommandTimeoutMs });
  } catch (error) {
    if (!isTimeout(error)) throw error;
    await say(await outputOf(podman, name, RELEASE_OUTPUT_LINES));
    await podman.remove(name);
    throw userFailure(
      `The release command did not finish within ${Math.round(deps.releaseCommandTimeoutMs / 1000)} seconds and was stopped.`,
    );
  }
  const output = await outputOf(podman, name, RELEASE_OUTPUT_LINES);
  if (output) await say(output);
  if (exitCode !== 0) {
    await podman.remove(name);
    const tail = output.split("\n").slice(-OUTPUT_TAIL_LINES).join("\n");
    throw userFailure(withOutput(`The release command failed with exit code ${exitCode}.`, tail));
  }
  await say("==> The release command succeeded");
  await step(deps, "release_command:exited");
}
