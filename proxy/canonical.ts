/**
 * The canonical request (DESIGN.md): the one normalised request target that
 * routing and every upstream — legacy, the service, shadow copies, upgrades —
 * see. Computed once per request, before the route is matched.
 *
 * Why: a proxy that routes on one spelling of a path while the upstream
 * resolves another lets `//api/block/1`, `/./api/x` or `/api/%2e%2e/admin`
 * slip past a migrated route (or into one), splitting writes between two
 * databases (issue 12). nginx and envoy route on the normalised path; so do we,
 * and we forward that same normalised path, so no upstream can disagree.
 *
 * The rules, in order (docs/routing.md has a table with examples):
 * 1. absolute-form (`GET http://host/p`) becomes origin-form; its authority
 *    becomes the Host (RFC 9112 §3.2.2). `*` is only for OPTIONS (edge-rules).
 * 2. a fragment (`#`) or a raw backslash in the path → 400; the query is kept
 *    byte for byte.
 * 3. percent-encodings (RFC 3986 §2.1, §6.2.2): unreserved characters are
 *    decoded (`%7E` → `~`, `%2e` → `.`), the rest keep their encoding with
 *    upper-case hex; `%00`-`%1F`, `%7F`, `%5C` and a bare `%` → 400; `%2F`
 *    → 400 unless `proxy.paths.encodedSlashes: pass` (then kept as `%2F`, a
 *    character inside one segment, never a separator).
 * 4. repeated slashes merged (`proxy.paths.mergeSlashes`, default true).
 * 5. dot-segments removed (RFC 3986 §5.2.4), after decoding, so `%2e%2e`
 *    is `..`.
 */

export interface PathOptions {
  mergeSlashes: boolean;
  encodedSlashes: 'reject' | 'pass';
}

export type CanonicalTarget =
  | {
      ok: true;
      /** The canonical path (no query), used for matching. */
      path: string;
      /** path + query: what every upstream receives as the request target. */
      url: string;
      /** From an absolute-form target: the authority that replaces Host. */
      authority: string | undefined;
    }
  | { ok: false; reason: string };

// Anything that may need work: a percent-encoding, a backslash, a fragment,
// a doubled slash or a dot-segment. Most real paths match none of these and
// are returned as they came (the common case costs one regex test).
const NEEDS_WORK = /[%\\#]|\/\/|\/\.\.?(?:\/|$)/;
// RFC 3986 §2.3 unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"
const UNRESERVED = /[A-Za-z0-9\-._~]/;
const HEX = '0123456789ABCDEF';
const ABSOLUTE = /^https?:\/\//i;

/** The canonical form of a request target, or why it cannot have one (→ 400). */
export function canonicalTarget(target: string, opts: PathOptions): CanonicalTarget {
  let authority: string | undefined;
  let rest = target;
  if (target.charCodeAt(0) !== 0x2f /* / */) {
    if (!ABSOLUTE.test(target)) return { ok: false, reason: 'request target is not a path or an http URL' };
    const start = target.indexOf('//') + 2;
    let end = start;
    while (end < target.length && !'/?#'.includes(target[end])) end++;
    authority = target.slice(start, end);
    if (!isValidHost(authority))
      return { ok: false, reason: 'absolute-form target has an invalid authority' };
    rest = end < target.length && target[end] === '/' ? target.slice(end) : `/${target.slice(end)}`;
  }
  const q = rest.indexOf('?');
  const rawPath = q < 0 ? rest : rest.slice(0, q);
  const query = q < 0 ? '' : rest.slice(q);
  if (query.includes('#')) return { ok: false, reason: 'request target has a fragment (#)' };
  if (!NEEDS_WORK.test(rawPath))
    return { ok: true, path: rawPath, url: authority ? rawPath + query : target, authority };

  if (rawPath.includes('#')) return { ok: false, reason: 'request target has a fragment (#)' };
  if (rawPath.includes('\\')) return { ok: false, reason: 'path has a backslash' };
  const decoded = decodeUnreserved(rawPath, opts);
  if (typeof decoded !== 'string') return decoded;
  const merged = opts.mergeSlashes ? decoded.replace(/\/{2,}/g, '/') : decoded;
  const path = removeDotSegments(merged);
  return { ok: true, path, url: path + query, authority };
}

/**
 * RFC 3986 §6.2.2.1-2: decode unreserved characters, upper-case the hex of
 * the rest; refuse the encodings an upstream could read as something else.
 */
function decodeUnreserved(p: string, opts: PathOptions): string | { ok: false; reason: string } {
  if (!p.includes('%')) return p;
  let out = '';
  let from = 0;
  for (let i = p.indexOf('%'); i >= 0; i = p.indexOf('%', from)) {
    const byte = Number.parseInt(p.slice(i + 1, i + 3), 16);
    if (i + 2 >= p.length || !/^[0-9A-Fa-f]{2}$/.test(p.slice(i + 1, i + 3)))
      return { ok: false, reason: 'path has a malformed percent-encoding' };
    if (byte < 0x20 || byte === 0x7f) return { ok: false, reason: 'path has an encoded control character' };
    if (byte === 0x5c) return { ok: false, reason: 'path has an encoded backslash (%5C)' };
    if (byte === 0x2f && opts.encodedSlashes === 'reject')
      return { ok: false, reason: 'path has an encoded slash (%2F); see proxy.paths.encodedSlashes' };
    const ch = String.fromCharCode(byte);
    out += p.slice(from, i) + (UNRESERVED.test(ch) ? ch : `%${HEX[byte >> 4]}${HEX[byte & 15]}`);
    from = i + 3;
  }
  return out + p.slice(from);
}

/** RFC 3986 §5.2.4 remove_dot_segments, for an absolute path. */
export function removeDotSegments(input: string): string {
  const segments = input.split('/');
  const out: string[] = [];
  // segments[0] is the empty string before the leading slash.
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i];
    const last = i === segments.length - 1;
    if (s === '.' || s === '..') {
      if (s === '..' && out.length > 0) out.pop();
      // A trailing dot-segment leaves a directory: `/a/b/..` → `/a/`.
      if (last) out.push('');
    } else out.push(s);
  }
  return `/${out.join('/')}`;
}

// RFC 3986 §3.2.2 host [ ":" port ]: an IP literal, or reg-name characters
// (unreserved, pct-encoded, sub-delims). No userinfo, whitespace, `/` or `\`.
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::[0-9]{0,5})?$/;

/** Whether a Host header (or an absolute-form authority) is one we can route and forward. */
export function isValidHost(host: string): boolean {
  return HOST.test(host);
}
