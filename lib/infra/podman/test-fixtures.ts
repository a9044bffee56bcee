import { expect } from "vitest";
import { CommandError, type ExecOptions, type ExecResult, type Executor } from "../exec";
import { createPodman, type PodmanConfig, PodmanError } from "./index";

// Shared by the podman adapter's unit tests: a recording fake Executor, fixtures and hostile inputs. Not a test file
// itself (vitest collects *.test.ts only).

export const PODMAN = "/usr/bin/podman";
export const TEAM = "7c1e4a52-3b6d-4f0e-9a21-5d8c3e7f1b90";
export const APP = "0f3c2a6e-8b1d-4c7e-9a5f-2d4b6c8e0a1b";
export const DEPLOYMENT = "5e9d7b31-2c4a-4e8f-b6d0-1a3c5e7f9b2d";
export const APP_HEX = "0f3c2a6e8b1d4c7e9a5f2d4b6c8e0a1b";
const TEAM_HEX = "7c1e4a523b6d4f0e9a215d8c3e7f1b90";
export const NAME = `tsl-${APP_HEX}-12-0`;
export const NETWORK = `tsl-${TEAM_HEX}-net`;
export const IMAGE = `localhost/tsl-${APP_HEX}:r12`;
export const CONTAINER_ID = "c".repeat(64);
export const IMAGE_ID = "e".repeat(64);
export const ENV = { PATH: "/usr/bin", HOME: "/root" };
export const CONFIG: PodmanConfig = {
  podmanPath: PODMAN,
  runtime: "runsc-hostnet",
  runtimeFlags: ["network=host"],
  env: ENV,
};
export const LABELS = { team: TEAM, app: APP, deployment: DEPLOYMENT };

export type Call = { file: string; args: string[]; options: ExecOptions };
type Answer = Partial<ExecResult> | CommandError;

// Records every call and answers from a queue; an empty queue answers with empty output and exit code 0.
export function fake(...answers: Answer[]) {
  const calls: Call[] = [];
  const exec: Executor = async (file, args, options) => {
    calls.push({ file, args: [...args], options });
    const answer = answers.shift() ?? {};
    if (answer instanceof Error) throw answer;
    return { stdout: "", stderr: "", exitCode: 0, durationMs: 1, ...answer };
  };
  return { calls, podman: createPodman(exec, CONFIG) };
}

export function exitError(exitCode: number, stderr: string): CommandError {
  return new CommandError({ kind: "exit", file: PODMAN, args: [], exitCode, stderr });
}

export async function podmanError(promise: Promise<unknown>): Promise<PodmanError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof PodmanError) return err;
    throw err;
  }
  throw new Error("expected a PodmanError");
}

export function only(calls: Call[]): Call {
  expect(calls).toHaveLength(1);
  const [call] = calls;
  if (call === undefined) throw new Error("no call");
  return call;
}

export const HOSTILE_NAMES = [
  "../x",
  "a;id",
  "$(id)",
  "-rf",
  "--privileged",
  "tsl-a b",
  `tsl-${APP_HEX} x`,
  `tsl-${APP_HEX}\n`,
  `tsl-${APP_HEX}/../x`,
  `TSL-${APP_HEX}`,
  // Look-alikes: fullwidth digits, Cyrillic "а" and "ѕ".
  `tsl-${"０".repeat(32)}`,
  `tsl-${APP_HEX.slice(0, 31)}а`,
  `tѕl-${APP_HEX}`,
  // Over 63 characters although each part matches.
  `tsl-${APP_HEX}-aaaaaaaaaaaa-bbbbbbbbbbbb-cccccccccccc`,
  "",
  "tsl-",
];

export const HOSTILE_IMAGES = [
  "../x",
  "a;id",
  "$(id)",
  "-rf",
  "--privileged",
  "python 3",
  "python\n",
  "ｐython",
  "Python:3",
  "/etc/passwd",
  "x:",
  "x:-rf",
  "a".repeat(256),
  "",
];
