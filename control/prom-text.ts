/**
 * Read samples back out of Prometheus text exposition format (0.0.4), so the
 * console can show what the data plane counts only as metrics (failovers by
 * reason, unmatched requests) without a second bookkeeping path in the proxy.
 * Handles what prom-client writes: `name{label="value",...} number`, with
 * `\\`, `\"` and `\n` escapes in label values; comments and blank lines are
 * skipped.
 */

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?/gy;

function unescapeLabel(v: string): string {
  return v.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

function parseValue(s: string): number {
  if (s === '+Inf') return Number.POSITIVE_INFINITY;
  if (s === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(s);
}

export function parsePromText(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    if (m[2]) {
      LABEL.lastIndex = 0;
      for (let l = LABEL.exec(m[2]); l; l = LABEL.exec(m[2])) labels[l[1]] = unescapeLabel(l[2]);
    }
    out.push({ name: m[1], labels, value: parseValue(m[3]) });
  }
  return out;
}

/** Sum of `name`'s samples grouped by the given labels' values (joined with '\0'). */
export function sumBy(
  samples: readonly PromSample[],
  name: string,
  by: readonly string[],
): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples) {
    if (s.name !== name) continue;
    const key = by.map((b) => s.labels[b] ?? '').join('\0');
    out.set(key, (out.get(key) ?? 0) + s.value);
  }
  return out;
}
