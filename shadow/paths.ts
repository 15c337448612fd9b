/**
 * JSON paths as shadow reports them: `$.items[3].name`, keys that are not
 * identifiers quoted (`$["content-type"]`). For counting, array indices are
 * generalised to `[*]` so `$.items[3].ts` and `$.items[4].ts` are one field.
 * Ignore patterns use the same syntax with wildcards: `[*]` any index, `.*` any
 * key; a pattern also drops everything below the node it names.
 */
import { StranglerError } from '../core/errors.js';

/** A key, a concrete index, or (in generalised fields) any index. */
export type PathSegment = string | number | typeof ANY_INDEX;
export const ANY_INDEX = Symbol('[*]');
const ANY_KEY = Symbol('.*');
type PatternSegment = PathSegment | typeof ANY_KEY;

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function formatSegment(s: PathSegment, generalise: boolean): string {
  if (typeof s === 'number') return generalise ? '[*]' : `[${s}]`;
  if (s === ANY_INDEX) return '[*]';
  return IDENT.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`;
}

export function formatJsonPath(segs: readonly PathSegment[]): string {
  let out = '$';
  for (const s of segs) out += formatSegment(s, false);
  return out;
}

/** The per-field counting key: indices become [*]. */
export function generaliseJsonPath(segs: readonly PathSegment[]): string {
  let out = '$';
  for (const s of segs) out += formatSegment(s, true);
  return out;
}

/** Parse `$.a[2]["b c"].*[*]`; throws with a message naming the problem. */
function parsePattern(p: string): PatternSegment[] {
  if (!p.startsWith('$')) throw new Error('a JSON path starts with $');
  const segs: PatternSegment[] = [];
  let i = 1;
  while (i < p.length) {
    if (p[i] === '.') {
      const m = /^\.(\*|[A-Za-z_$][A-Za-z0-9_$-]*)/.exec(p.slice(i));
      if (!m) throw new Error(`expected a key after '.' at ${i}`);
      segs.push(m[1] === '*' ? ANY_KEY : m[1]);
      i += m[0].length;
    } else if (p[i] === '[') {
      const rest = p.slice(i);
      const idx = /^\[(\*|\d+)\]/.exec(rest);
      if (idx) {
        segs.push(idx[1] === '*' ? ANY_INDEX : Number(idx[1]));
        i += idx[0].length;
        continue;
      }
      const q = /^\[("(?:[^"\\]|\\.)*")\]/.exec(rest);
      if (!q) throw new Error(`expected [N], [*] or ["key"] at ${i}`);
      segs.push(JSON.parse(q[1]) as string);
      i += q[0].length;
    } else throw new Error(`unexpected '${p[i]}' at ${i}`);
  }
  return segs;
}

/** A parsed generalised field (`$.items[*].ts`) back into segments. */
export function parseField(field: string): PathSegment[] | undefined {
  try {
    return parsePattern(field).map((s) => (s === ANY_KEY ? '*' : s));
  } catch {
    return undefined;
  }
}

export interface IgnoreMatcher {
  /** True when the node at `segs` (and so everything below it) is ignored. */
  json(segs: readonly PathSegment[]): boolean;
  /** For non-JSON difference paths: `status`, `header:etag`, `body`. */
  other(path: string): boolean;
  /** For a stored generalised field key (`$.items[*].ts` or `header:x`): honours patterns added after it was counted. */
  field(field: string): boolean;
  readonly empty: boolean;
}

function segMatches(p: PatternSegment, s: PathSegment): boolean {
  if (p === ANY_KEY) return typeof s === 'string';
  if (p === ANY_INDEX) return typeof s === 'number' || s === ANY_INDEX;
  return p === s;
}

/**
 * Compile `ignore` patterns once per route. `where` names the config field in
 * errors (e.g. `routes[0].shadow.ignore[2]`).
 */
export function compileIgnore(patterns: readonly string[], where = 'shadow.ignore'): IgnoreMatcher {
  const jsonPatterns: PatternSegment[][] = [];
  const others = new Set<string>();
  patterns.forEach((p, k) => {
    if (!p.startsWith('$')) {
      others.add(p.toLowerCase());
      return;
    }
    try {
      jsonPatterns.push(parsePattern(p));
    } catch (err) {
      throw new StranglerError(
        'STRANGLER_E_CONFIG',
        `${where}[${k}]: bad JSON path "${p}": ${(err as Error).message}`,
        {
          details: { field: `${where}[${k}]` },
        },
      );
    }
  });
  const json = (segs: readonly PathSegment[]) =>
    jsonPatterns.some((pat) => pat.length <= segs.length && pat.every((ps, k) => segMatches(ps, segs[k])));
  const other = (path: string) => others.has(path.toLowerCase());
  return {
    empty: patterns.length === 0,
    json,
    other,
    field(field) {
      if (!field.startsWith('$')) return other(field);
      const segs = parseField(field);
      return segs ? json(segs) : false;
    },
  };
}
