/**
 * Forwarding in two steps so failover can decide before the client sees a
 * byte: `forward()` resolves once the upstream's status and headers arrived
 * (or the attempt failed, classified for failover), and `pipeToClient()`
 * streams the chosen answer with backpressure both ways.
 *
 * Requests go out with undici's dispatch() and a handler of our own (see
 * ForwardHandler and upstream-body.ts for why not request()).
 *
 * Network errors become gateway answers, as @fastify/reply-from does:
 * refused/reset → 502, timeout → 504, with the original error kept as `cause`
 * in the log and a JSON body naming a STRANGLER_E_* code (upstream-errors.ts
 * holds the whole mapping).
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { Transform, type Readable } from 'node:stream';
import { type Dispatcher, util as undiciUtil } from 'undici';
import { type ErrorCode, ERROR_CODES } from '../core/errors.js';
import { isIdempotentRequest } from '../core/resend.js';
import type { ClientSignal } from './client-signal.js';
import { clientBody } from './context.js';
import { clientResponseHead } from './headers.js';
import type { RequestContext, UpstreamAttempt, UpstreamFailure, UpstreamResponse } from './types.js';
import { UpstreamBody } from './upstream-body.js';
import { classifyUpstreamError } from './upstream-errors.js';
import type { Upstream } from './upstreams.js';

export interface ForwardOptions {
  /** Overrides the upstream's headers timeout (the failover stage uses the route's failover.timeoutMs). */
  headersTimeoutMs?: number;
  /**
   * Whether a request the upstream may have received can be resent once
   * (core/resend.ts); default: an idempotent method or `route.idempotent`.
   */
  resendable?: boolean;
  /** The upstream path, when not the client's own (an extraction-point call goes to the point's service path). */
  path?: string;
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
  const resendable =
    opts?.resendable ?? (isIdempotentRequest(ctx.req) || ctx.route?.config.idempotent === true);
  // The client's body stream is single use: resend only if there is none or
  // the failover stage made it replayable (any body function but the default).
  if (!resendable || (ctx.hasBody && ctx.body === clientBody)) return first;
  return attempt(ctx, upstream, opts);
}

function attempt(ctx: RequestContext, upstream: Upstream, opts?: ForwardOptions): Promise<UpstreamAttempt> {
  const { pool, origin, prefix } = upstream.pick();
  let body = ctx.body();
  const plan = ctx.shadowPlan;
  if (body && plan?.capture) body = captureRequestBody(ctx, body, plan.maxBodyBytes);
  return new Promise((resolve) => {
    pool.dispatch(
      {
        method: ctx.req.method as Dispatcher.HttpMethod,
        // The canonical target (edge-rules.ts admit) or a point's service path, under the base URL's path.
        path: prefix + (opts?.path ?? ctx.req.url ?? '/'),
        headers: ctx.upstreamHeaders,
        body,
        headersTimeout: opts?.headersTimeoutMs ?? upstream.headersTimeoutMs,
      },
      new ForwardHandler(resolve, ctx.signal, origin),
    );
  });
}

/**
 * undici's low-level handler for one attempt (the legacy onConnect/onHeaders/
 * onData/onComplete/onError contract undici 7 still takes). It resolves the
 * attempt at the response head and feeds the body to an UpstreamBody; a
 * failure before the head resolves a classified UpstreamFailure. The client's
 * signal aborts the upstream request at any point, as request()'s `signal` did.
 *
 * Why not undici 7's controller-based handler (onRequestStart/onResponseStart/
 * onResponseData): undici's client still drives these legacy callbacks, and
 * wraps a controller-based handler in an adapter (dispatcher-base.js dispatch
 * → UnwrapHandler) that builds a header object from the raw head for every
 * response (unwrap-handler.js onHeaders → parseHeaders) and for its trailers.
 * This handler copies the raw head straight into the client's answer
 * (clientResponseHead) and builds the object only when failover or shadow
 * asks for it (UpstreamAnswer.headers). Revisit when undici's core calls the
 * new contract itself.
 */
class ForwardHandler implements Dispatcher.DispatchHandler {
  private abortFn: ((err?: Error) => void) | undefined = undefined;
  private body: UpstreamBody | undefined = undefined;
  private readonly onClientAbort: () => void;

  constructor(
    private readonly resolve: (a: UpstreamAttempt) => void,
    private readonly signal: ClientSignal,
    private readonly origin: string,
  ) {
    this.onClientAbort = () => this.abortFn?.(signal.reason);
    signal.addEventListener('abort', this.onClientAbort);
  }

  onConnect(abort: (err?: Error) => void): void {
    // A client gone while the request waited for a pooled connection.
    if (this.signal.aborted) abort(this.signal.reason);
    else this.abortFn = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    // 1xx informational answers (103 Early Hints) are not the response.
    if (statusCode < 200) return true;
    const body = new UpstreamBody(resume, (err) =>
      this.abortFn?.(err ?? new Error('upstream body destroyed')),
    );
    this.body = body;
    this.resolve(new UpstreamAnswer(statusCode, rawHeaders, body, this.origin));
    return true;
  }

  onData(chunk: Buffer): boolean {
    return this.body ? this.body.push(chunk) : true;
  }

  onComplete(): void {
    this.signal.removeEventListener('abort', this.onClientAbort);
    this.body?.end();
  }

  onError(err: Error): void {
    this.signal.removeEventListener('abort', this.onClientAbort);
    if (this.body) {
      this.body.fail(err);
      return;
    }
    const { kind, requestSent } = classifyUpstreamError(err);
    this.resolve({ ok: false, kind, error: err, requestSent, origin: this.origin } satisfies UpstreamFailure);
  }
}

/** An UpstreamResponse whose header object is only built if someone reads it (failover, shadow). */
class UpstreamAnswer implements UpstreamResponse {
  readonly ok = true;
  private parsed: IncomingHttpHeaders | undefined = undefined;

  constructor(
    readonly statusCode: number,
    readonly rawHeaders: Buffer[],
    readonly body: UpstreamBody,
    readonly origin: string,
  ) {}

  get headers(): IncomingHttpHeaders {
    this.parsed ??= undiciUtil.parseHeaders(this.rawHeaders) as IncomingHttpHeaders;
    return this.parsed;
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

// Most captures are one chunk: hand it over rather than copy it.
const joined = (chunks: Buffer[] | null): Buffer | null =>
  chunks === null ? null : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);

/** What was captured for shadow; null bodies when nothing was captured or a cap was crossed. */
export function capturedBodies(ctx: RequestContext): Captures {
  const st = (ctx as WithCaptures)[CAPTURES];
  if (!st) return { requestBody: ctx.hasBody ? null : Buffer.alloc(0), responseBody: null };
  return { requestBody: joined(st.req), responseBody: joined(st.res) };
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
  const body = answer.body;
  try {
    res.writeHead(answer.statusCode, clientResponseHead(answer.rawHeaders, extra));
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
  const plan = ctx.shadowPlan;
  if (!plan?.capture) {
    body.pipeTo(res);
    return;
  }
  const st = captureState(ctx);
  st.res = [];
  st.resBytes = 0;
  const max = plan.maxBodyBytes;
  body.pipeTo(res, (chunk) => {
    if (!st.res) return;
    st.resBytes += chunk.length;
    if (st.resBytes > max) st.res = null;
    else st.res.push(chunk);
  });
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
