// The podman version → CVE warnings mapping of `manage check`.
import { describe, expect, it } from "vitest";
import { PODMAN_CVES, parseVersion, podmanCveChecks, podmanCvesFor } from "./podman-cves";

const ids = (version: string | null) => podmanCvesFor(version).map((cve) => cve.id);

describe("podman CVE warnings", () => {
  it("reads upstream and distribution version strings", () => {
    expect(parseVersion("4.3.1")).toEqual([4, 3, 1]);
    expect(parseVersion("4.3.1+ds1-8+deb12u1")).toEqual([4, 3, 1]);
    expect(parseVersion("5.0.0-rc1")).toEqual([5, 0, 0]);
    expect(parseVersion("v5.2")).toEqual([5, 2, 0]);
    expect(parseVersion("unknown")).toBeNull();
  });

  it("warns podman 4.3 (Debian 12) about every build CVE, including 9675, 9676 and 11218", () => {
    expect(ids("4.3.1")).toEqual(PODMAN_CVES.map((cve) => cve.id));
    expect(ids("4.3.1")).toEqual(expect.arrayContaining(["CVE-2024-9675", "CVE-2024-9676", "CVE-2024-11218"]));
  });

  it("drops each CVE at its fixed version, not before", () => {
    expect(ids("5.0.0")).toContain("CVE-2024-1753");
    expect(ids("5.0.1")).not.toContain("CVE-2024-1753");
    expect(ids("5.3.1")).toEqual(["CVE-2024-11218", "CVE-2025-9566"]);
    expect(ids("5.3.2")).toEqual(["CVE-2025-9566"]);
    expect(ids("5.6.1")).toEqual([]);
    expect(ids("6.0.0")).toEqual([]);
  });

  it("warns about all of them when the version cannot be read", () => {
    expect(ids(null)).toHaveLength(PODMAN_CVES.length);
  });

  it("says what mitigates each warning, and is ok on a fixed podman", () => {
    const checks = podmanCveChecks("4.3.1");
    const cache = checks.find((check) => check.name === "CVE-2024-9675");
    expect(cache).toMatchObject({ status: "warn" });
    expect(cache?.message).toContain("below 5.3.0");
    expect(cache?.message).toContain("the Containerfile policy refuses every RUN --mount");
    expect(podmanCveChecks("5.7.0")).toEqual([
      { name: "podman CVEs", status: "ok", message: "no known build CVE affects podman 5.7.0" },
    ]);
  });
});
