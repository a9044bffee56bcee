import { describe, expect, it } from "vitest";
import {
  addSample,
  bucketIndex,
  bucketUpperMs,
  LATENCY_BUCKETS,
  mergeInto,
  quantileMs,
  trimmed,
} from "@/lib/domain/metrics-histogram";

describe("the latency histogram", () => {
  it("puts a value in the first bucket whose upper bound is at least the value", () => {
    for (const ms of [0, 0.1, 0.25, 0.3, 1, 3.7, 12, 99.9, 1000, 30_000]) {
      const index = bucketIndex(ms);
      expect(bucketUpperMs(index)).toBeGreaterThanOrEqual(ms);
      if (index > 0) expect(bucketUpperMs(index - 1)).toBeLessThan(ms);
    }
    expect(bucketIndex(1e9)).toBe(LATENCY_BUCKETS);
  });

  it("merges exactly: the percentiles of merged histograms are those of all the samples", () => {
    const values = Array.from({ length: 1000 }, (_, i) => ((i * 7919) % 1000) / 3 + 0.2);
    const whole: number[] = [];
    const left: number[] = [];
    const right: number[] = [];
    values.forEach((value, i) => {
      addSample(whole, value);
      addSample(i % 3 === 0 ? left : right, value);
    });
    const merged = mergeInto([...left], right);
    expect(trimmed(merged)).toEqual(trimmed(whole));
    for (const q of [0.5, 0.95, 0.99]) expect(quantileMs(merged, q)).toBe(quantileMs(whole, q));
  });

  it("reports a percentile within one bucket (under 19 %) above the true value", () => {
    const counts: number[] = [];
    const values = Array.from({ length: 200 }, (_, i) => 1 + i);
    for (const value of values) addSample(counts, value);
    const p95 = quantileMs(counts, 0.95) ?? 0;
    const truth = values[Math.ceil(0.95 * values.length) - 1] ?? 0;
    expect(p95).toBeGreaterThanOrEqual(truth);
    expect(p95).toBeLessThan(truth * 1.19);
    expect(quantileMs([], 0.5)).toBeNull();
  });
});
