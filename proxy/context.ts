/**
 * The request context: created once per request before anything else runs.
 * It gives every request an `x-request-id` (the client's, or a new UUID) and a
 * W3C trace context (https://www.w3.org/TR/trace-context/#traceparent-header):
 * an incoming traceparent keeps its trace id and flags and gets our span as
 * the new parent id; without one (or with an invalid one) a new trace starts.
 */
import { randomFillSync, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { hasBody } from '../core/header-fields.js';
import type { ClientSignal } from './client-signal.js';
import { upstreamRequestHeaders } from './headers.js';
import type { RequestContext } from './types.js';

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '00000000000000000000000000000000';
const ZERO_SPAN = '0000000000000000';
// Longer ids are almost certainly not ids (and would bloat every log line).
const MAX_REQUEST_ID = 200;

// Random ids come from a pool refilled in 4 KiB blocks and turned into hex
// once per refill: an id is then a slice of that string, not a crypto call
// and a hex conversion per id on the hot path (about 3x cheaper per
// traceparent than hex-converting each id).
const POOL = Buffer.alloc(4096);
let poolHex = '';
let hexOffset = 0;

function randomHex(bytes: number): string {
  const chars = bytes * 2;
  if (hexOffset + chars > poolHex.length) {
    randomFillSync(POOL);
    poolHex = POOL.toString('hex');
    hexOffset = 0;
  }
  const s = poolHex.slice(hexOffset, hexOffset + chars);
  hexOffset += chars;
  return s;
}

/** A new span id: 8 random bytes, never all zero (invalid per spec §3.2.2.4). */
function newSpanId(): string {
  const id = randomHex(8);
  return id === ZERO_SPAN ? '0000000000000001' : id;
}

function newTraceId(): string {
  const id = randomHex(16);
  return id === ZERO_TRACE ? '00000000000000000000000000000001' : id;
}

/** The traceparent to send upstream: the caller's trace continued with our span, or a new trace. */
export function nextTraceparent(incoming: string | undefined): string {
  const m = incoming ? TRACEPARENT.exec(incoming.trim().toLowerCase()) : null;
  // Version ff is forbidden; all-zero ids are invalid (spec §3.2.2.3-4).
  if (m && m[1] !== 'ff' && m[2] !== ZERO_TRACE && m[3] !== ZERO_SPAN) {
    return `00-${m[2]}-${newSpanId()}-${m[4]}`;
  }
  return `00-${newTraceId()}-${newSpanId()}-01`;
}

/** The client's x-request-id when usable, else a new UUID. */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  if (typeof given === 'string' && given.length > 0 && given.length <= MAX_REQUEST_ID) return given;
  return randomUUID();
}

/**
 * Build the context for one request. Throws BadRequestHeaders (→ 400) for a
 * request the proxy refuses to forward.
 */
export function createContext(
  req: IncomingMessage,
  res: ServerResponse,
  signal: ClientSignal,
  /** The Host an absolute-form target named (proxy/edge-rules.ts admit). */
  authority?: string,
): RequestContext {
  const requestId = requestIdOf(req);
  const tp = req.headers.traceparent;
  const traceparent = nextTraceparent(typeof tp === 'string' ? tp : undefined);
  const ctx: RequestContext = {
    req,
    res,
    requestId,
    traceparent,
    startedAt: performance.now(),
    route: undefined,
    upstreamHeaders: upstreamRequestHeaders(req, requestId, traceparent, authority),
    hasBody: hasBody(req.headers),
    body: clientBody,
    bodyConsumed: false,
    signal,
    shadowPlan: undefined,
  };
  return ctx;
}

/**
 * The default `ctx.body`: hands out the client's request stream (single use).
 * A plain function rather than a closure per request; call it as `ctx.body()`.
 */
export function clientBody(this: RequestContext): Readable | null {
  if (!this.hasBody) return null;
  this.bodyConsumed = true;
  return this.req;
}
