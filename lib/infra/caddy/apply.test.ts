import { describe, expect, it } from "vitest";
import { type ApplyOptions, applyCaddyConfig, backoffDelay, type CaddyClient } from "./index";
import { CONFIG, FAST_RETRY, recordingSleep, rejectsWithCaddyError } from "./test-fixtures";

describe("applyCaddyConfig", () => {
  const stubClient = (load: () => Promise<void>): CaddyClient => ({
    getConfig: async () => null,
    load,
    ping: async () => {},
    hasId: async () => false,
    close: async () => {},
  });

  it("does not retry errors that are not CaddyErrors", async () => {
    let calls = 0;
    const client = stubClient(async () => {
      calls++;
      throw new TypeError("bug");
    });
    const { delays, sleep } = recordingSleep();
    await expect(applyCaddyConfig(client, CONFIG, { retry: FAST_RETRY, sleep })).rejects.toThrow(TypeError);
    expect(calls).toBe(1);
    expect(delays).toHaveLength(0);
  });

  it.each<ApplyOptions["retry"]>([
    { attempts: 0, baseDelayMs: 100, maxDelayMs: 1_000 },
    { attempts: 1.5, baseDelayMs: 100, maxDelayMs: 1_000 },
    { attempts: 3, baseDelayMs: -1, maxDelayMs: 1_000 },
    { attempts: 3, baseDelayMs: 100, maxDelayMs: 50 },
    { attempts: 3, baseDelayMs: 100, maxDelayMs: Number.POSITIVE_INFINITY },
  ])("refuses the retry policy %j", async (retry) => {
    const client = stubClient(async () => {});
    const err = await rejectsWithCaddyError(applyCaddyConfig(client, CONFIG, { retry }));
    expect(err.kind).toBe("invalid_option");
  });
});

describe("backoffDelay", () => {
  const policy = { attempts: 10, baseDelayMs: 100, maxDelayMs: 1_000 };

  it("doubles per attempt, caps at maxDelayMs and keeps jitter in the upper half", () => {
    expect([1, 2, 3, 4, 5, 9].map((n) => backoffDelay(policy, n, () => 0))).toEqual([50, 100, 200, 400, 500, 500]);
    expect([1, 2, 3, 4, 5, 9].map((n) => backoffDelay(policy, n, () => 0.999_999))).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
  });
});
