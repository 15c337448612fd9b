/**
 * The data-plane endpoints of extraction points (routes of `kind: function`),
 * answered by the proxy itself on its listener under the reserved prefix
 * `/.strangler/points` — never forwarded to legacy, whatever the route table:
 *
 *   GET  /.strangler/points              modes of every point (ETag; 304 when unchanged)
 *   POST /.strangler/points/:id/call     the call, to the point's service through its breaker
 *   POST /.strangler/points/:id/shadow   a batch of local calls to compare with the service
 *
 * Every request needs `Authorization: Bearer $STRANGLER_POINTS_TOKEN`
 * (config `points.tokenEnv`); with no token configured the endpoints answer
 * 403, so a client on the public listener can neither call a service's
 * internal path nor forge shadow evidence that would open a gate. The
 * protocol and the reasons are in docs/extraction-points.md.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Config } from '../core/config.js';
import { type ErrorCode, ERROR_CODES } from '../core/errors.js';
import { POINT_METHOD } from '../core/extraction-point.js';
import { bearerToken } from '../core/header-fields.js';
import type { Logger } from '../core/log.js';
import { isResendable } from '../core/resend.js';
import type { ShadowHook } from '../shadow/types.js';
import { ClientSignal } from './client-signal.js';
import { createContext } from './context.js';
import { FAILOVER_HEADER, type Failover, forwardWithFailover, serviceDeadlineMs } from './failover.js';
import { forward, pipeToClient, respondError } from './forward.js';
import { type ProxyMetrics, statusOutcome } from './metrics.js';
import type { RouteTable } from './route-table.js';
import type { StatsRecorder } from './stats-recorder.js';
import type { RequestContext, RouteEntry, UpstreamFailure } from './types.js';
import { failureCode } from './upstream-errors.js';
import type { Upstreams } from './upstreams.js';

/** The reserved prefix: anything under it is answered here, never by legacy. */
export const POINTS_PREFIX = '/.strangler/points';
/** Tells the client what to do when the service did not answer: `local` (run the function) or `none` (raise). */
export const FALLBACK_HEADER = 'x-strangler-fallback';
/** A shadow batch larger than this is refused (413): the client sends many small ones. */
const MAX_SHADOW_BATCH_BYTES = 8 * 1024 * 1024;
/** How long one shadow batch may wait for room under the shadow concurrency cap before its rest is handed over (and skipped there). */
const SHADOW_BATCH_WAIT_MS = 2000;

const POINT_PATH = /^\/\.strangler\/points\/([A-Za-z0-9_.-]+)\/(call|shadow)$/;
/** The longest a mode poll may be held (`?wait=S`); below common load-balancer idle timeouts. */
const MAX_WAIT_S = 30;
/**
 * The Python client sends a call on a kept-alive connection only when its
 * last answer came at most this long ago (clients/python `_REUSE_S`); older,
 * it opens a new one. A stopping proxy keeps such a connection open until it
 * is older than this (plus a margin for the client's own clock starting
 * later): closing it sooner races a call the client is sending on it, which
 * then meets a reset and cannot know whether the call ran (issue 25).
 */
const POINT_CONNECTION_REUSE_MS = 2000;
const REUSE_MARGIN_MS = 500;

/** Whether a request URL is under the reserved prefix (query ignored). */
export function isPointsUrl(url: string | undefined): boolean {
  return url?.startsWith('/.strangler/') === true;
}

/** Why the local function runs instead: any of failover's reasons, or the point is not (any more) routed to the service. */
class LocalFallback extends Error {}

export interface PointEndpointsOptions {
  config: Readonly<Config>;
  table: () => RouteTable;
  upstreams: Upstreams;
  failover: Failover;
  metrics: ProxyMetrics;
  stats: StatsRecorder;
  shadow: ShadowHook | undefined;
  logger: Logger;
  /** The bearer token; undefined → every points request is refused (403). */
  token: string | undefined;
}

/** One point as the client reads it from GET /.strangler/points. */
export interface PointView {
  mode: string;
  weight: number;
  version: number;
  idempotent: boolean;
  /** The proxy's own deadline for the service; the client waits a little longer. */
  timeoutMs: number;
  sampleRate: number;
  noiseSampleRate: number;
}

export class PointEndpoints {
  private readonly tokenDigest: Buffer | undefined;
  private listing: { table: RouteTable; etag: string; body: string } | undefined;
  /** Mode polls held until the listing changes (long-poll), each with its deadline timer. */
  private readonly waiting = new Set<{ res: ServerResponse; timer: NodeJS.Timeout }>();
  /** Connections that carried a call: calls in flight, and when the last answer ended. */
  private readonly callers = new Map<Socket, { inFlight: number; idleSince: number }>();
  private closed = false;

  constructor(private readonly o: PointEndpointsOptions) {
    this.tokenDigest = o.token ? digest(o.token) : undefined;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const pathname = (req.url ?? '/').split('?', 1)[0];
    const denied = this.authorize(req);
    if (denied) return plain(req, res, denied, 'points endpoints need Authorization: Bearer <points token>');
    if (pathname === POINTS_PREFIX) {
      if (req.method !== 'GET')
        return plain(req, res, 'STRANGLER_E_BAD_REQUEST', `${req.method} is not allowed here`);
      return this.list(req, res);
    }
    const m = POINT_PATH.exec(pathname);
    if (!m) return plain(req, res, 'STRANGLER_E_NOT_FOUND', `no points endpoint ${pathname}`);
    const entry = this.o.table().get(m[1]);
    if (entry?.config.kind !== 'function')
      return plain(req, res, 'STRANGLER_E_UNKNOWN_ROUTE', `no extraction point "${m[1]}"`);
    if (req.method !== 'POST')
      return plain(req, res, 'STRANGLER_E_BAD_REQUEST', `${req.method} is not allowed here`);
    if (m[2] === 'call') {
      this.trackCaller(req, res);
      return this.call(req, res, entry);
    }
    return this.shadowBatch(req, res, entry);
  }

  /** null when the request carries the token; else the refusal. Constant-time over the token's digest. */
  private authorize(req: IncomingMessage): ErrorCode | null {
    // No token: "disabled" tells every client to run its points locally —
    // only true while no point is in canary or service mode. Otherwise the
    // modes stay unknown to the clients (they never guess, issue 25).
    if (!this.tokenDigest)
      return this.o
        .table()
        .entries.some(
          (e) => e.config.kind === 'function' && (e.state.mode === 'canary' || e.state.mode === 'service'),
        )
        ? 'STRANGLER_E_POINTS_NO_TOKEN'
        : 'STRANGLER_E_POINTS_DISABLED';
    const given = bearerToken(req.headers.authorization);
    return given && timingSafeEqual(digest(given), this.tokenDigest)
      ? null
      : 'STRANGLER_E_POINTS_UNAUTHORIZED';
  }

  /** The proxy swapped its route table: answer held polls whose listing changed. */
  tableSwapped(): void {
    if (this.waiting.size === 0) return;
    const { etag } = this.current();
    for (const w of [...this.waiting]) if (w.res.req.headers['if-none-match'] !== etag) this.release(w);
  }

  /** Answer every held poll (304 if unchanged) and hold no more: the proxy is closing. */
  close(): void {
    this.closed = true;
    for (const w of [...this.waiting]) this.release(w);
  }

  /**
   * True once no connection that carried a call may still be reused by its
   * client (each is closed, or idle past POINT_CONNECTION_REUSE_MS): only
   * then may a stopping proxy close idle connections without racing a call
   * on its way. Meanwhile each answer says `Connection: close` (the pipeline
   * is draining), so busy ones close after it.
   */
  settled(): boolean {
    const now = Date.now();
    for (const [socket, c] of this.callers)
      if (
        !socket.destroyed &&
        (c.inFlight > 0 || now - c.idleSince < POINT_CONNECTION_REUSE_MS + REUSE_MARGIN_MS)
      )
        return false;
    return true;
  }

  /** Count a call on its connection until its answer ends (see settled()). */
  private trackCaller(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket;
    let c = this.callers.get(socket);
    if (!c) {
      c = { inFlight: 0, idleSince: Date.now() };
      this.callers.set(socket, c);
      socket.once('close', () => this.callers.delete(socket));
    }
    const caller = c;
    caller.inFlight++;
    res.once('close', () => {
      caller.inFlight--;
      caller.idleSince = Date.now();
    });
  }

  private release(w: { res: ServerResponse; timer: NodeJS.Timeout }): void {
    clearTimeout(w.timer);
    this.waiting.delete(w);
    if (!w.res.headersSent && !w.res.destroyed) this.answerList(w.res.req, w.res);
  }

  /**
   * GET /.strangler/points[?wait=S]: with `If-None-Match` equal to the current
   * ETag and `wait`, the answer is held until the listing changes or S seconds
   * pass (then 304), so a flip reaches a monolith as soon as this proxy has it.
   */
  private list(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    const wait = Number(new URLSearchParams((req.url ?? '').split('?')[1] ?? '').get('wait') ?? 0);
    if (wait > 0 && !this.closed && req.headers['if-none-match'] === this.current().etag) {
      const w = { res, timer: setTimeout(() => this.release(w), Math.min(wait, MAX_WAIT_S) * 1000) };
      this.waiting.add(w);
      res.on('close', () => {
        clearTimeout(w.timer);
        this.waiting.delete(w);
      });
      return;
    }
    this.answerList(req, res);
  }

  private current(): { etag: string; body: string } {
    const table = this.o.table();
    if (this.listing?.table !== table) {
      const points: Record<string, PointView> = {};
      for (const e of table.entries) {
        if (e.config.kind !== 'function') continue;
        const r = e.config;
        points[r.id] = {
          mode: e.state.mode,
          weight: e.state.weight,
          version: e.state.version,
          idempotent: r.idempotent,
          timeoutMs: r.failover.enabled
            ? r.failover.timeoutMs
            : this.o.upstreams.service(r.service).headersTimeoutMs,
          sampleRate: r.shadow.sampleRate,
          noiseSampleRate: r.shadow.noiseSampleRate,
        };
      }
      const body = JSON.stringify({ points });
      this.listing = { table, body, etag: `"${createHash('sha1').update(body).digest('base64url')}"` };
    }
    return this.listing;
  }

  private answerList(req: IncomingMessage, res: ServerResponse): void {
    const { etag, body } = this.current();
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { etag }).end();
      return;
    }
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
      etag,
    });
    res.end(body);
  }

  /**
   * A call routed to the service by the client (canary or service mode): the
   * service's answer is passed through; when the service fails and running
   * the local function is safe, 503 + `x-strangler-fallback: local`; when the
   * service may have acted on a non-idempotent point, 502/504 +
   * `x-strangler-fallback: none` (the client raises: never twice).
   */
  private async call(req: IncomingMessage, res: ServerResponse, entry: RouteEntry): Promise<void> {
    const route = entry.config;
    const abort = new ClientSignal();
    const ctx = createContext(req, res, abort);
    ctx.route = entry;
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    // The points token is ours, and whether a call may be resent is the config's
    // word alone: neither reaches the service nor the failover rule.
    ctx.upstreamHeaders = withoutHeaders(ctx.upstreamHeaders, DROPPED_CALL_HEADERS);
    delete req.headers['idempotency-key'];
    if (entry.state.mode !== 'canary' && entry.state.mode !== 'service') {
      // The client's cached mode is older than this table: the proxy's word wins.
      req.resume();
      return this.answerLocal(ctx, `mode-${entry.state.mode}`);
    }
    const service = this.o.upstreams.service(route.service);
    const started = ctx.startedAt;
    const answer = await forwardWithFailover(
      ctx,
      route,
      () =>
        forward(ctx, service, {
          path: route.match.path,
          headersTimeoutMs: serviceDeadlineMs(route.failover, service),
          resendable: isResendable({ method: POINT_METHOD, headers: {} }, route),
        }),
      async () => localFallback(),
      this.o.failover,
      false,
    );
    const seconds = (performance.now() - started) / 1000;
    if (abort.aborted) {
      if (answer.ok) answer.body.destroy();
      return;
    }
    if (answer.target === 'legacy') {
      // Failover chose "legacy": for a point that is the caller's own function.
      this.o.metrics.observe(route.id, 'service', 'error', seconds);
      this.o.stats.record(route.id, entry.state.version, 'service', seconds * 1000, false, true);
      return this.answerLocal(ctx, answer.failoverReason ?? 'error');
    }
    const extra: OutgoingHttpHeaders = { 'x-strangler-target': 'service', 'x-request-id': ctx.requestId };
    if (answer.ok) {
      // The service answered, so it may have acted. Only the proxy may tell the
      // client to run its function locally: our word replaces any the service
      // sent (a service that is itself behind a strangler says `local` too).
      extra[FALLBACK_HEADER] = 'service';
      const failed = route.failover.on5xx && answer.statusCode >= 500;
      this.o.metrics.observe(route.id, 'service', statusOutcome(answer.statusCode), seconds);
      this.o.stats.record(route.id, entry.state.version, 'service', seconds * 1000, !failed, false);
      pipeToClient(ctx, answer, extra);
      return;
    }
    this.o.metrics.observe(route.id, 'service', 'error', seconds);
    this.o.stats.record(route.id, entry.state.version, 'service', seconds * 1000, false, false);
    this.o.logger.warn(
      { err: answer.error, route: route.id, requestId: ctx.requestId },
      'extraction point call failed; not run locally: the service may have acted',
    );
    extra[FALLBACK_HEADER] = 'none';
    respondError(ctx, failureCode(answer), `service: ${answer.error.message}`, extra);
  }

  private answerLocal(ctx: RequestContext, reason: string): void {
    respondError(ctx, 'STRANGLER_E_POINT_FALLBACK', `run the local function (${reason})`, {
      [FALLBACK_HEADER]: 'local',
      [FAILOVER_HEADER]: reason,
      'x-strangler-target': 'legacy',
      'x-request-id': ctx.requestId,
    });
  }

  /**
   * A batch of calls the monolith answered locally in shadow mode, with their
   * results: each becomes the legacy side of a shadow exchange (a POST of the
   * arguments to the point's service path), so the service is asked, diffed,
   * noise-filtered and stored exactly as an HTTP shadow copy.
   */
  private async shadowBatch(req: IncomingMessage, res: ServerResponse, entry: RouteEntry): Promise<void> {
    let batch: ShadowBatchBody;
    try {
      batch = parseShadowBatch(await readBody(req, MAX_SHADOW_BATCH_BYTES));
    } catch (err) {
      const tooLarge = err instanceof BodyTooLarge;
      return plain(
        req,
        res,
        tooLarge ? 'STRANGLER_E_PAYLOAD_TOO_LARGE' : 'STRANGLER_E_BAD_REQUEST',
        (err as Error).message,
      );
    }
    const shadow = this.o.shadow;
    const route = entry.config;
    const state = entry.state;
    let accepted = 0;
    if (shadow) {
      for (const [reason, n] of Object.entries(batch.skipped)) shadow.countSkipped?.(route.id, reason, n);
      // In any other mode the copies are late (the point was flipped meanwhile): counted, not compared.
      const refusal =
        state.mode !== 'shadow' ? 'not-shadow-mode' : !route.idempotent ? 'not-idempotent' : undefined;
      if (refusal && batch.calls.length) shadow.countSkipped?.(route.id, refusal, batch.calls.length);
      else {
        // Back-pressure rather than skips: a batch arrives all at once, so it
        // waits (bounded) for room under shadowMaxConcurrent; the 202 comes
        // later, the client's sender slows, and its bounded queue — where
        // drops are counted — takes the excess.
        const cap = this.o.config.proxy.shadowMaxConcurrent;
        const until = Date.now() + SHADOW_BATCH_WAIT_MS;
        for (const c of batch.calls) {
          while (shadow.load && shadow.load().active >= cap && Date.now() < until && !res.destroyed)
            await new Promise((r) => setTimeout(r, 2));
          shadow.afterPrimary(route, state, exchangeOf(route.id, route.match.path, c));
          accepted++;
        }
      }
    }
    const body = JSON.stringify({ accepted, received: batch.calls.length });
    res.writeHead(202, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** `expect`: the client's `100-continue` is answered here (Node writes the 100), never by the service. */
const DROPPED_CALL_HEADERS = new Set(['authorization', 'idempotency-key', 'expect']);

function withoutHeaders(flat: string[], drop: Set<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < flat.length; i += 2)
    if (!drop.has(flat[i].toLowerCase())) out.push(flat[i], flat[i + 1]);
  return out;
}

function localFallback(): UpstreamFailure {
  return {
    ok: false,
    kind: 'other',
    error: new LocalFallback('run locally'),
    requestSent: false,
    origin: 'local',
  };
}

/** A JSON error for a request refused before (or instead of) any upstream. */
function plain(req: IncomingMessage, res: ServerResponse, code: ErrorCode, message: string): void {
  req.resume();
  const body = JSON.stringify({ error: code, message });
  const headers: OutgoingHttpHeaders = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  };
  if (code === 'STRANGLER_E_POINTS_UNAUTHORIZED')
    headers['www-authenticate'] = 'Bearer realm="strangler-points"';
  // Refused here, before any upstream: the client may run its function. Without this
  // word it must assume the call may have run (an answer from a load balancer in between).
  headers[FALLBACK_HEADER] = 'local';
  res.writeHead(ERROR_CODES[code].status, headers);
  res.end(body);
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLarge(`shadow batch larger than ${limit} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** One local call in a shadow batch, as the Python client sends it. */
export interface ShadowCall {
  /** The request body the service gets: `{"args": [...], "kwargs": {...}}` as JSON text. */
  call: string;
  /** The local result as the service would answer it: `{"result": ...}` as JSON text. */
  result: string;
  /** The local function's duration, ms. */
  ms: number;
  /** A second local answer to the same call (noise sample), when the client took one. */
  again?: string;
  againMs?: number;
}

interface ShadowBatchBody {
  calls: ShadowCall[];
  skipped: Record<string, number>;
}

const SKIP_REASON = /^[a-z0-9-]{1,40}$/;

function parseShadowBatch(buf: Buffer): ShadowBatchBody {
  let v: unknown;
  try {
    v = JSON.parse(buf.toString('utf8'));
  } catch {
    throw new Error('shadow batch is not valid JSON');
  }
  const o = v as { calls?: unknown; skipped?: unknown };
  if (!o || typeof o !== 'object' || !Array.isArray(o.calls))
    throw new Error('shadow batch: expected { calls: [...] }');
  const calls: ShadowCall[] = o.calls.map((c: unknown, i: number) => {
    const x = c as Partial<ShadowCall>;
    if (!x || typeof x.call !== 'string' || typeof x.result !== 'string' || typeof x.ms !== 'number')
      throw new Error(`shadow batch: calls[${i}] needs call (string), result (string), ms (number)`);
    if (x.again !== undefined && typeof x.again !== 'string')
      throw new Error(`shadow batch: calls[${i}].again must be a string`);
    checkDuration(x.ms, `calls[${i}].ms`);
    if (x.againMs !== undefined) checkDuration(x.againMs, `calls[${i}].againMs`);
    return x as ShadowCall;
  });
  const skipped: Record<string, number> = {};
  if (o.skipped && typeof o.skipped === 'object')
    for (const [k, n] of Object.entries(o.skipped as Record<string, unknown>))
      if (SKIP_REASON.test(k) && typeof n === 'number' && Number.isInteger(n) && n > 0) skipped[k] = n;
  return { calls, skipped };
}

/** The longest a local call may plausibly have taken (ms); beyond it the client sent something else (seconds since an epoch, garbage). */
const MAX_CALL_MS = 3_600_000;

/**
 * A local call's duration is the legacy side of the gate's p99 ratio (service /
 * legacy): an absurd one (1e300, a timestamp, µs sent as ms) drives the ratio
 * to ~0 and opens the gate; a negative one is no duration at all.
 */
function checkDuration(v: unknown, field: string): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_CALL_MS)
    throw new Error(
      `shadow batch: ${field} must be a duration in ms from 0 to ${MAX_CALL_MS}, got ${JSON.stringify(v)}`,
    );
}

const JSON_HEADERS = Object.freeze({ 'content-type': 'application/json' });

function exchangeOf(routeId: string, path: string, c: ShadowCall) {
  return {
    requestId: randomUUID(),
    routeId,
    pattern: path,
    method: POINT_METHOD,
    url: path,
    requestHeaders: { ...JSON_HEADERS, 'content-length': String(Buffer.byteLength(c.call)) },
    requestBody: Buffer.from(c.call),
    target: 'legacy' as const,
    status: 200,
    responseHeaders: JSON_HEADERS,
    responseBody: Buffer.from(c.result),
    durationMs: c.ms,
    ...(c.again !== undefined
      ? {
          legacyAgain: {
            status: 200,
            headers: JSON_HEADERS,
            body: Buffer.from(c.again),
            durationMs: c.againMs ?? c.ms,
          },
        }
      : {}),
  };
}
