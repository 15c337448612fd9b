/**
 * The response diff: a pure function from two captured responses to a
 * ShadowDiff. Status, selected headers, then the body — JSON compared
 * structurally by path, anything else as text or bytes. Compressed bodies are
 * decoded first (RFC 9110 §8.4: codings are listed in the order applied, so
 * they are undone right to left).
 */
import { createHash } from 'node:crypto';
import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import { fieldValue } from '../core/header-fields.js';
import {
  canonicalJson,
  JsonNumber,
  type JsonValue,
  jsonKind,
  numberText,
  parseJsonExact,
  stringifyJson,
} from './json.js';
import {
  compileIgnore,
  formatJsonPath,
  generaliseJsonPath,
  type IgnoreMatcher,
  type PathSegment,
} from './paths.js';

export type DifferenceKind =
  | 'status'
  | 'header'
  | 'changed' // same type, other value
  | 'type' // other JSON type (or JSON on one side only)
  | 'missing' // in legacy, not in service
  | 'extra' // in service, not in legacy
  | 'length' // array lengths differ
  | 'order' // same elements, other order
  | 'text' // non-JSON bodies differ as text
  | 'bytes' // non-JSON bodies differ and are not UTF-8
  | 'undecodable'; // a content-coding could not be undone

export interface ShadowDifference {
  /** Concrete path: `$.items[3].name`, `status`, `header:content-type`, `body`. */
  path: string;
  /** Counting key: `$.items[*].name` (indices generalised). */
  field: string;
  kind: DifferenceKind;
  /** Short display text of each side (JSON text for JSON values), absent when the side has nothing there. */
  legacy?: string;
  service?: string;
}

export interface ShadowDiff {
  differences: ShadowDifference[];
  /** Distinct counting keys, sorted. */
  fields: string[];
  /** True when both bodies were compared as JSON. */
  json: boolean;
  /** More differences than `maxDifferences` existed; the rest were not listed. */
  truncated: boolean;
}

export interface CapturedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Raw body as received (possibly compressed); null = not captured. */
  body: Buffer | null;
}

export interface DiffOptions {
  /** Response headers compared besides content-type (case-insensitive). */
  compareHeaders?: readonly string[];
  /** Patterns or a compiled matcher (compile once per route on hot paths). */
  ignore?: readonly string[] | IgnoreMatcher;
  ignoreArrayOrder?: boolean;
  /** Stop listing after this many differences. */
  maxDifferences?: number;
  /** Decoded bodies larger than this are compared by hash only (zip-bomb guard). */
  maxDecodedBytes?: number;
}

const DISPLAY = 200;

export function headerValue(h: CapturedResponse['headers'], name: string): string | undefined {
  const v = h[name] ?? h[name.toLowerCase()];
  if (v === undefined) {
    // Header objects from some clients keep the sender's case.
    for (const k of Object.keys(h)) if (k.toLowerCase() === name) return fieldValue(h[k]);
    return undefined;
  }
  return fieldValue(v);
}

/** Undo Content-Encoding; throws when a coding is unknown or the data is corrupt. */
export function decodeBody(
  body: Buffer,
  contentEncoding: string | undefined,
  maxBytes = 8 * 1024 * 1024,
): Buffer {
  if (!contentEncoding) return body;
  const codings = contentEncoding
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c && c !== 'identity');
  let out = body;
  const opts = { maxOutputLength: maxBytes };
  for (const c of codings.reverse()) {
    if (c === 'gzip' || c === 'x-gzip') out = gunzipSync(out, opts);
    else if (c === 'br') out = brotliDecompressSync(out, opts);
    else if (c === 'deflate') {
      // "deflate" is meant to be zlib-wrapped (RFC 9110 §8.4.1.2) but some servers send raw deflate.
      try {
        out = inflateSync(out, opts);
      } catch {
        out = inflateRawSync(out, opts);
      }
    } else throw new Error(`unsupported content-coding "${c}"`);
  }
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
function asText(b: Buffer): string | undefined {
  try {
    return utf8.decode(b);
  } catch {
    return undefined;
  }
}

function looksJson(contentType: string | undefined, text: string): boolean {
  if (contentType && /[/+]json\b/i.test(contentType)) return true;
  const c = text.trimStart()[0];
  return c === '{' || c === '[';
}

const display = (v: JsonValue) => stringifyJson(v, DISPLAY);

function excerpt(s: string, at: number): string {
  const start = Math.max(0, at - 40);
  const cut = s.slice(start, start + DISPLAY);
  return (start > 0 ? '…' : '') + cut + (start + DISPLAY < s.length ? '…' : '');
}

class Collector {
  readonly list: ShadowDifference[] = [];
  truncated = false;
  constructor(private readonly max: number) {}
  add(d: ShadowDifference): void {
    if (this.list.length >= this.max) this.truncated = true;
    else this.list.push(d);
  }
}

/** Where the JSON walk is: one mutable path stack, plus the route's settings. */
interface JsonWalk {
  segs: PathSegment[];
  ignore: IgnoreMatcher;
  ignoreOrder: boolean;
}

const ignoredHere = (w: JsonWalk) => !w.ignore.empty && w.ignore.json(w.segs);

/** A difference at the walk's current path; a side with nothing there is left out. */
function differenceAt(
  segs: PathSegment[],
  kind: DifferenceKind,
  legacy?: string,
  service?: string,
): ShadowDifference {
  const d: ShadowDifference = { path: formatJsonPath(segs), field: generaliseJsonPath(segs), kind };
  if (legacy !== undefined) d.legacy = legacy;
  if (service !== undefined) d.service = service;
  return d;
}

/**
 * Walk both documents with one mutable path stack; strings are built only for
 * a difference. This runs for every shadowed request, so it allocates little.
 */
function diffJson(a: JsonValue, b: JsonValue, w: JsonWalk, out: Collector): void {
  if (ignoredHere(w) || a === b) return;
  const kind = jsonKind(a);
  if (kind !== jsonKind(b)) out.add(differenceAt(w.segs, 'type', display(a), display(b)));
  else if (kind === 'number') diffNumbers(a as number | JsonNumber, b as number | JsonNumber, w.segs, out);
  else if (kind === 'array') diffArrays(a as JsonValue[], b as JsonValue[], w, out);
  else if (kind === 'object') diffObjects(a as JsonObject, b as JsonObject, w, out);
  else out.add(differenceAt(w.segs, 'changed', display(a), display(b)));
}

type JsonObject = { [k: string]: JsonValue };

/** Numbers compare by canonical text (see numberText); each side is shown as it was sent. */
function diffNumbers(
  a: number | JsonNumber,
  b: number | JsonNumber,
  segs: PathSegment[],
  out: Collector,
): void {
  const ta = numberText(a);
  const tb = numberText(b);
  if (ta === tb) return;
  out.add(
    differenceAt(
      segs,
      'changed',
      a instanceof JsonNumber ? a.text : ta,
      b instanceof JsonNumber ? b.text : tb,
    ),
  );
}

function diffArrays(aa: JsonValue[], bb: JsonValue[], w: JsonWalk, out: Collector): void {
  if (aa.length !== bb.length) {
    out.add(differenceAt(w.segs, 'length', String(aa.length), String(bb.length)));
    // Common prefix only: past it, every index would report a shift, not a fact.
    diffElements(aa, bb, Math.min(aa.length, bb.length), w, out);
    return;
  }
  // Held back until we know whether the arrays differ only in order.
  const inner = new Collector(Number.POSITIVE_INFINITY);
  diffElements(aa, bb, aa.length, w, inner);
  if (inner.list.length === 0) return;
  if (!sameElements(aa, bb)) for (const d of inner.list) out.add(d);
  else if (!w.ignoreOrder) out.add(differenceAt(w.segs, 'order', display(aa), display(bb)));
}

/** Diff the first `n` elements pairwise. */
function diffElements(aa: JsonValue[], bb: JsonValue[], n: number, w: JsonWalk, out: Collector): void {
  for (let k = 0; k < n; k++) {
    w.segs.push(k);
    diffJson(aa[k], bb[k], w, out);
    w.segs.pop();
  }
}

/** The same elements, in any order. */
function sameElements(aa: JsonValue[], bb: JsonValue[]): boolean {
  const sa = aa.map(canonicalJson).sort();
  const sb = bb.map(canonicalJson).sort();
  return sa.every((x, k) => x === sb[k]);
}

/** Keys in legacy only are `missing`, keys in the service only are `extra`, shared keys recurse. */
function diffObjects(ao: JsonObject, bo: JsonObject, w: JsonWalk, out: Collector): void {
  for (const k of Object.keys(ao)) {
    w.segs.push(k);
    if (Object.hasOwn(bo, k)) diffJson(ao[k], bo[k], w, out);
    else if (!ignoredHere(w)) out.add(differenceAt(w.segs, 'missing', display(ao[k])));
    w.segs.pop();
  }
  for (const k of Object.keys(bo)) {
    if (Object.hasOwn(ao, k)) continue;
    w.segs.push(k);
    if (!ignoredHere(w)) out.add(differenceAt(w.segs, 'extra', undefined, display(bo[k])));
    w.segs.pop();
  }
}

function bytesSummary(b: Buffer): string {
  return `${b.length} bytes sha256:${createHash('sha256').update(b).digest('hex').slice(0, 16)}`;
}

const NO_HEADERS: readonly string[] = [];
const headerNameSets = new WeakMap<readonly string[], ReadonlySet<string>>();

/** content-type plus the configured names, lowercased; built once per config array. */
function headerNames(compare: readonly string[] = NO_HEADERS): ReadonlySet<string> {
  let names = headerNameSets.get(compare);
  if (!names) {
    names = new Set(['content-type', ...compare.map((h) => h.toLowerCase())]);
    headerNameSets.set(compare, names);
  }
  return names;
}

/** Compare the legacy answer `a` with the service answer `b`. Pure apart from CPU. */
export function diffResponses(
  a: CapturedResponse,
  b: CapturedResponse,
  options: DiffOptions = {},
): ShadowDiff {
  const ignore =
    options.ignore && !Array.isArray(options.ignore)
      ? (options.ignore as IgnoreMatcher)
      : compileIgnore((options.ignore as readonly string[] | undefined) ?? []);
  const out = new Collector(options.maxDifferences ?? 100);
  const other = (d: ShadowDifference) => {
    if (ignore.empty || !ignore.other(d.field)) out.add(d);
  };

  if (a.status !== b.status)
    other({
      path: 'status',
      field: 'status',
      kind: 'status',
      legacy: String(a.status),
      service: String(b.status),
    });

  const names = headerNames(options.compareHeaders);
  for (const h of names) {
    const va = headerValue(a.headers, h);
    const vb = headerValue(b.headers, h);
    if (va !== vb)
      other({ path: `header:${h}`, field: `header:${h}`, kind: 'header', legacy: va, service: vb });
  }

  let json = false;
  if (a.body && b.body) {
    const max = options.maxDecodedBytes ?? 8 * 1024 * 1024;
    let da: Buffer | undefined;
    let db: Buffer | undefined;
    try {
      da = decodeBody(a.body, headerValue(a.headers, 'content-encoding'), max);
      db = decodeBody(b.body, headerValue(b.headers, 'content-encoding'), max);
    } catch (err) {
      other({
        path: 'body',
        field: 'body',
        kind: 'undecodable',
        legacy: da ? undefined : (err as Error).message,
        service: da ? (err as Error).message : undefined,
      });
    }
    if (da && db && !da.equals(db)) json = diffBodies(da, db, a, b, ignore, options, out, other);
    else if (da && db) json = looksJson(headerValue(a.headers, 'content-type'), '');
  }
  const fields = [...new Set(out.list.map((d) => d.field))].sort();
  return { differences: out.list, fields, json, truncated: out.truncated };
}

function diffBodies(
  da: Buffer,
  db: Buffer,
  a: CapturedResponse,
  b: CapturedResponse,
  ignore: IgnoreMatcher,
  options: DiffOptions,
  out: Collector,
  other: (d: ShadowDifference) => void,
): boolean {
  const cta = headerValue(a.headers, 'content-type');
  const ctb = headerValue(b.headers, 'content-type');
  // Declared JSON is UTF-8 (RFC 8259 §8.1): skip the slower validating decoder.
  const declared = (ct: string | undefined) => ct !== undefined && /[/+]json\b/i.test(ct);
  const ta = declared(cta) ? da.toString('utf8') : asText(da);
  const tb = declared(ctb) ? db.toString('utf8') : asText(db);
  if (ta !== undefined && tb !== undefined) {
    const jsonA = looksJson(cta, ta);
    const jsonB = looksJson(ctb, tb);
    if (jsonA || jsonB) {
      let pa: JsonValue | undefined;
      let pb: JsonValue | undefined;
      try {
        pa = parseJsonExact(ta);
      } catch {}
      try {
        pb = parseJsonExact(tb);
      } catch {}
      if (pa !== undefined && pb !== undefined) {
        diffJson(pa, pb, { segs: [], ignore, ignoreOrder: options.ignoreArrayOrder ?? false }, out);
        return true;
      }
      if (pa !== undefined || pb !== undefined) {
        // JSON on one side only: a type change of the whole document.
        other({
          path: 'body',
          field: 'body',
          kind: 'type',
          legacy: pa !== undefined ? display(pa) : excerpt(ta, 0),
          service: pb !== undefined ? display(pb) : excerpt(tb, 0),
        });
        return false;
      }
    }
    let at = 0;
    while (at < ta.length && ta.charCodeAt(at) === tb.charCodeAt(at)) at++;
    other({ path: 'body', field: 'body', kind: 'text', legacy: excerpt(ta, at), service: excerpt(tb, at) });
    return false;
  }
  other({ path: 'body', field: 'body', kind: 'bytes', legacy: bytesSummary(da), service: bytesSummary(db) });
  return false;
}
