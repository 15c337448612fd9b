/**
 * Durations as the config and the CLI spell them: `500ms`, `30s`, `2m`,
 * `1h`, `90d`. One pattern for the config schema and parseDuration, so what
 * validates is exactly what parses. (cli/commands/canary.ts keeps a copy for
 * commander's synchronous option check; it says why.)
 */
import { StranglerError } from './errors.js';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export const DURATION_PATTERN = /^(\d+)(ms|s|m|h|d)$/;

/** Milliseconds from `500ms`, `30s`, `2m`, `1h`, `90d` or a number of ms. */
export function parseDuration(d: string | number): number {
  if (typeof d === 'number') return d;
  const m = DURATION_PATTERN.exec(d);
  if (!m) throw new StranglerError('STRANGLER_E_USAGE', `bad duration "${d}": expected e.g. 500ms, 30s, 2m`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}
