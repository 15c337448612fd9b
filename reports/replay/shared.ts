import type { ReplayResult } from '../../control/replay.js';

/** Every renderer's exit code: the replay's own verdict (control/replay.ts ReplayResult.ok). */
export const replayExit = (r: ReplayResult): number => (r.ok ? 0 : 1);

export const skippedTotal = (r: ReplayResult): number => Object.values(r.skipped).reduce((a, b) => a + b, 0);

/** Why a skip reason skipped, in words. */
export const SKIP_WORDS: Record<string, string> = {
  unsafe: 'an unsafe method on a route the file does not mark idempotent: never replayed',
  'unsafe-needs-allow-unsafe': 'an unsafe method on an idempotent route: replayed only with --allow-unsafe',
  'body-not-recorded': 'its request body was not recorded',
};

export const ms = (n: number): string => (n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`);
