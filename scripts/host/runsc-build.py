#!/usr/bin/python3
"""OCI runtime wrapper for the RUN steps of `podman build` under gVisor; installed by scripts/host-setup.sh.

Usage (as the runtime podman build is given): runsc-build.py RUNTIME [runtime arguments...]

buildah (inside podman build, podman 4.3) runs `RUNTIME create`, `start`, polls `state` until the step has stopped,
runs `delete`, and only then reaps runsc's sandbox to learn the step's exit status. runsc's gofer and sandbox were
orphaned onto buildah (a child subreaper) when `runsc create` exited, so they are zombies while `delete` runs, and
runsc 2022's `delete` waits for them to disappear until its 5 s deadline, then fails ("destroying container: stopping
container: context deadline exceeded") although it has already removed the container. That failure fails every RUN
step. Reaping them elsewhere would make `delete` fast but lose the step's exit status, so this wrapper keeps the
process tree as it is and accepts a failed `delete` when runsc no longer knows the container. It costs those 5 s
per executed RUN step (cached steps do not run). Every other subcommand is passed through unchanged.

No tenant input reaches this program: it sees only the arguments buildah gives the runtime.
"""

import os
import subprocess
import sys

SUBCOMMANDS = {
    "checkpoint", "create", "delete", "events", "exec", "features", "kill", "list", "pause", "ps", "restore",
    "resume", "run", "spec", "start", "state", "update", "wait",
}
TIMEOUT_S = 60


def main() -> int:
    if len(sys.argv) < 2:
        sys.stderr.write("usage: runsc-build.py RUNTIME [arguments...]\n")
        return 2
    runtime, args = sys.argv[1], sys.argv[2:]
    subcommand = next((arg for arg in args if arg in SUBCOMMANDS), None)
    if subcommand != "delete" or not args or args[-1].startswith("-"):
        os.execv(runtime, [runtime, *args])
    container = args[-1]
    global_flags = args[: args.index("delete")]
    deleted = subprocess.run([runtime, *args], capture_output=True, timeout=TIMEOUT_S)
    if deleted.returncode == 0:
        sys.stdout.buffer.write(deleted.stdout)
        return 0
    state = subprocess.run([runtime, *global_flags, "state", container], capture_output=True, timeout=TIMEOUT_S)
    if state.returncode != 0 and b"does not exist" in state.stderr:
        return 0
    sys.stderr.buffer.write(deleted.stderr)
    return deleted.returncode


if __name__ == "__main__":
    sys.exit(main())
