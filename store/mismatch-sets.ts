/**
 * The bounded map of mismatch field sets the store keeps per route (see
 * shadow/noise.ts for what the sets are for). Defined here, at the bottom
 * layer, because both stores enforce the bound when they merge a batch and
 * the shadow hook uses the same rule while it builds one; Redis does the same
 * merge in Lua (store/redis/shadow.ts) so two proxies cannot both add the
 * last allowed set.
 */

/** Key of the pooled bucket for requests whose field set was not kept. */
export const OVERFLOW_SET = '*';
/** Distinct field sets kept per route before pooling. */
export const MAX_MISMATCH_SETS = 1000;

/** Add `add` into `into`, pooling keys beyond the bound. Mutates and returns `into`. */
export function mergeMismatchSets(
  into: Record<string, number>,
  add: Record<string, number>,
  max = MAX_MISMATCH_SETS,
): Record<string, number> {
  let size = Object.keys(into).length;
  for (const [k, v] of Object.entries(add)) {
    if (k in into) into[k] += v;
    else if (size < max || k === OVERFLOW_SET) {
      into[k] = v;
      size++;
    } else into[OVERFLOW_SET] = (into[OVERFLOW_SET] ?? 0) + v;
  }
  return into;
}
