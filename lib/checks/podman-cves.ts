// Known CVEs of the installed podman (and the buildah it vendors, which runs `podman build`) that matter to a
// platform building hostile Containerfiles as root, with what mitigates each here. `manage check` warns for every
// one the installed version is below the upstream fix of. Distributions backport fixes without changing the upstream
// version (Debian's 4.3.1+ds1-8+deb12uN), so a warning means "check your distribution's security tracker", and the
// mitigations are what keeps the platform safe either way.

export type PodmanCve = {
  id: string;
  /** The first upstream podman release with the fix. */
  fixedIn: string;
  summary: string;
  mitigation: string;
};

export const PODMAN_CVES: readonly PodmanCve[] = [
  {
    id: "CVE-2024-1753",
    fixedIn: "5.0.1",
    summary: "RUN --mount of a symlink in a crafted image binds the host's root filesystem into a build step",
    mitigation: "the Containerfile policy refuses every RUN --mount and local images",
  },
  {
    id: "CVE-2024-9407",
    fixedIn: "5.2.4",
    summary: "RUN --mount bind-propagation options mount host directories into a build step",
    mitigation: "the Containerfile policy refuses every RUN --mount",
  },
  {
    id: "CVE-2024-9675",
    fixedIn: "5.3.0",
    summary: "RUN --mount=type=cache with a crafted id creates or binds arbitrary host paths (buildah < 1.38.0)",
    mitigation: "the Containerfile policy refuses every RUN --mount",
  },
  {
    id: "CVE-2024-9676",
    fixedIn: "5.3.0",
    summary: "an image whose /etc/passwd or /etc/group is a symlink to a FIFO hangs podman (containers/storage)",
    mitigation: "a denial of service, not an escape: every podman command of the platform runs with a timeout",
  },
  {
    id: "CVE-2024-11218",
    fixedIn: "5.3.2",
    summary: "RUN --mount in concurrent build stages or builds races to expose host content (buildah < 1.38.1)",
    mitigation: "the Containerfile policy refuses every RUN --mount",
  },
  {
    id: "CVE-2025-9566",
    fixedIn: "5.6.1",
    summary: "podman kube play follows a symlink in a volume to overwrite host files",
    mitigation: "the platform never runs podman kube play",
  },
];

/** [major, minor, patch] of "4.3.1", "4.3.1+ds1-8", "5.0.0-rc1"; null when it is not a version. */
export function parseVersion(text: string | null | undefined): [number, number, number] | null {
  const match = /^\s*v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(text ?? "");
  if (match === null) return null;
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

function below(version: [number, number, number], fixed: [number, number, number]): boolean {
  for (let i = 0; i < 3; i += 1) {
    const a = version[i] ?? 0;
    const b = fixed[i] ?? 0;
    if (a !== b) return a < b;
  }
  return false;
}

/** The CVEs the given podman version is below the fix of; every one when the version cannot be read. */
export function podmanCvesFor(version: string | null | undefined): PodmanCve[] {
  const parsed = parseVersion(version);
  return PODMAN_CVES.filter((cve) => {
    const fixed = parseVersion(cve.fixedIn);
    return parsed === null || fixed === null || below(parsed, fixed);
  });
}

export type CveCheck = { name: string; status: "ok" | "warn"; message: string };

/** `manage check` lines: one warning per CVE, or one ok line. */
export function podmanCveChecks(version: string | null | undefined): CveCheck[] {
  const cves = podmanCvesFor(version);
  if (cves.length === 0) {
    return [{ name: "podman CVEs", status: "ok", message: `no known build CVE affects podman ${version}` }];
  }
  return cves.map((cve) => ({
    name: cve.id,
    status: "warn",
    message:
      `podman ${version ?? "(unknown version)"} is below ${cve.fixedIn}: ${cve.summary}. ` +
      `Mitigated here: ${cve.mitigation}. Upgrade podman, or check that your distribution backported the fix`,
  }));
}
