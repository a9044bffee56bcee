// The latency histogram of the HTTP metrics: fixed log-scale buckets, the same for every app, minute and bucket, so
// histograms merge exactly by adding counts (a 5-minute or 30-minute bucket's percentiles are those of all its
// requests, not an average of percentiles). Four buckets per doubling from 0.25 ms: a percentile is reported as its
// bucket's upper bound, at most 19 % above the true value; the last bucket holds everything over about 262 s.
// Stored with trailing zeros trimmed (most requests are fast), so a row holds a few dozen integers at most.

const BASE_MS = 0.25;
const PER_DOUBLING = 4;
/** Buckets with an upper bound; one more, the overflow bucket, follows them. */
export const LATENCY_BUCKETS = 80;

/** The upper bound of bucket i in milliseconds (Infinity for the overflow bucket). */
export function bucketUpperMs(index: number): number {
  if (index >= LATENCY_BUCKETS) return Number.POSITIVE_INFINITY;
  return BASE_MS * 2 ** (index / PER_DOUBLING);
}

export function bucketIndex(ms: number): number {
  if (!(ms > BASE_MS)) return 0;
  // The smallest i with BASE_MS * 2^(i/4) >= ms; the epsilon keeps an exact bound in its own bucket.
  const index = Math.ceil(Math.log2(ms / BASE_MS) * PER_DOUBLING - 1e-9);
  return Math.min(index, LATENCY_BUCKETS);
}

export function addSample(counts: number[], ms: number): void {
  const index = bucketIndex(ms);
  while (counts.length <= index) counts.push(0);
  counts[index] = (counts[index] ?? 0) + 1;
}

export function mergeInto(target: number[], source: readonly number[]): number[] {
  for (let i = 0; i < source.length; i += 1) {
    if (i >= target.length) target.push(0);
    target[i] = (target[i] ?? 0) + (source[i] ?? 0);
  }
  return target;
}

export function trimmed(counts: readonly number[]): number[] {
  let end = counts.length;
  while (end > 0 && (counts[end - 1] ?? 0) === 0) end -= 1;
  return counts.slice(0, end);
}

/**
 * The q-quantile (0 < q <= 1) in milliseconds, rounded to 0.01 ms: the upper bound of the bucket holding the
 * ceil(q * n)-th fastest request (the overflow bucket reports its lower bound). Null without requests.
 */
export function quantileMs(counts: readonly number[], q: number): number | null {
  const total = counts.reduce((sum, count) => sum + count, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < counts.length; i += 1) {
    seen += counts[i] ?? 0;
    if (seen >= rank) {
      const bound = i >= LATENCY_BUCKETS ? bucketUpperMs(LATENCY_BUCKETS - 1) : bucketUpperMs(i);
      return Math.round(bound * 100) / 100;
    }
  }
  return null;
}
