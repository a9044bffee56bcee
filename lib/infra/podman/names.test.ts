import { describe, expect, it } from "vitest";
import type { Executor } from "../exec";
import { createPodman, isImageRef, isResourceName, PodmanError, toResourceName } from "./index";
import {
  APP,
  APP_HEX,
  CONFIG,
  ENV,
  fake,
  HOSTILE_IMAGES,
  HOSTILE_NAMES,
  IMAGE,
  NAME,
  NETWORK,
  only,
  PODMAN,
  TEAM,
} from "./test-fixtures";

describe("names", () => {
  it("derives names from UUIDs only", () => {
    expect(toResourceName(APP, 12, 0)).toBe(NAME);
    expect(toResourceName(TEAM, "net")).toBe(NETWORK);
    expect(() => toResourceName("my-app")).toThrow(PodmanError);
    expect(() => toResourceName(APP, "a;id")).toThrow(PodmanError);
  });

  it("accepts the platform's own names and refuses hostile ones", () => {
    expect(isResourceName(NAME)).toBe(true);
    expect(isImageRef(IMAGE)).toBe(true);
    expect(isImageRef("docker.io/library/python:3.13-slim")).toBe(true);
    expect(isImageRef(`localhost/tsl-${APP_HEX}@sha256:${"a".repeat(64)}`)).toBe(true);
    for (const name of HOSTILE_NAMES) expect(isResourceName(name), name).toBe(false);
    for (const image of HOSTILE_IMAGES) expect(isImageRef(image), image).toBe(false);
  });
});

describe("createPodman configuration", () => {
  const exec: Executor = async () => ({ stdout: "", stderr: "", exitCode: 0, durationMs: 0 });

  it("refuses a relative podman path, odd runtimes and runtime flags with dashes", () => {
    expect(() => createPodman(exec, { ...CONFIG, podmanPath: "podman" })).toThrow(PodmanError);
    expect(() => createPodman(exec, { ...CONFIG, podmanPath: "/usr/bin/../bin/podman" })).toThrow(PodmanError);
    expect(() => createPodman(exec, { ...CONFIG, runtime: "runsc --debug" })).toThrow(PodmanError);
    expect(() => createPodman(exec, { ...CONFIG, runtime: "-runc" })).toThrow(PodmanError);
    expect(() => createPodman(exec, { ...CONFIG, runtimeFlags: ["--privileged"] })).toThrow(PodmanError);
    expect(() => createPodman(exec, { ...CONFIG, runtimeFlags: ["network=host;id"] })).toThrow(PodmanError);
  });

  it("hands podman only the configured environment", async () => {
    const { calls, podman } = fake({ stdout: "" });
    await podman.remove(NAME);
    expect(only(calls).options.env).toEqual(ENV);
    expect(only(calls).file).toBe(PODMAN);
  });
});
