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
 * marks the answer complete), so forwarding itself is untouched. An origin
 * found healthy is dropped; with no origin left the channels are unsubscribed
 * and cost nothing.
 *
 * Two additions (issue 26):
 * - Sequential traffic keeps one connection, so fresh-connection answers never
 *   come and no verdict was ever reached (40 requests to Django's runserver at
 *   55 ms each, and not a word). When reused answers look like a stall and
 *   fresh ones are missing, the watch asks the upstream to close one
 *   connection after its answer (`askFresh`), so the next request opens a
 *   fresh one to compare with: at most one in FRESH_EVERY answers, only until
 *   the comparison is made.
 * - An origin found stalling stays watched (its samples start over), so a
 *   server fixed later gets a healthy verdict that replaces the stall, and
 *   `strangler routes` stops showing the note. Only a changed verdict is
 *   reported.
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
/** While fresh answers are missing: ask for a fresh connection once per this many answers. */
const FRESH_EVERY = 8;

interface OriginWatch {
  upstream: string;
  fresh: number[];
  reused: number[];
  /** Requests sent and not yet answered or failed. */
  open: number;
  /** Sends so far: an answer whose send was not the latest overlapped another request. */
  sends: number;
  /** The verdict reported last (undefined: none yet). */
  stall?: boolean;
  /** Answers since a fresh connection was last asked for. */
  sinceAsk: number;
}

/** undici's Request as the channels show it: `origin` is the pool's origin string. */
interface ChannelRequest {
  origin?: unknown;
}
interface SendHeadersMessage {
  request: ChannelRequest;
  socket: Socket;
}
interface RequestMessage {
  request: ChannelRequest;
}

const SEND_HEADERS = 'undici:client:sendHeaders';
const COMPLETE = 'undici:request:trailers';
const ERROR = 'undici:request:error';

/**
 * Watches the given upstream origins until each has a verdict. `onVerdict` is
 * called at most once per origin, with `stall` true or false.
 *
 * Per request it costs a Map lookup, a WeakSet lookup and two counters; only
 * a request sent with its origin to itself is timed (a WeakMap entry).
 */
export class KeepAliveStallWatch {
  private readonly watching = new Map<string, OriginWatch>();
  /** Sockets that carried a request already: a socket's first request is the fresh one. */
  private readonly usedSockets = new WeakSet<Socket>();
  private readonly timed = new WeakMap<ChannelRequest, { reused: boolean; t0: number; seq: number }>();
  private subscribed = false;

  constructor(
    origins: ReadonlyArray<{ upstream: string; origin: string }>,
    private readonly onVerdict: (f: KeepAliveStallFinding) => void,
    private readonly thresholds: StallThresholds = DEFAULT_STALL_THRESHOLDS,
    /** Milliseconds; a test's clock may replace it. */
    private readonly now: () => number = () => performance.now(),
    /** Have the origin's next request close its connection after the answer, so the one after opens a fresh one. */
    private readonly askFresh: (origin: string) => void = () => {},
  ) {
    for (const o of origins)
      this.watching.set(o.origin, {
        upstream: o.upstream,
        fresh: [],
        reused: [],
        open: 0,
        sends: 0,
        sinceAsk: 0,
      });
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
    const w = this.watching.get(request.origin as string);
    if (!w) return;
    const reused = this.usedSockets.has(socket);
    if (!reused) this.usedSockets.add(socket);
    w.sends++;
    if (w.open++ === 0) this.timed.set(request, { reused, t0: this.now(), seq: w.sends });
  };

  private readonly onError = (message: unknown): void => {
    const { request } = message as RequestMessage;
    const w = this.watching.get(request.origin as string);
    if (!w) return;
    // A request can fail before it was sent (connection refused): it was never counted.
    if (w.open > 0) w.open--;
    this.timed.delete(request);
  };

  private readonly onComplete = (message: unknown): void => {
    const { request } = message as RequestMessage;
    const origin = request.origin as string;
    const w = this.watching.get(origin);
    if (!w) return;
    w.open--;
    const s = this.timed.get(request);
    if (!s) return;
    this.timed.delete(request);
    // Another request to this origin was sent meanwhile: not alone, not counted.
    if (s.seq !== w.sends) return;
    const xs = s.reused ? w.reused : w.fresh;
    xs.push(this.now() - s.t0);
    if (xs.length > (s.reused ? KEEP.reused : KEEP.fresh)) xs.shift();
    const v = judgeStall(w.fresh, w.reused, this.thresholds);
    // A stall is reported at once; healthy only after a full window of reused
    // answers no slower than fresh ones.
    if (!v || !(v.stall || w.reused.length >= KEEP.reused)) {
      this.maybeAskFresh(origin, w);
      return;
    }
    const finding: KeepAliveStallFinding = {
      kind: 'keepalive-stall',
      stall: v.stall,
      upstream: w.upstream,
      origin,
      freshP50Ms: v.freshP50Ms,
      reusedP50Ms: v.reusedP50Ms,
      freshSamples: w.fresh.length,
      reusedSamples: w.reused.length,
      advice: STALL_ADVICE,
    };
    const changed = w.stall !== v.stall;
    w.stall = v.stall;
    if (v.stall) {
      // Keep watching for the fix, on new samples.
      w.fresh = [];
      w.reused = [];
    } else this.watching.delete(origin);
    if (changed) this.onVerdict(finding);
    if (this.watching.size === 0) this.stop();
  };

  /**
   * Ask for a fresh connection when the comparison lacks fresh answers and
   * is worth making: reused answers that look stalled (their lower quartile
   * at least a delayed ACK), or an origin found stalling, to see it fixed.
   */
  private maybeAskFresh(origin: string, w: OriginWatch): void {
    if (w.fresh.length >= this.thresholds.minFresh || w.reused.length < FRESH_EVERY) return;
    const sorted = [...w.reused].sort((a, b) => a - b);
    const looksStalled = sorted[Math.floor(sorted.length / 4)] >= this.thresholds.minGapMs;
    if (!looksStalled && w.stall !== true) return;
    if (++w.sinceAsk < FRESH_EVERY) return;
    w.sinceAsk = 0;
    this.askFresh(origin);
  }
}

/**
 * Watch every upstream origin that reuses connections; on a stall, say so
 * once in the log; save the verdict in the store, where `strangler routes`,
 * `report latency` and `loadtest` read it.
 */
export function watchKeepAliveStalls(
  upstreams: Upstreams,
  store: Store,
  logger: Logger,
): KeepAliveStallWatch {
  const origins = upstreams
    .all()
    .filter((u) => u.reusesConnections)
    .flatMap((u) => u.origins.map((origin) => ({ upstream: u.name, origin })));
  const byOrigin = new Map(upstreams.all().flatMap((u) => u.origins.map((o) => [o, u] as const)));
  return new KeepAliveStallWatch(
    origins,
    (f) => {
      // Saved either way: a healthy verdict replaces an earlier stall (the server was fixed).
      if (f.stall) logger.warn({ finding: f }, describeStall(f));
      else
        logger.info(
          { finding: f },
          `upstream ${f.upstream} (${f.origin}) no longer stalls on kept-alive connections`,
        );
      store.results
        .put('finding', stallFindingKey(f.upstream, f.origin), f)
        .catch((err) => logger.warn({ err }, 'could not save the keep-alive stall verdict'));
    },
    DEFAULT_STALL_THRESHOLDS,
    () => performance.now(),
    (origin) => byOrigin.get(origin)?.askFreshConnection(origin),
  );
}
