/**
 * What one shadow exchange adds to its route's evidence batch: the comparison
 * of the two sides (or why there was none), and the noise learned from two
 * legacy answers to the same request. Pure apart from the batch it fills: no
 * sockets, no clock, so each decision is testable with plain values.
 */
import type { RouteConfig } from '../core/config.js';
import type { Target } from '../core/types.js';
import type { ShadowBatch, ShadowSample } from '../store/types.js';
import { SkipError } from './collect.js';
import {
  type CapturedResponse,
  type DiffOptions,
  decodeBody,
  diffResponses,
  headerValue,
  type ShadowDiff,
} from './diff.js';
import { mergeMismatchSets, mismatchSetKey } from './noise.js';
import { type Redaction, redactBodyText, redactedMarker, redactHeaders, redactsField } from './redaction.js';
import type { PrimaryExchange } from './types.js';

/** An answer from either side, with the time it took. */
export interface Answer extends CapturedResponse {
  body: Buffer;
  durationMs: number;
}

/** Everything one shadow exchange brought back. */
export interface ExchangeOutcome {
  /** The side the copy went to; the primary came from the other one. */
  side: Target;
  primary: Answer;
  copy: PromiseSettledResult<Answer>;
  /** An extraction point's second answer of the monolith function (taken by its client), compared with the primary. */
  local?: Answer;
  /** A second legacy answer asked over HTTP for noise, compared with the pair's legacy answer. */
  again?: PromiseSettledResult<Answer>;
}

/** A route's recording settings, built once per route. */
export interface RouteRecording {
  diffOptions: DiffOptions;
  sampleRing: number;
}

/** Builds a mismatch sample; called only for the mismatches the batch keeps (see wantSample). */
export type SampleMaker = (legacy: Answer, service: Answer, diff: ShadowDiff) => ShadowSample;

/** Add one exchange to its route's batch: the comparison first, then the noise pair if there is one. */
export function recordExchange(
  b: ShadowBatch,
  o: ExchangeOutcome,
  rec: RouteRecording,
  sample: SampleMaker,
): void {
  if (o.copy.status === 'rejected') recordCopyFailure(b, o.side, o.copy.reason);
  else {
    const legacy = o.side === 'service' ? o.primary : o.copy.value;
    const service = o.side === 'service' ? o.copy.value : o.primary;
    recordComparison(b, legacy, service, rec, sample);
  }
  if (o.local) recordNoise(b, o.primary, o.local, rec.diffOptions);
  else if (o.again?.status === 'fulfilled') {
    // Two legacy answers to the same request: whatever differs is noise.
    const first = o.side === 'service' ? o.primary : o.copy.status === 'fulfilled' ? o.copy.value : undefined;
    if (first) recordNoise(b, first, o.again.value, rec.diffOptions);
  } else if (o.again?.status === 'rejected') count(b.skipped, `noise-${skipReason(o.again.reason)}`);
}

function recordCopyFailure(b: ShadowBatch, side: Target, reason: unknown): void {
  const why = skipReason(reason);
  // Caps are not the other side's fault; timeouts and failures are.
  if (why === 'timeout' || why === 'error') b.errors[side]++;
  count(b.skipped, why);
}

function recordComparison(
  b: ShadowBatch,
  legacy: Answer,
  service: Answer,
  rec: RouteRecording,
  sample: SampleMaker,
): void {
  const diff = diffResponses(legacy, service, rec.diffOptions);
  b.compared++;
  b.latency.legacy.push(round(legacy.durationMs));
  b.latency.service.push(round(service.durationMs));
  if (diff.fields.length === 0) {
    b.matched++;
    return;
  }
  for (const f of diff.fields) count(b.fieldDiffs, f);
  const key = mismatchSetKey(diff.fields);
  b.mismatchSets ??= {};
  mergeMismatchSets(b.mismatchSets, { [key]: 1 });
  if (wantSample(b, key, rec.sampleRing)) {
    b.samples.push(sample(legacy, service, diff));
    b.sampleRing = rec.sampleRing;
  }
}

function recordNoise(b: ShadowBatch, first: Answer, second: Answer, diffOptions: DiffOptions): void {
  const noise = diffResponses(first, second, diffOptions);
  b.noisePairs++;
  for (const f of noise.fields) count(b.fieldNoise, f);
}

const skipReason = (reason: unknown) => (reason instanceof SkipError ? reason.reason : 'error');
const count = (counts: Record<string, number>, key: string) => {
  counts[key] = (counts[key] ?? 0) + 1;
};
const round = (ms: number) => Math.round(ms * 100) / 100;

/**
 * Building a sample (decoding and copying both bodies) costs more than the
 * diff, and the ring keeps only the newest few anyway. Per flush interval a
 * route takes the first few mismatches, then only ones with a combination of
 * differing fields not yet sampled in this batch, up to the ring size: the
 * report's "example pair per field" needs variety, not volume.
 */
const EVERY_KIND_FIRST = 3;
const sampledKeys = new WeakMap<ShadowBatch, Set<string>>();
function wantSample(b: ShadowBatch, key: string, ring: number): boolean {
  if (b.samples.length >= ring) return false;
  let keys = sampledKeys.get(b);
  if (!keys) {
    keys = new Set();
    sampledKeys.set(b, keys);
  }
  if (keys.has(key) && b.samples.length >= EVERY_KIND_FIRST) return false;
  keys.add(key);
  return true;
}

/** Stored sample bodies are cut here: samples are for reading, not replaying. */
const SAMPLE_BODY_CHARS = 16 * 1024;

function bodyText(r: CapturedResponse, redaction: Redaction): string {
  if (!r.body) return '';
  let b: Buffer;
  try {
    b = decodeBody(r.body, headerValue(r.headers, 'content-encoding'));
  } catch {
    return `<${r.body.length} bytes, undecodable>`;
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    return `<${b.length} bytes binary>`;
  }
  // Redacted before it is cut: a cut JSON text is no longer JSON a path can name.
  text = redactBodyText(text, redaction);
  return text.length > SAMPLE_BODY_CHARS ? text.slice(0, SAMPLE_BODY_CHARS) + '…' : text;
}

/** A mismatch as the store keeps it: redacted (shadow/redaction.ts), bodies decoded and cut, at most 50 differences. */
export function sampleOf(
  route: RouteConfig,
  ex: PrimaryExchange,
  legacy: CapturedResponse,
  service: CapturedResponse,
  diff: ShadowDiff,
  redaction: Redaction,
  at: Date,
): ShadowSample {
  const hide = (field: string, v: string | undefined) =>
    v !== undefined && redactsField(field, redaction) ? redactedMarker(field) : v;
  return {
    at: at.toISOString(),
    endpoint: `${ex.method} ${ex.pattern || route.match.path}`,
    primary: ex.target,
    request: { method: ex.method, url: ex.url, headers: redactHeaders(ex.requestHeaders, redaction) },
    legacy: {
      status: legacy.status,
      headers: redactHeaders(legacy.headers, redaction),
      body: bodyText(legacy, redaction),
    },
    service: {
      status: service.status,
      headers: redactHeaders(service.headers, redaction),
      body: bodyText(service, redaction),
    },
    differences: diff.differences.slice(0, 50).map((d) => ({
      path: d.path,
      kind: d.kind,
      ...(d.legacy !== undefined ? { legacy: hide(d.field, d.legacy) } : {}),
      ...(d.service !== undefined ? { service: hide(d.field, d.service) } : {}),
    })),
    // The store keeps this sample as the newest example of each of these fields.
    fields: diff.fields.slice(0, 50),
  };
}
