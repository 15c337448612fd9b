import { percent } from '../../core/percent.js';
import type { LatencySummary, ShadowRouteReport } from './types.js';

export const pct = (x: number | null): string => (x === null ? 'n/a' : percent(x, 2, 'fixed'));
export const ms = (x: number | undefined): string => (x === undefined ? '-' : x.toFixed(1));

export function latencyRows(r: ShadowRouteReport): Array<[string, LatencySummary | null]> {
  return [
    ['legacy', r.latency.legacy],
    ['service', r.latency.service],
  ];
}

/**
 * What the config ignores: its patterns, always (a report right after
 * `shadow reset` still says what will be dropped), then any fields seen that
 * the patterns matched but do not spell out.
 */
export function ignoredBy(r: ShadowRouteReport, fmt: (field: string) => string = (f) => f): string | null {
  const patterns = r.ignorePatterns ?? [];
  const seen = r.ignored.map((f) => f.field).filter((f) => !patterns.includes(f));
  if (patterns.length === 0 && seen.length === 0) return null;
  const list = (xs: string[]) => xs.map(fmt).join(', ');
  return [list(patterns), seen.length ? `(matched: ${list(seen)})` : ''].filter(Boolean).join(' ');
}

export function skippedText(r: ShadowRouteReport): string {
  const parts = Object.entries(r.skipped).map(([k, v]) => `${k} ${v}`);
  return parts.length ? parts.join(', ') : 'none';
}

/** One side of an example as short display text. */
export function side(v: unknown, max = 60): string {
  if (v === undefined) return '(absent)';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}
