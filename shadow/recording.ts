/**
 * Recording: shadowed exchanges kept as replayable cases (docs/replay.md).
 * After an exchange has been compared, a sampled few become cases: the
 * canonical request, legacy's answer and the route's rules; redacted here,
 * before anything leaves this module, so a credential never reaches the store,
 * an export or a log. Cases are batched off a timer like evidence (the
 * request path never waits on the store), stamped with the noise the route's
 * evidence knows at that moment, and the store trims each route to its limits
 * in the same transaction that adds.
 */
import { createHash } from 'node:crypto';
import type { RecordConfig, RouteConfig } from '../core/config.js';
import { parseDuration } from '../core/duration.js';
import type { Logger } from '../core/log.js';
import { isSafeMethod } from '../core/resend.js';
import type { Store } from '../store/types.js';
import { decodeBody, headerValue } from './diff.js';
import { classifyFields } from './noise.js';
import { type Redaction, redactBodyText, redactHeaders } from './redaction.js';
import type { CaseBody, StoredCase } from './recording-format.js';
import type { Answer } from './record.js';
import type { PrimaryExchange } from './types.js';

/** Request headers that describe one hop or one trace, not the request: a replay sends its own. */
const HOP_REQUEST_HEADERS = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'expect',
  'forwarded',
  'via',
  'traceparent',
  'tracestate',
  'x-request-id',
]);
/** Response headers that a recorded (decoded) body makes wrong or that every answer has different. */
const HOP_RESPONSE_HEADERS = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'content-encoding',
  'date',
  'trailer',
  'upgrade',
]);
const dropRequestHeader = (name: string) =>
  HOP_REQUEST_HEADERS.has(name) || name.startsWith('x-forwarded-') || name.startsWith('x-strangler-');

/**
 * A body as a case keeps it: content-coding undone, JSON paths redacted,
 * UTF-8 text as text and anything else as base64. A body that cannot be
 * decoded is kept as received (base64) with its coding named in `coding`.
 */
function recordBody(
  raw: Buffer,
  contentEncoding: string | undefined,
  redaction: Redaction,
  redacted: Set<string>,
): { body: CaseBody; decoded: boolean } {
  let bytes: Buffer;
  try {
    bytes = decodeBody(raw, contentEncoding);
  } catch {
    return { body: { base64: raw.toString('base64') }, decoded: false };
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { body: { base64: bytes.toString('base64') }, decoded: true };
  }
  text = redactBodyText(text, redaction, redacted);
  return { body: { text }, decoded: true };
}

/** A stable id: the same recorded request at the same moment is the same case in every export. */
function caseId(c: Omit<StoredCase, 'id' | 'rules'>): string {
  return createHash('sha256')
    .update(
      JSON.stringify([c.at, c.request.method, c.request.url, c.request.headers, c.request.body ?? null]),
    )
    .digest('hex')
    .slice(0, 12);
}

/**
 * One exchange as a case, redacted; pure. `legacy` is legacy's answer
 * (the primary in shadow mode, the copy with shadow.reverse).
 */
export function caseOf(
  route: RouteConfig,
  ex: PrimaryExchange,
  legacy: Answer,
  redaction: Redaction,
  at: Date,
): StoredCase {
  const redacted = new Set<string>();
  const request: StoredCase['request'] = {
    method: ex.method.toUpperCase(),
    url: ex.url,
    headers: redactHeaders(ex.requestHeaders, redaction, redacted, dropRequestHeader),
  };
  // A body is kept only where sending it again is harmless (docs/replay.md).
  const bodyKept = isSafeMethod(request.method) || route.idempotent;
  if (ex.requestBody && ex.requestBody.length > 0) {
    if (bodyKept) {
      const r = recordBody(
        ex.requestBody,
        headerValue(ex.requestHeaders, 'content-encoding'),
        redaction,
        redacted,
      );
      request.body = r.body;
      // The recorded body is encoded as sent: a replay sends the bytes with the same coding header.
      if (!r.decoded)
        request.headers['content-encoding'] = headerValue(ex.requestHeaders, 'content-encoding')!;
      else delete request.headers['content-encoding'];
    } else request.bodyOmitted = true;
  }
  const legacyBody = recordBody(
    legacy.body,
    headerValue(legacy.headers, 'content-encoding'),
    redaction,
    redacted,
  );
  const legacyHeaders = redactHeaders(legacy.headers, redaction, redacted, (n) =>
    HOP_RESPONSE_HEADERS.has(n),
  );
  if (!legacyBody.decoded)
    legacyHeaders['content-encoding'] = headerValue(legacy.headers, 'content-encoding')!;
  const c = {
    at: at.toISOString(),
    request,
    legacy: { status: legacy.status, headers: legacyHeaders, body: legacyBody.body },
    noise: [] as string[],
    redacted: [...redacted].sort(),
  };
  return {
    id: caseId(c),
    ...c,
    rules: {
      match: {
        path: route.match?.path ?? route.path ?? '/',
        ...(route.match?.methods ? { methods: [...route.match.methods] } : {}),
      },
      idempotent: route.idempotent,
      ignore: [...route.shadow.ignore],
      compareHeaders: [...route.shadow.compareHeaders],
      ignoreArrayOrder: route.shadow.ignoreArrayOrder,
    },
  };
}

/** Field keys the route's evidence classifies as noise now. */
export async function noiseNow(store: Pick<Store, 'shadow'>, route: RouteConfig): Promise<string[]> {
  const evidence = await store.shadow.evidence(route.id);
  return classifyFields(evidence, route.shadow)
    .filter((f) => f.verdict === 'noise')
    .map((f) => f.field)
    .sort();
}

/**
 * Pending cases per route beyond this many, or beyond the route's maxBytes,
 * are dropped (counted as `record-cap`): the store is behind, and would keep
 * no more than maxBytes of them anyway. Memory stays bounded whatever the rate.
 */
const MAX_PENDING = 1000;
const NOISE_REFRESH_MS = 10_000;

export interface RecordingBatcherOptions {
  store: Pick<Store, 'shadow' | 'recordings'>;
  logger?: Logger;
  flushIntervalMs: number;
  /** Counts a case dropped before the store (pending over the bound). */
  dropped(route: string, reason: string): void;
  now?: () => number;
}

/** Holds cases per route and writes them, stamped with the noise known then, off a timer. */
export class RecordingBatcher {
  private pending = new Map<string, { route: RouteConfig; cases: StoredCase[]; bytes: number }>();
  private noiseCache = new Map<string, { at: number; fields: string[] }>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly o: RecordingBatcherOptions) {}

  add(route: RouteConfig, c: StoredCase): void {
    let p = this.pending.get(route.id);
    if (!p) {
      p = { route, cases: [], bytes: 0 };
      this.pending.set(route.id, p);
    }
    p.route = route;
    // Bodies dominate a case's size; one case over the route's whole budget would be trimmed at once.
    const bytes = caseBytes(c);
    if (p.cases.length >= MAX_PENDING || p.bytes + bytes > route.shadow.record.maxBytes) {
      this.o.dropped(route.id, 'record-cap');
      return;
    }
    p.bytes += bytes;
    p.cases.push(c);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.o.flushIntervalMs);
    this.timer.unref?.();
  }

  /** Write what is pending; serialised so two flushes never interleave a route's cases. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  /**
   * The route's noise, read again at most every NOISE_REFRESH_MS: reading the
   * evidence parses its sample ring, too much to do every second per route
   * in the proxy's process, and noise moves slowly.
   */
  private async noise(route: RouteConfig, now: number): Promise<string[]> {
    const known = this.noiseCache.get(route.id);
    if (known && now - known.at < NOISE_REFRESH_MS) return known.fields;
    const fields = await noiseNow(this.o.store, route);
    this.noiseCache.set(route.id, { at: now, fields });
    return fields;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async write(): Promise<void> {
    const batches = [...this.pending.values()];
    this.pending.clear();
    const now = this.o.now?.() ?? Date.now();
    for (const { route, cases } of batches) {
      try {
        const noise = await this.noise(route, now);
        for (const c of cases) c.noise = noise;
        await this.o.store.recordings.add(
          route.id,
          cases.map((c) => ({ at: Date.parse(c.at), value: c })),
          recordingLimits(route.shadow.record, now),
        );
      } catch (err) {
        this.o.logger?.warn({ err, route: route.id, cases: cases.length }, 'recorded cases not stored');
      }
    }
  }
}

const bodyLength = (b: CaseBody | undefined) => (b ? ('text' in b ? b.text.length : b.base64.length) : 0);
/** About the bytes a case takes in the store: its bodies plus a little for the rest. */
function caseBytes(c: StoredCase): number {
  return bodyLength(c.request.body) + bodyLength(c.legacy.body) + 1024;
}

export function recordingLimits(r: RecordConfig, now: number) {
  return { maxCases: r.maxCases, maxBytes: r.maxBytes, maxAgeMs: parseDuration(r.maxAge), now };
}
