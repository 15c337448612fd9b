/**
 * A route's circuit-breaker state as the audit log tells it: the proxy writes
 * breaker.open / breaker.half-open / breaker.close rows, so any process (the
 * CLI with no proxy running, the progress report) can read the latest state.
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** Latest state per route from audit rows in seq order (later rows win). */
export function breakerStatesFromAudit(
  entries: ReadonlyArray<{ route: string | null; action: string }>,
): Record<string, BreakerState> {
  const out: Record<string, BreakerState> = {};
  for (const e of entries) {
    if (!e.route) continue;
    if (e.action === 'breaker.open') out[e.route] = 'open';
    else if (e.action === 'breaker.half-open') out[e.route] = 'half-open';
    else if (e.action === 'breaker.close') out[e.route] = 'closed';
  }
  return out;
}
