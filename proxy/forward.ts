/**
 * Forwarding in two steps so failover can decide before the client sees a
 * byte: `forward()` resolves once the upstream's status and headers arrived
 * (or the attempt failed, classified for failover), and `pipeToClient()`
 * streams the chosen answer with backpressure both ways.
 *
 * Network errors become gateway answers, as @fastify/reply-from does:
 * refused/reset → 502, timeout → 504, with the original error kept as `cause`
 * in the log and a JSON body naming a STRANGLER_E_* code.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { Transform, type Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { type ErrorCode, ERROR_CODES, isStranglerError } from '../core/errors.js';
import { clientBody } from './context.js';
import { clientResponseHeaders } from './headers.js';
import type { RequestContext, UpstreamAttempt, UpstreamErrorKind, UpstreamFailure } from './types.js';
import type { Upstream } from './upstreams.js';

/** RFC 9110 §9.2.2: methods whose intended effect is the same when repeated. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

const REFUSED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const RESET = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
const TIMEOUT = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);

export function classifyUpstreamError(err: unknown): { kind: UpstreamErrorKind; requestSent: boolean } {
  const code = (err as { code?: string })?.code ?? '';
  if (REFUSED.has(code)) return { kind: 'refused', requestSent: false };
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return { kind: 'timeout', requestSent: false };
  if (TIMEOUT.has(code)) return { kind: 'timeout', requestSent: true };
  // A reset before the response head: the request may have reached the
  // upstream, so it counts as sent (resending is for idempotent requests only).
  if (RESET.has(code)) return { kind: 'reset-before-response', requestSent: true };
  return { kind: 'other', requestSent: true };
}

export interface ForwardOptions {
  /** Overrides the upstream's headers timeout (the failover stage uses the route's failover.timeoutMs). */
  headersTimeoutMs?: number;
  /** Whether the request may be resent once; default: idempotent method or `route.idempotent`. */
  idempotent?: boolean;
}

/**
 * Send the request to one upstream; resolve with its response head or a
 * classified failure. Never rejects. An idempotent request without a body
 * that hits a reset before any response (a pooled socket the upstream closed
 * as we reused it) is resent once, on another socket.
 */
export async function forward(
  ctx: RequestContext,
  upstream: Upstream,
  opts?: ForwardOptions,
): Promise<UpstreamAttempt> {
  const first = await attempt(ctx, upstream, opts);
  if (first.ok || first.kind !== 'reset-before-response' || ctx.signal.aborted) return first;
  const idempotent =
    opts?.idempotent ?? (IDEMPOTENT.has(ctx.req.method ?? 'GET') || ctx.route?.config.idempotent === true);
  // The client's body stream is single use: resend only if there is none or
  // the failover stage made it replayable (any body function but the default).
  if (!idempotent || (ctx.hasBody && ctx.body === clientBody)) return first;
  return attempt(ctx, upstream, opts);
}

async function attempt(
  ctx: RequestContext,
  upstream: Upstream,
  opts?: ForwardOptions,
): Promise<UpstreamAttempt> {
  const { pool, origin } = upstream.pick();
  let body = ctx.body();
  const plan = ctx.shadowPlan;
  if (body && plan?.capture) body = captureRequestBody(ctx, body, plan.maxBodyBytes);
  try {
    const r = await pool.request({
      method: ctx.req.method as Dispatcher.HttpMethod,
      path: ctx.req.url ?? '/',
      headers: ctx.upstreamHeaders,
      body,
      // undici takes any EventTarget-like signal (see client-signal.ts).
      signal: ctx.signal as unknown as AbortSignal,
      headersTimeout: opts?.headersTimeoutMs ?? upstream.headersTimeoutMs,
    });
    return { ok: true, statusCode: r.statusCode, headers: r.headers, body: r.body, origin };
  } catch (err) {
    const { kind, requestSent } = classifyUpstreamError(err);
    return { ok: false, kind, error: err as Error, requestSent, origin } satisfies UpstreamFailure;
  }
}

/** Per-request captures for shadow (bounded; null once over the cap). */
export interface Captures {
  requestBody: Buffer | null;
  responseBody: Buffer | null;
}

const CAPTURES = Symbol('strangler.captures');
type WithCaptures = RequestContext & {
  [CAPTURES]?: { req: Buffer[] | null; reqBytes: number; res: Buffer[] | null; resBytes: number };
};

function captureState(ctx: RequestContext) {
  const c = ctx as WithCaptures;
  c[CAPTURES] ??= { req: [], reqBytes: 0, res: [], resBytes: 0 };
  return c[CAPTURES];
}

// Tee the request body through a Transform that keeps a bounded copy: the
// bytes still flow to the upstream at the upstream's pace.
function captureRequestBody(ctx: RequestContext, body: Readable, max: number): Readable {
  const st = captureState(ctx);
  st.req = [];
  st.reqBytes = 0;
  const tee = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (st.req) {
        st.reqBytes += chunk.length;
        if (st.reqBytes > max) st.req = null;
        else st.req.push(chunk);
      }
      cb(null, chunk);
    },
  });
  body.on('error', (err) => tee.destroy(err));
  return body.pipe(tee);
}

/** What was captured for shadow; null bodies when nothing was captured or a cap was crossed. */
export function capturedBodies(ctx: RequestContext): Captures {
  const st = (ctx as WithCaptures)[CAPTURES];
  if (!st) return { requestBody: ctx.hasBody ? null : Buffer.alloc(0), responseBody: null };
  return {
    requestBody: st.req ? Buffer.concat(st.req) : null,
    responseBody: st.res ? Buffer.concat(st.res) : null,
  };
}

/**
 * Write the upstream's answer to the client and stream its body with
 * backpressure. An upstream that dies mid-body cannot change a status already
 * sent: the client connection is destroyed so it sees a truncated response
 * rather than a silently short one.
 */
export function pipeToClient(
  ctx: RequestContext,
  answer: UpstreamAttempt & { ok: true },
  extra: OutgoingHttpHeaders,
): void {
  const res = ctx.res;
  const headers = clientResponseHeaders(answer.headers, extra);
  const body = answer.body;
  body.on('error', destroyResponse.bind(res));
  const plan = ctx.shadowPlan;
  if (plan?.capture) {
    const st = captureState(ctx);
    st.res = [];
    st.resBytes = 0;
    const max = plan.maxBodyBytes;
    body.on('data', (chunk: Buffer) => {
      if (!st.res) return;
      st.resBytes += chunk.length;
      if (st.resBytes > max) st.res = null;
      else st.res.push(chunk);
    });
  }
  try {
    res.writeHead(answer.statusCode, headers);
  } catch (err) {
    // An upstream header Node refuses to write (invalid characters): 502.
    body.destroy();
    respondError(
      ctx,
      'STRANGLER_E_UPSTREAM',
      `invalid response head from upstream: ${(err as Error).message}`,
      extra,
    );
    return;
  }
  body.pipe(res);
}

function destroyResponse(this: import('node:http').ServerResponse, err: Error): void {
  this.destroy(err);
}

/** Map a failed attempt to its STRANGLER_E_* code. */
export function failureCode(f: UpstreamFailure): ErrorCode {
  if (isStranglerError(f.error)) return f.error.code;
  switch (f.kind) {
    case 'refused':
      return 'STRANGLER_E_UPSTREAM_REFUSED';
    case 'reset-before-response':
      return 'STRANGLER_E_UPSTREAM_RESET';
    case 'timeout':
      return 'STRANGLER_E_UPSTREAM_TIMEOUT';
    default:
      return 'STRANGLER_E_UPSTREAM';
  }
}

/** Answer with a JSON error body `{ error, message, requestId }`; drop the connection if a head was already sent. */
export function respondError(
  ctx: RequestContext,
  code: ErrorCode,
  message: string,
  extra: OutgoingHttpHeaders,
): void {
  const res = ctx.res;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const payload = JSON.stringify({ error: code, message, requestId: ctx.requestId });
  const headers: OutgoingHttpHeaders = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
  };
  for (const k in extra) headers[k] = extra[k];
  res.writeHead(ERROR_CODES[code].status, headers);
  res.end(payload);
  // Unread request body would otherwise keep the socket busy for nothing.
  if (ctx.hasBody && !ctx.bodyConsumed) ctx.req.resume();
}

export type { IncomingHttpHeaders };
