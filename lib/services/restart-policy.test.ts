import { describe, expect, it } from "vitest";
import {
  backoffMs,
  type CrashHistory,
  DEFAULT_RESTART_POLICY,
  decideRestart,
  NO_CRASHES,
  type RestartDecision,
  type RestartPolicy,
} from "./restart-policy";

const policy: RestartPolicy = {
  maxCrashes: 5,
  windowMs: 120_000,
  initialBackoffMs: 1_000,
  maxBackoffMs: 30_000,
  stableAfterMs: 60_000,
};

/** Crashes at the given times, each process having started `upMs` before it crashed. */
function crashAt(times: number[], upMs = 0, start: CrashHistory = NO_CRASHES): RestartDecision[] {
  let history = start;
  return times.map((crashedAt) => {
    const decision = decideRestart(policy, history, { startedAt: crashedAt - upMs, crashedAt });
    history = decision.history;
    return decision;
  });
}

describe("decideRestart", () => {
  it("doubles the backoff with each crash in a row, up to the cap", () => {
    const relaxed = { ...policy, maxCrashes: 100 };
    let history = NO_CRASHES;
    const delays: number[] = [];
    for (let crash = 0; crash < 8; crash++) {
      const at = crash * 200_000; // outside each other's window: only the backoff matters here
      const decision = decideRestart(relaxed, history, { startedAt: at - 10, crashedAt: at });
      history = decision.history;
      if (decision.action === "restart") delays.push(decision.delayMs);
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  });

  it("gives up on the fifth crash within two minutes", () => {
    const decisions = crashAt([0, 1_000, 3_000, 7_000, 15_000]);
    expect(decisions.map((decision) => decision.action)).toEqual([
      "restart",
      "restart",
      "restart",
      "restart",
      "give-up",
    ]);
    expect(decisions[4]?.crashesInWindow).toBe(5);
  });

  it("forgets crashes older than the window", () => {
    // Five crashes, but never five within 120 s of each other.
    const decisions = crashAt([0, 40_000, 80_000, 119_000, 121_000, 160_000]);
    expect(decisions.every((decision) => decision.action === "restart")).toBe(true);
    expect(decisions.map((decision) => decision.crashesInWindow)).toEqual([1, 2, 3, 4, 4, 4]);
  });

  it("starts the backoff over after a run that stayed up long enough", () => {
    const [first, second, afterStableRun] = [
      ...crashAt([0, 1_000]),
      ...crashAt([300_000], 60_000, { crashTimes: [0, 1_000], consecutive: 2 }),
    ];
    expect(first).toMatchObject({ action: "restart", delayMs: 1_000 });
    expect(second).toMatchObject({ action: "restart", delayMs: 2_000 });
    expect(afterStableRun).toMatchObject({ action: "restart", delayMs: 1_000, history: { consecutive: 1 } });
  });

  it("keeps doubling when the process crashes before it was stable", () => {
    const decisions = crashAt([0, 200_000, 400_000], 59_999);
    expect(decisions.map((decision) => (decision.action === "restart" ? decision.delayMs : null))).toEqual([
      1_000, 2_000, 4_000,
    ]);
  });

  it("gives up even on stable runs when they crash often enough within the window", () => {
    // A long stable run resets the backoff, not the count of recent crashes.
    const tight = { ...policy, maxCrashes: 2, stableAfterMs: 10 };
    const first = decideRestart(tight, NO_CRASHES, { startedAt: 0, crashedAt: 50 });
    const second = decideRestart(tight, first.history, { startedAt: 100, crashedAt: 200 });
    expect(first.action).toBe("restart");
    expect(second.action).toBe("give-up");
  });
});

describe("backoffMs", () => {
  it("never exceeds the cap, however many crashes", () => {
    expect(backoffMs(DEFAULT_RESTART_POLICY, 1)).toBe(1_000);
    expect(backoffMs(DEFAULT_RESTART_POLICY, 5_000)).toBe(30_000);
  });
});
