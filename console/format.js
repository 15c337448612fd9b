/** Number formatting shared by the views. */
export const pct = (x, digits = 2) =>
  x === null || x === undefined ? '–' : `${+(x * 100).toFixed(digits)}%`;
export const ms = (x) =>
  x === null || x === undefined ? '–' : x >= 100 ? `${Math.round(x)} ms` : `${+x.toFixed(2)} ms`;
export const num = (x) =>
  x === null || x === undefined ? '–' : Number.isInteger(x) ? x.toLocaleString('en') : `${+x.toFixed(3)}`;
export const time = (t) => new Date(t).toLocaleTimeString('en-GB', { hour12: false });
export const dateTime = (t) =>
  new Date(t)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');

/** A gate check as "measured vs limit": `0.995 ≥ 0.999` with the units of its kind. */
/**
 * What a route matches: `GET,POST /api/block/*` for an HTTP route, and for an
 * extraction point the function it is and the service path its calls go to
 * (`function block-check → /internal/block-check`): a point is never a
 * request on the listener, so it is not shown as one (issue 25).
 */
export function matchText(row) {
  if (row.kind === 'function') return `function ${row.id} → ${row.pattern}`;
  return `${row.methods.join(',') || '*'} ${row.pattern}`;
}

export function gateCheckText(c) {
  const f =
    c.name === 'minCompared'
      ? num
      : c.name === 'maxP99Ratio' || c.name === 'liveP99Ratio'
        ? (x) => (x === null ? '–' : `${+x.toFixed(2)}×`)
        : (x) => pct(x, 3);
  const op = c.name.startsWith('min') ? '≥' : '≤';
  const label =
    {
      minCompared: 'compared',
      minMatchRate: 'match rate',
      maxP99Ratio: 'p99 ratio',
      maxErrorRate: 'shadow errors',
      liveErrorRate: 'live errors',
      liveP99Ratio: 'canary p99 ratio',
    }[c.name] ?? c.name;
  return `${label} ${f(c.measured)} (needs ${op} ${f(c.limit)})`;
}

export function modeText(mode, weight) {
  return mode === 'canary' ? `canary ${weight}%` : mode;
}
