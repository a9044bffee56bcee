import { expect } from "vitest";
import {
  type CaddyConfig,
  CaddyError,
  type CaddyErrorKind,
  type DesiredApp,
  type RenderOptions,
  renderCaddyConfig,
} from "./index";

// Shared by the Caddy adapter's unit tests: apps, render options, the expected handlers, error helpers. Not a test
// file itself (vitest collects *.test.ts only).

export const APP_A = "0f3c2a6e-8b1d-4c7e-9a5f-2d4b6c8e0a1b";
export const APP_B = "5e9d7b31-2c4a-4e8f-b6d0-1a3c5e7f9b2d";
const APP_C = "9d2f5b63-4c7e-4a1f-8b32-6e9d4f8a2c01";
export const HEX_A = "0f3c2a6e8b1d4c7e9a5f2d4b6c8e0a1b";
export const HEX_B = "5e9d7b312c4a4e8fb6d01a3c5e7f9b2d";
export const HEX_C = "9d2f5b634c7e4a1f8b326e9d4f8a2c01";
export const ADMIN_SOCKET = "unix//run/tussilago/caddy-admin.sock";
export const OPTIONS: RenderOptions = { listen: [":80"], adminListen: ADMIN_SOCKET, automaticHttps: false };

export const TEXT = { "Content-Type": ["text/plain; charset=utf-8"] };
export const LB = { selection_policy: { policy: "round_robin" }, try_duration: "5s", try_interval: "250ms" };
export const PASSIVE = { fail_duration: "30s", max_fails: 3 };
export const FALLBACK = {
  "@id": "tsl-fallback",
  handle: [{ handler: "static_response", status_code: 404, headers: TEXT, body: "Not found.\n" }],
  terminal: true,
};

// Three apps given out of order: C with three replicas and a health check, A with two hostnames (one in capitals),
// B with no running replica.
export const DESIRED: DesiredApp[] = [
  {
    appId: APP_C,
    hostnames: ["shop.example.com"],
    upstreams: [{ dial: "127.0.0.1:41236" }, { dial: "127.0.0.1:41234" }, { dial: "127.0.0.1:41235" }],
    healthCheckPath: "/healthz?full=1",
  },
  {
    appId: APP_A,
    hostnames: ["www.Example.org", "api.example.org"],
    upstreams: [{ dial: "[::1]:8000" }],
  },
  { appId: APP_B, hostnames: ["paused.example.net"], upstreams: [], healthCheckPath: "/health" },
];

export function caddyError(fn: () => unknown): CaddyError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CaddyError) return err;
    throw err;
  }
  throw new Error("expected a CaddyError");
}

export async function rejectsWithCaddyError(promise: Promise<unknown>): Promise<CaddyError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof CaddyError) return err;
    throw err;
  }
  throw new Error("expected a CaddyError");
}

export function expectRefused(
  desired: DesiredApp[],
  kind: CaddyErrorKind,
  options: RenderOptions = OPTIONS,
): CaddyError {
  let output: CaddyConfig | undefined;
  const err = caddyError(() => {
    output = renderCaddyConfig(desired, options);
  });
  expect(output).toBeUndefined();
  expect(err.kind).toBe(kind);
  expect(err.operation).toBe("render");
  expect(err.retryable).toBe(false);
  return err;
}

export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const copy = [...items];
  let state = seed;
  for (let i = copy.length - 1; i > 0; i--) {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    const j = state % (i + 1);
    const a = copy[i];
    const b = copy[j];
    if (a === undefined || b === undefined) continue;
    copy[i] = b;
    copy[j] = a;
  }
  return copy;
}

export const CONFIG = renderCaddyConfig(DESIRED, OPTIONS);
export const FAST_RETRY = { attempts: 3, baseDelayMs: 100, maxDelayMs: 1_000 };

export function recordingSleep(): { delays: number[]; sleep: (ms: number) => Promise<void> } {
  const delays: number[] = [];
  return {
    delays,
    sleep: async (ms) => {
      delays.push(ms);
    },
  };
}
