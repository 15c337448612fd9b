/**
 * Redaction: the one rule for what never reaches the store, an export or a
 * log — recorded cases (shadow/recording.ts) and mismatch samples
 * (shadow/record.ts) alike. Credential headers are redacted whatever the
 * config says; `shadow.redact` and `shadow.record.redact.headers` add header
 * names, `shadow.record.redact.json` JSON paths. A redacted value becomes a
 * marker that says what was removed (`[redacted: authorization]`,
 * `[redacted: $.user.email]`), never what it was.
 */
import type { RouteConfig } from '../core/config.js';
import { fieldValue } from '../core/header-fields.js';
import { JsonNumber, type JsonValue, parseJsonExact, stringifyJson } from './json.js';
import { compileIgnore, formatJsonPath, type IgnoreMatcher, type PathSegment } from './paths.js';

/**
 * Credential headers redacted whatever the config says: the ones the issue
 * names, and any name that says it carries a secret (`x-session-token`,
 * `x-client-secret`), since a header invented by the monolith is as secret as
 * a standard one.
 */
const CREDENTIAL_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'api-key',
  'apikey',
  'x-auth-token',
  'x-access-token',
  'x-amz-security-token',
  'x-goog-api-key',
  'x-csrf-token',
  'x-xsrf-token',
]);
// Name parts that mark a credential whatever the header is called
// (`X-Jwt`, `Cookie2`, `X-Hub-Signature-256`, `X-Private-Key`): a probe of
// main found these in an export; a false positive only hides a value.
const SECRET_NAME =
  /(^|[-_])(auth[a-z]*|token|secret|password|passwd|pass|api[-_]?key|session|sid|cookie\d*|jwt|bearer|signature|credentials?|private[-_]?key|otp)([-_]|\d|$)/;

/** The marker that replaces a redacted value: says what was removed, never what it was. */
export const redactedMarker = (what: string) => `[redacted: ${what}]`;

export interface Redaction {
  header(name: string): boolean;
  json: IgnoreMatcher;
}

/** A route's redaction: the built-in credential headers, shadow.redact, and shadow.record.redact. */
export function routeRedaction(route: RouteConfig): Redaction {
  const names = new Set([
    ...route.shadow.redact.map((h) => h.toLowerCase()),
    ...route.shadow.record.redact.headers.map((h) => h.toLowerCase()),
  ]);
  return {
    header: (name) => CREDENTIAL_HEADERS.has(name) || names.has(name) || SECRET_NAME.test(name),
    json: compileIgnore(route.shadow.record.redact.json, `routes[${route.id}].shadow.record.redact.json`),
  };
}

/** Headers lower-cased, `drop`ped ones left out, redacted ones replaced by a marker (noted in `redacted`). */
export function redactHeaders(
  h: Record<string, string | string[] | undefined>,
  redaction: Redaction,
  redacted: Set<string> = new Set(),
  drop: (name: string) => boolean = () => false,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    const name = k.toLowerCase();
    if (v === undefined || drop(name)) continue;
    if (redaction.header(name)) {
      out[name] = redactedMarker(name);
      redacted.add(`header:${name}`);
    } else out[name] = fieldValue(v);
  }
  return out;
}

/** Replace every node the JSON paths name with a marker naming its path; returns the (new) value. */
function redactJsonValue(
  v: JsonValue,
  segs: PathSegment[],
  m: IgnoreMatcher,
  redacted: Set<string>,
): JsonValue {
  if (segs.length > 0 && m.json(segs)) {
    const path = formatJsonPath(segs);
    redacted.add(path);
    return redactedMarker(path);
  }
  if (v === null || typeof v !== 'object' || v instanceof JsonNumber) return v;
  if (Array.isArray(v)) return v.map((x, i) => redactJsonValue(x, [...segs, i], m, redacted));
  const out: { [k: string]: JsonValue } = {};
  for (const k of Object.keys(v)) out[k] = redactJsonValue(v[k], [...segs, k], m, redacted);
  return out;
}

/**
 * A body text with the configured JSON paths redacted (numbers kept as sent);
 * text that is not JSON has nothing a path can name and is returned as is.
 */
export function redactBodyText(
  text: string,
  redaction: Redaction,
  redacted: Set<string> = new Set(),
): string {
  if (redaction.json.empty || text.length === 0) return text;
  let parsed: JsonValue;
  try {
    parsed = parseJsonExact(text);
  } catch {
    return text;
  }
  const here = new Set<string>();
  const out = redactJsonValue(parsed, [], redaction.json, here);
  if (here.size === 0) return text;
  for (const p of here) redacted.add(p);
  return stringifyJson(out, Number.POSITIVE_INFINITY);
}

/** Whether a difference's field (`$.user.email`, `header:set-cookie`) is redacted: its values are not shown. */
export function redactsField(field: string, redaction: Redaction): boolean {
  if (field.startsWith('header:')) return redaction.header(field.slice('header:'.length));
  return !redaction.json.empty && redaction.json.field(field);
}
