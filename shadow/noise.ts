/**
 * Noise: fields that differ between two legacy answers to the same request.
 * For a sample of shadowed requests legacy is asked twice; each field that
 * differs between the two legacy answers bumps its noise counter. As in Diffy,
 * a field is a real difference only when its difference rate against the
 * service clearly exceeds its legacy-vs-legacy rate.
 *
 * Why match status is computed here, at report time, and not when a request is
 * compared: noise is learned as traffic flows, so the first requests are
 * compared before anything is known to be noisy. The store therefore keeps,
 * besides per-field counters, the number of requests per distinct *set* of
 * differing fields (`mismatchSets`, bounded). A request matches "after noise"
 * when every field in its set is noise or ignored by the current config, so
 * noise learned later, or an `ignore` pattern added later, re-classifies old
 * requests correctly. Responses rarely differ in many distinct field
 * combinations, so the map stays small; past the bound, sets are pooled under
 * OVERFLOW_SET and always count as mismatches (never silently as matches).
 */
import type { ShadowConfig } from '../core/config.js';
import { mergeMismatchSets, OVERFLOW_SET } from '../store/mismatch-sets.js';
import type { ShadowCounters } from '../store/types.js';
import { compileIgnore } from './paths.js';

// The bound is the store's (both stores enforce it); re-exported for the shadow side.
export { mergeMismatchSets, OVERFLOW_SET };

/** A request with more distinct differing fields than this is pooled. */
export const MAX_SET_FIELDS = 32;

/** The key under which a request's differing fields are counted. */
export function mismatchSetKey(fields: readonly string[]): string {
  if (fields.length > MAX_SET_FIELDS) return OVERFLOW_SET;
  return [...fields].sort().join('\n');
}

export function mismatchSetFields(key: string): string[] | undefined {
  return key === OVERFLOW_SET ? undefined : key.split('\n');
}

/** What the noise rules read of a route's evidence: the shadow counters (store/types.ts), skips aside. */
export type NoiseCounters = Omit<ShadowCounters, 'skipped'>;

export type NoiseThresholds = Pick<
  ShadowConfig,
  'noiseRelativeThreshold' | 'noiseAbsoluteThreshold' | 'ignore'
>;

export interface FieldVerdict {
  field: string;
  diffs: number;
  noise: number;
  /** Share of compared requests where the field differed from the service. */
  diffRate: number;
  /** Share of legacy-vs-legacy pairs where it differed. */
  noiseRate: number;
  verdict: 'real' | 'noise' | 'ignored';
}

/**
 * A field never seen differing between two legacy answers is always real,
 * however rare: an absolute threshold alone would hide a 0.5% defect. A noisy
 * field is real only if its rate against the service exceeds its noise rate by
 * both margins: `diffRate > noiseRate * relative` and `diffRate - noiseRate > absolute`.
 */
export function classifyFields(c: NoiseCounters, t: NoiseThresholds): FieldVerdict[] {
  const ignore = compileIgnore(t.ignore ?? []);
  const fields = new Set([...Object.keys(c.fieldDiffs), ...Object.keys(c.fieldNoise)]);
  const out: FieldVerdict[] = [];
  for (const field of fields) {
    const diffs = c.fieldDiffs[field] ?? 0;
    const noise = c.fieldNoise[field] ?? 0;
    const diffRate = c.compared > 0 ? diffs / c.compared : 0;
    const noiseRate = c.noisePairs > 0 ? noise / c.noisePairs : 0;
    let verdict: FieldVerdict['verdict'];
    if (!ignore.empty && ignore.field(field)) verdict = 'ignored';
    else if (noise === 0) verdict = 'real';
    else
      verdict =
        diffRate > noiseRate * t.noiseRelativeThreshold && diffRate - noiseRate > t.noiseAbsoluteThreshold
          ? 'real'
          : 'noise';
    out.push({ field, diffs, noise, diffRate, noiseRate, verdict });
  }
  // Most frequent first; ties by name so output (and golden files) are stable.
  return out.sort((x, y) => y.diffs - x.diffs || y.noise - x.noise || (x.field < y.field ? -1 : 1));
}

export interface MatchSummary {
  compared: number;
  /** Requests with no difference at all. */
  exactMatched: number;
  /** Requests whose differences were all on noise or ignored fields. */
  matched: number;
  matchRate: number | null;
  fields: FieldVerdict[];
}

/** Match rate after noise, from counters alone (see the module comment). */
export function summariseMatches(c: NoiseCounters, t: NoiseThresholds): MatchSummary {
  const fields = classifyFields(c, t);
  const tolerated = new Set(fields.filter((f) => f.verdict !== 'real').map((f) => f.field));
  let matched = c.matched;
  for (const [key, n] of Object.entries(c.mismatchSets ?? {})) {
    const set = mismatchSetFields(key);
    if (set?.every((f) => tolerated.has(f))) matched += n;
  }
  return {
    compared: c.compared,
    exactMatched: c.matched,
    matched,
    matchRate: c.compared > 0 ? matched / c.compared : null,
    fields,
  };
}
