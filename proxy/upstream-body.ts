/**
 * The body of an upstream answer: fed by forward()'s undici dispatch handler,
 * consumed once — piped to the client, discarded (a 5xx replaced by legacy's
 * answer) or destroyed (the client left).
 *
 * Why not undici's request() and its Readable body: a Readable per answer
 * plus Readable#pipe into the ServerResponse cost about 12 µs of the proxy's
 * CPU per request in bench/proxy.ts (a bare request()+pipe forwarder against
 * a bare dispatch() one), about a sixth of the whole. Most API answers arrive
 * whole in the same read as their head, before the answer is even chosen; the
 * body then goes out with `res.end(buffer)`, head and body in one write.
 *
 * Backpressure both ways: until a consumer is attached at most HOLD_BYTES are
 * held and the upstream is paused; once piped, a client that does not keep
 * up pauses the upstream until the response drains.
 */
import type { ServerResponse } from 'node:http';

/** Bytes held before the upstream is paused while the answer is being chosen. */
export const HOLD_BYTES = 64 * 1024;

type State = 'open' | 'ended' | 'failed' | 'destroyed';

export class UpstreamBody {
  private state: State = 'open';
  private held: Buffer[] = [];
  private heldBytes = 0;
  private failure: Error | undefined = undefined;
  private res: ServerResponse | undefined = undefined;
  private tap: ((chunk: Buffer) => void) | undefined = undefined;
  private discarding = false;
  /** True while the upstream is paused (onData returned false). */
  private paused = false;

  /**
   * @param resumeUpstream undici's resume() from onHeaders
   * @param abortUpstream stops the upstream request (undici's abort from onConnect)
   */
  constructor(
    private readonly resumeUpstream: () => void,
    private readonly abortUpstream: (err?: Error) => void,
  ) {}

  /** An already complete body (tests and synthetic answers). */
  static of(data: Buffer): UpstreamBody {
    const b = new UpstreamBody(noop, noop);
    if (data.length > 0) b.push(data);
    b.end();
    return b;
  }

  // ------------------------------------------------------------ producer

  /** A chunk from the upstream; false pauses it (undici's onData contract). */
  push(chunk: Buffer): boolean {
    if (this.discarding || this.state !== 'open') return true;
    const res = this.res;
    if (res) {
      this.tap?.(chunk);
      if (res.write(chunk)) return true;
      this.paused = true;
      return false;
    }
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes < HOLD_BYTES) return true;
    this.paused = true;
    return false;
  }

  end(): void {
    if (this.state !== 'open') return;
    this.state = 'ended';
    if (this.res && !this.discarding) this.res.end();
  }

  /**
   * The upstream died mid-body. A status already sent cannot change: the
   * client connection is destroyed so it sees a truncated response rather
   * than a silently short one.
   */
  fail(err: Error): void {
    if (this.state !== 'open') return;
    this.state = 'failed';
    this.failure = err;
    this.held = [];
    if (this.res && !this.discarding) this.res.destroy(err);
  }

  // ------------------------------------------------------------ consumer

  /** Whether the whole body has arrived. */
  get complete(): boolean {
    return this.state === 'ended';
  }

  /**
   * Stream the body into the client's response (its head already written).
   * `tap` sees every chunk, held ones first (shadow's bounded capture).
   */
  pipeTo(res: ServerResponse, tap?: (chunk: Buffer) => void): void {
    if (this.res || this.discarding) throw new Error('upstream body already consumed');
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    if (tap) for (const c of held) tap(c);
    if (this.state === 'ended') {
      res.end(held.length === 0 ? undefined : held.length === 1 ? held[0] : Buffer.concat(held));
      return;
    }
    if (this.state === 'failed') {
      res.destroy(this.failure);
      return;
    }
    if (this.state === 'destroyed') return;
    this.res = res;
    this.tap = tap;
    res.on('drain', () => this.resume());
    let ok = true;
    if (held.length > 1) res.cork();
    for (const c of held) ok = res.write(c);
    if (held.length > 1) res.uncork();
    if (ok) this.resume();
  }

  /** Read and drop the rest, so the pooled connection can serve again. */
  discard(): void {
    this.discarding = true;
    this.held = [];
    this.heldBytes = 0;
    this.resume();
  }

  /** Stop the upstream request; nothing more is delivered. */
  destroy(err?: Error): void {
    if (this.state === 'destroyed') return;
    const wasOpen = this.state === 'open';
    this.state = 'destroyed';
    this.held = [];
    if (wasOpen) this.abortUpstream(err);
  }

  private resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.resumeUpstream();
  }
}

function noop(): void {}
