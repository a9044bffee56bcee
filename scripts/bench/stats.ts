// Percentiles and the result shape every metric returns. Latencies are kept whole and sorted once: the suite's sample
// counts are small enough that exact percentiles cost nothing, and estimates would hide the tail the p99 is about.

export type MetricValue = number | string | boolean | null | MetricValue[] | { [key: string]: MetricValue };

export type Metric = {
  value: number | null;
  unit: string;
  p50?: number;
  p99?: number;
  baseline?: number;
  baseline_unit?: string;
  /** value / baseline, both measured in the same run. */
  ratio?: number;
  /** Set when a precondition is missing (no Caddy, no prepared host): the suite still succeeds. */
  skipped?: string;
  /** Set when the measurement itself failed: the suite exits 1. */
  error?: string;
  notes?: string;
  [extra: string]: MetricValue | undefined;
};

/** The q-th percentile (0..100) of an ascending array, nearest-rank; NaN for an empty one. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((q / 100) * sorted.length);
  const index = Math.min(sorted.length - 1, Math.max(0, rank - 1));
  return sorted[index] ?? Number.NaN;
}

export type Summary = { count: number; p50: number; p99: number; min: number; max: number; mean: number };

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const total = sorted.reduce((sum, value) => sum + value, 0);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    min: sorted[0] ?? Number.NaN,
    max: sorted.at(-1) ?? Number.NaN,
    mean: sorted.length === 0 ? Number.NaN : total / sorted.length,
  };
}

/** Rounds for display and JSON: sub-millisecond figures keep three decimals, larger ones fewer. */
export function round(value: number, digits?: number): number {
  if (!Number.isFinite(value)) return value;
  const places = digits ?? (Math.abs(value) >= 100 ? 1 : Math.abs(value) >= 1 ? 2 : 3);
  const factor = 10 ** places;
  return Math.round(value * factor) / factor;
}

export function ratio(value: number, baseline: number): number {
  return baseline > 0 ? round(value / baseline, 2) : Number.NaN;
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message.split("\n").slice(0, 6).join("\n");
  return String(error);
}
