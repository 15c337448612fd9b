/**
 * One shadow copy's exchange with an upstream: the whole answer collected in
 * memory under the shadow caps, with one timer bounding the whole exchange
 * (waiting for the head and reading the body alike).
 *
 * Through undici's dispatch() and a handler of our own rather than request():
 * request() wants an AbortSignal.timeout() per copy (an EventTarget and a
 * timer) and hands the body out as a Readable read by async iteration (a
 * promise per chunk). In bench/shadow.ts, with every request shadowed, that
 * machinery was a visible share of the proxy's CPU, which the primary
 * traffic pays for on a busy proxy.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { type Dispatcher, util as undiciUtil } from 'undici';

/** Why a copy produced no answer to compare: counted in the evidence's `skipped`. */
export class SkipError extends Error {
  constructor(readonly reason: 'timeout' | 'error' | 'body-cap' | 'bytes-cap' | string) {
    super(reason);
  }
}

export interface Collected {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface CollectLimits {
  /** The whole exchange, head and body. */
  timeoutMs: number;
  /** Per-copy body cap (route.shadow.maxBodyBytes). */
  maxBodyBytes: number;
  /** Takes n more bytes from the shared budget; false when it is spent. */
  grow(n: number): boolean;
}

/** Send one request and collect its answer; rejects with a SkipError. */
export function collect(
  dispatcher: Dispatcher,
  opts: Dispatcher.DispatchOptions,
  limits: CollectLimits,
): Promise<Collected> {
  return new Promise((resolve, reject) => {
    dispatcher.dispatch(opts, new CollectHandler(resolve, reject, limits));
  });
}

class CollectHandler implements Dispatcher.DispatchHandler {
  private status = 0;
  private raw: Buffer[] | undefined = undefined;
  private chunks: Buffer[] = [];
  private size = 0;
  private settled = false;
  private abortFn: ((err?: Error) => void) | undefined = undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly resolve: (c: Collected) => void,
    private readonly reject: (e: SkipError) => void,
    private readonly limits: CollectLimits,
  ) {
    this.timer = setTimeout(() => this.fail('timeout'), limits.timeoutMs);
    this.timer.unref();
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.settled) abort(new SkipError('timeout'));
    else this.abortFn = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    if (statusCode < 200) return true; // 1xx: not the answer yet
    this.status = statusCode;
    this.raw = rawHeaders;
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.settled) return true;
    this.size += chunk.length;
    if (this.size > this.limits.maxBodyBytes) this.fail('body-cap');
    else if (!this.limits.grow(chunk.length)) this.fail('bytes-cap');
    else this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    const chunks = this.chunks;
    this.resolve({
      status: this.status,
      headers: undiciUtil.parseHeaders(this.raw ?? []) as IncomingHttpHeaders,
      body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, this.size),
    });
  }

  onError(err: Error): void {
    if (this.settled) return;
    const code = (err as { code?: string }).code;
    this.settle(code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' ? 'timeout' : 'error');
  }

  /** Give up on this copy: reject and stop talking to the upstream. */
  private fail(reason: SkipError['reason']): void {
    if (this.settled) return;
    const err = this.settle(reason);
    this.abortFn?.(err);
  }

  private settle(reason: SkipError['reason']): SkipError {
    this.settled = true;
    clearTimeout(this.timer);
    this.chunks = [];
    const err = new SkipError(reason);
    this.reject(err);
    return err;
  }
}
