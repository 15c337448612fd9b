/**
 * Watches live traffic for an upstream that stalls on kept-alive connections
 * (the rule and the story: core/keepalive-stall.ts, docs/config.md).
 *
 * The signature: the time from our request head being written to the
 * response's last byte (the head arrives at once; the body is what waits), on
 * a connection's first request versus on later ones. Only answers that had
 * their origin to themselves count (no other request to it in flight from
 * send to answer): under concurrency, queueing in the server would look like
 * a stall. Measured through undici's documented diagnostics channels
 * (`undici:client:sendHeaders` carries the socket, `undici:request:trailers`
 * marks the answer complete), so forwarding itself is untouched. Each origin
 * is watched until a verdict, then dropped; with no origin left the channels
 * are unsubscribed and cost nothing.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  DEFAULT_STALL_THRESHOLDS,
  describeStall,
  judgeStall,
  STALL_ADVICE,
  type KeepAliveStallFinding,
  type StallThresholds,
  stallFindingKey,
} from '../core/keepalive-stall.js';
import type { Logger } from '../core/log.js';
import type { Store } from '../store/types.js';
import type { Upstreams } from './upstreams.js';

/** Answers kept per origin: the newest of each kind. */
const KEEP = { fresh: 32, reused: 128 };

interface OriginWatch {
  upstream: string;
  fresh: number[];
  reused: number[];
  /** Requests sent and not yet answered or failed. */
  open: number;
  /** Sends so far: an answer whose send was not the latest overlapped another request. */
  sends: number;
}

interface SendHeadersMessage {
  request: object & { origin?: unknown };
  socket: Socket;
}
interface RequestMessage {
  request: object;
}

const SEND_HEADERS = 'undici:client:sendHeaders';
const COMPLETE = 'undici:request:trailers';
const ERROR = 'undici:request:error';

/**
 * Watches the given upstream origins until each has a verdict. `onVerdict` is
 * called at most once per origin, with `stall` true or false.
 */
export class KeepAliveStallWatch {
  private readonly watching = new Map<string, OriginWatch>();
  /** Requests answered so far per socket (a socket's first request is the fresh one). */
  private readonly perSocket = new WeakMap<Socket, number>();
  private readonly sent = new WeakMap<object, { origin: string; reused: boolean; t0: number; alone: boolean; seq: number }>();
  private subscribed = false;

  constructor(
    origins: ReadonlyArray<{ upstream: string; origin: string }>,
    private readonly onVerdict: (f: KeepAliveStallFinding) => void,
    private readonly thresholds: StallThresholds = DEFAULT_STALL_THRESHOLDS,
  ) {
    for (const o of origins) this.watching.set(o.origin, { upstream: o.upstream, fresh: [], reused: [], open: 0, sends: 0 });
    if (this.watching.size > 0) {
      diagnosticsChannel.subscribe(SEND_HEADERS, this.onSendHeaders);
      diagnosticsChannel.subscribe(COMPLETE, this.onComplete);
      diagnosticsChannel.subscribe(ERROR, this.onError);
      this.subscribed = true;
    }
  }

  /** Origins still without a verdict. */
  pending(): string[] {
    return [...this.watching.keys()];
  }

  stop(): void {
    if (!this.subscribed) return;
    this.subscribed = false;
    diagnosticsChannel.unsubscribe(SEND_HEADERS, this.onSendHeaders);
    diagnosticsChannel.unsubscribe(COMPLETE, this.onComplete);
    diagnosticsChannel.unsubscribe(ERROR, this.onError);
  }

  private readonly onSendHeaders = (message: unknown): void => {
    const { request, socket } = message as SendHeadersMessage;
    const origin = String(request.origin);
    const w = this.watching.get(origin);
    if (!w) return;
    const n = this.perSocket.get(socket) ?? 0;
    this.perSocket.set(socket, n + 1);
    const seq = ++w.sends;
    this.sent.set(request, { origin, reused: n > 0, t0: performance.now(), alone: w.open === 0, seq });
    w.open++;
  };

  private readonly onError = (message: unknown): void => {
    const { request } = message as RequestMessage;
    const s = this.sent.get(request);
    if (!s) return;
    this.sent.delete(request);
    const w = this.watching.get(s.origin);
    if (w) w.open--;
  };

  private readonly onComplete = (message: unknown): void => {
    const { request } = message as RequestMessage;
    const s = this.sent.get(request);
    if (!s) return;
    this.sent.delete(request);
    const w = this.watching.get(s.origin);
    if (!w) return;
    w.open--;
    if (process.env.DBG) console.log("sample", s.reused, s.alone, s.seq, w.open, w.sends, (performance.now() - s.t0).toFixed(1));
    if (!s.alone || s.seq !== w.sends) return;
    const xs = s.reused ? w.reused : w.fresh;
    xs.push(performance.now() - s.t0);
    if (xs.length > (s.reused ? KEEP.reused : KEEP.fresh)) xs.shift();
    const v = judgeStall(w.fresh, w.reused, this.thresholds);
    if (!v) return;
    // A stall is reported at once; healthy only after a full window of reused
    // answers no slower than fresh ones.
    if (v.stall || w.reused.length >= KEEP.reused) {
      this.watching.delete(s.origin);
      this.onVerdict({
        kind: 'keepalive-stall',
        stall: v.stall,
        upstream: w.upstream,
        origin: s.origin,
        freshP50Ms: v.freshP50Ms,
        reusedP50Ms: v.reusedP50Ms,
        freshSamples: w.fresh.length,
        reusedSamples: w.reused.length,
        advice: STALL_ADVICE,
      });
    }
    if (this.watching.size === 0) this.stop();
  };
}


/**
 * Watch every upstream origin that reuses connections; on a stall, say so
 * once in the log; save the verdict in the store, where `strangler routes`,
 * `report latency` and `loadtest` read it.
 */
export function watchKeepAliveStalls(upstreams: Upstreams, store: Store, logger: Logger): KeepAliveStallWatch {
  const origins = upstreams
    .all()
    .filter((u) => u.reusesConnections)
    .flatMap((u) => u.origins.map((origin) => ({ upstream: u.name, origin })));
  return new KeepAliveStallWatch(origins, (f) => {
    // Saved either way: a healthy verdict replaces an earlier stall (the server was fixed).
    if (f.stall) logger.warn({ finding: f }, describeStall(f));
    store.results
      .put('finding', stallFindingKey(f.upstream, f.origin), f)
      .catch((err) => logger.warn({ err }, 'could not save the keep-alive stall verdict'));
  });
}
