/**
 * The newest example sample per differing field, which both stores keep
 * beside the sample ring (ShadowEvidence.fieldExamples): the ring holds the
 * newest few mismatches of any kind, so a field that differs rarely would
 * lose its example to a frequent one; the console and `strangler shadow
 * report` show one pair per field. Bounded per route; a field beyond the
 * bound keeps no example of its own (it may still be in the ring).
 */
import type { ShadowSample } from './types.js';

/** Fields per route with an example kept. */
export const MAX_FIELD_EXAMPLES = 200;

/** The newest sample of each field in one batch (samples oldest first). */
export function newestPerField(samples: readonly ShadowSample[]): Map<string, ShadowSample> {
  const out = new Map<string, ShadowSample>();
  for (const s of samples) for (const f of s.fields ?? []) out.set(f, s);
  return out;
}
