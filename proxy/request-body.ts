/**
 * Request bodies at the edge: bounded memory, and no upstream connection held
 * for a client that is not sending.
 *
 * - Body intake: before an upstream connection is taken, a body is read into
 *   memory up to a hold size (`proxy.requestBufferBytes`, or the route's
 *   `failover.maxBufferBytes` when failover may resend it). A whole body is
 *   replayable (failover, forward's resend-on-reset); a larger one is put
 *   back in front of the rest and streamed, single use. Slow uploaders thus
 *   wait here, not on one of the 256 pooled sockets (issue 12: 300 of them
 *   held every service connection and starved every GET for 130 s).
 * - A body declared (Content-Length) larger than the hold can never be
 *   replayable, so it is not read at all: it waits, unread, until the
 *   client has sent the stream's high-water mark (or the hold, if smaller),
 *   then streams. Node stops reading the socket at that mark, so such a
 *   request costs at most one socket read beyond it (issue 12: reading these
 *   up to the hold cost a second 64 KiB read per parked connection).
 * - BodyBudget: one cap on bytes held by all requests together
 *   (`proxy.maxBufferedBodyBytes`). Over it a request still flows, streamed,
 *   but is not resendable (issue 12: 1,600 parked 1 MiB bodies took the
 *   proxy to 1.34 GB RSS).
 * - BodyWatchdog: a body that brings no byte for `bodyIdleTimeoutMs`, or
 *   fewer than `bodyMinBytesPerSecond` on average over such a window, is
 *   answered 408 and its connection closed — while held here and while it
 *   streams to an upstream. Time the proxy spends not reading (the upstream
 *   is slow to take the body: backpressure) is never counted against the client.
 */
import { Readable } from 'node:stream';
import type { RequestContext } from './types.js';

/** The bytes of request bodies held in memory by every request of one proxy. */
export class BodyBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  /** Take `n` bytes if they fit; false leaves the budget unchanged. */
  take(n: number): boolean {
    if (this.used + n > this.limit) return false;
    this.used += n;
    return true;
  }

  give(n: number): void {
    this.used = Math.max(0, this.used - n);
  }

  get held(): number {
    return this.used;
  }
}

/** Requests in intake (intakeBody, awaitArrival): their unread bytes are the client's doing, not backpressure. */
const arriving = new WeakSet<RequestContext['req']>();

export type IntakeOutcome = 'replayable' | 'streamed' | 'aborted';

/**
 * Read the body up to `holdBytes` (charged to `budget`, given back when the
 * response closes). 'replayable': the whole body is in memory and `ctx.body`
 * replays it; 'streamed': what was read is put back in front of the rest and
 * `ctx.body` stays the client's single-use stream; 'aborted': the client left
 * or the watchdog answered 408.
 *
 * Bytes are looked at before they are taken ('readable', not 'data'): bytes
 * that do not fit stay unread in the request's buffer, where Node's flow
 * control stops the socket. Taking them first and putting them back (as
 * 'data' would) let one more socket read in behind them: 64 KiB more per
 * request refused by the budget (issue 12). A request that comes while the
 * budget is spent thus reads nothing beyond what came with its head.
 */
export function intakeBody(
  ctx: RequestContext,
  budget: BodyBudget,
  holdBytes: number,
): Promise<IntakeOutcome> {
  const req = ctx.req;
  const declared = req.headers['content-length'];
  // Node's parser has checked the header: digits only, and never beside Transfer-Encoding.
  if (declared !== undefined && Number(declared) > holdBytes) return awaitArrival(ctx, holdBytes);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (outcome: IntakeOutcome) => {
      arriving.delete(req);
      req.off('readable', onReadable);
      req.off('end', onEnd);
      req.off('error', onAbort);
      ctx.signal.removeEventListener('abort', onAbort);
      if (size > 0) ctx.res.once('close', () => budget.give(size));
      if (outcome === 'replayable') {
        ctx.body = () => Readable.from(chunks, { objectMode: false });
        ctx.bodyConsumed = false;
      } else if (outcome === 'streamed') {
        req.pause();
        if (chunks.length > 0) req.unshift(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
      }
      resolve(outcome);
    };
    const onReadable = () => {
      for (;;) {
        const n = req.readableLength;
        if (n > 0 && (size + n > holdBytes || !budget.take(n))) return done('streamed');
        // null once the buffer is empty; that call is also what lets 'end' come.
        const chunk: Buffer | null = req.read();
        if (chunk === null) return;
        chunks.push(chunk);
        size += chunk.length;
      }
    };
    const onEnd = () => done('replayable');
    const onAbort = () => done('aborted');
    if (ctx.signal.aborted) return done('aborted');
    // While reading here the request is paused in stream terms; the watchdog must still count.
    arriving.add(req);
    req.on('readable', onReadable);
    req.on('end', onEnd);
    req.on('error', onAbort);
    ctx.signal.addEventListener('abort', onAbort);
  });
}

/**
 * A body declared larger than the hold: nothing to replay, so nothing is
 * read. It must still not get an upstream connection before it shows it is
 * sending (a client declaring 10 MB and sending a byte per 10 s waits here
 * until the watchdog answers 408): it streams once `min(holdBytes, high-water
 * mark)` bytes have arrived. Not more: at the mark Node stops reading the
 * socket, and the bytes would never come.
 */
function awaitArrival(ctx: RequestContext, holdBytes: number): Promise<IntakeOutcome> {
  const req = ctx.req;
  const enough = Math.min(holdBytes, req.readableHighWaterMark);
  // The usual case: the first socket read brought the head and enough body with it.
  if (req.readableLength >= enough || req.complete) return Promise.resolve(streamOn(req));
  if (ctx.signal.aborted) return Promise.resolve('aborted');
  return new Promise((resolve) => {
    const done = (outcome: IntakeOutcome) => {
      arriving.delete(req);
      req.off('readable', onReadable);
      req.off('error', onAbort);
      ctx.signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    // 'readable' fires on every push while the buffer is under the mark; nothing is read here.
    const onReadable = () => {
      if (req.readableLength >= enough || req.complete) done(streamOn(req));
    };
    const onAbort = () => done('aborted');
    arriving.add(req);
    req.on('readable', onReadable);
    req.on('error', onAbort);
    ctx.signal.addEventListener('abort', onAbort);
  });
}

/** Paused in stream terms, as intakeBody leaves a streamed body: it waits for its upstream (the watchdog skips it). */
function streamOn(req: RequestContext['req']): IntakeOutcome {
  req.pause();
  return 'streamed';
}

export interface WatchdogOptions {
  idleMs: number;
  minBytesPerSecond: number;
  /** Called once when the body is too slow; the caller answers 408 and stops the request. */
  onTimeout: (why: string) => void;
}

/**
 * Watch a request body until it ends: every `idleMs` window must bring at
 * least one byte and, with a minimum rate, `rate × window` bytes. Bytes are
 * counted on the socket (`bytesRead`), so the watchdog needs no listener on
 * the body stream (which would change who reads it). A window in which the
 * proxy held unread body bytes (the upstream was slow to take them) is not
 * the client's fault and is skipped.
 */
export function watchBody(ctx: RequestContext, opts: WatchdogOptions): void {
  const req = ctx.req;
  if (req.readableEnded) return;
  const socket = req.socket;
  const need = Math.floor((opts.minBytesPerSecond * opts.idleMs) / 1000);
  let last = socket.bytesRead;
  const timer = setInterval(() => {
    if (req.readableEnded || ctx.signal.aborted) return stop();
    const now = socket.bytesRead;
    const got = now - last;
    last = now;
    // Backpressure: bytes are waiting on our side, not the client's (unless
    // the intake is still waiting for more of them).
    if (!arriving.has(req) && (req.readableLength > 0 || socket.readableLength > 0 || req.isPaused())) return;
    if (got === 0) {
      stop();
      opts.onTimeout(`no request body byte for ${opts.idleMs} ms`);
    } else if (got < need) {
      stop();
      opts.onTimeout(`request body slower than ${opts.minBytesPerSecond} B/s`);
    }
  }, opts.idleMs);
  timer.unref();
  const stop = () => {
    clearInterval(timer);
    req.off('end', stop);
    ctx.res.off('close', stop);
  };
  req.once('end', stop);
  ctx.res.once('close', stop);
}
