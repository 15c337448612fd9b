/**
 * Nearest-rank quantiles, the one definition every latency figure uses (shadow
 * reports, gate evidence, metrics): the smallest sample with at least a `q`
 * share of all samples at or below it. No interpolation, so a reported p99 is a
 * latency some request really had.
 */

/** Nearest-rank quantile (`q` in [0, 1]) of an ascending array; undefined for none. */
export function nearestRank(sorted: readonly number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** Nearest-rank quantile of samples in any order (sorted on a copy); undefined for none. */
export function sampleQuantile(samples: readonly number[], q: number): number | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  return nearestRank(sorted, q);
}
