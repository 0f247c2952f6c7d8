/**
 * Distributions and ratios. Every figure the bench reports is a ratio or a distribution measured side by side in
 * one run, because the machine is shared and absolute times drift.
 *
 * @module
 */

/** A latency (or any) distribution. */
export interface Summary {
  n: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/**
 * The q-quantile of sorted values (nearest rank).
 * @param sorted ascending values
 * @param q 0..1
 */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] as number;
}

/**
 * Summarises values (not modified).
 * @param values samples
 */
export function summarize(values: readonly number[] | Float64Array): Summary {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    n: sorted.length,
    min: sorted.length === 0 ? Number.NaN : (sorted[0] as number),
    p50: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p99: quantile(sorted, 0.99),
    max: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] as number),
    mean: sorted.length === 0 ? Number.NaN : sum / sorted.length,
  };
}

/** Median of values. */
export function median(values: readonly number[]): number {
  return quantile(Float64Array.from(values).sort(), 0.5);
}

/** A number with `digits` significant-ish decimals for tables: 0.9512 → "0.95", 1234.5 → "1,235". */
export function fmt(v: number, digits = 2): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString('en-US');
  if (Math.abs(v) >= 10) return v.toFixed(Math.max(0, digits - 1));
  return v.toFixed(digits);
}

/** Milliseconds for tables: 0.412 → "0.41 ms". */
export function ms(v: number): string {
  return `${fmt(v)} ms`;
}

/** Rounds every number in a Summary (JSON output). */
export function rounded(s: Summary, decimals = 3): Summary {
  const r = (v: number): number => (Number.isFinite(v) ? Math.round(v * 10 ** decimals) / 10 ** decimals : v);
  return { n: s.n, min: r(s.min), p50: r(s.p50), p90: r(s.p90), p99: r(s.p99), max: r(s.max), mean: r(s.mean) };
}
