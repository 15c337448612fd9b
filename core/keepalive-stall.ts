/**
 * The keep-alive stall rule, shared by the proxy that watches live traffic
 * (proxy/keepalive-stall.ts), the load test that probes a target
 * (control/stall-probe.ts) and the reports that print the finding.
 *
 * A server that writes a response's head and body in two sends with Nagle on
 * (Python's http.server, Django's runserver) answers at once on a fresh
 * connection; on a reused one its second send waits for the ACK of the
 * first, which the client delays by ~40 ms (Linux's minimum delayed-ACK
 * time, 200 ms its maximum). docs/config.md tells the story.
 */

/** What `strangler routes`, `report latency` and `loadtest` print, and the log says once. */
export interface KeepAliveStallFinding {
  kind: 'keepalive-stall';
  /** False: the origin was watched to a verdict and does not stall (a later healthy verdict replaces a stall). */
  stall: boolean;
  /** `legacy` or a service name. */
  upstream: string;
  origin: string;
  freshP50Ms: number;
  reusedP50Ms: number;
  freshSamples: number;
  reusedSamples: number;
  advice: string;
}

/** Result-store key of an upstream origin's finding. */
export const stallFindingKey = (upstream: string, origin: string) => `keepalive-stall ${upstream} ${origin}`;

export const STALL_ADVICE =
  "set TCP_NODELAY on the server's accepted sockets (http.server: disable_nagle_algorithm = True), " +
  'or set reuseConnections: false (or maxRequestsPerConnection) on this upstream in the config';

export interface StallThresholds {
  /** Fresh-connection answers needed before a verdict. */
  minFresh: number;
  /** Reused-connection answers needed before a verdict. */
  minReused: number;
  /** Reused p50 must exceed fresh p50 by at least this much (delayed ACK: 40 ms minimum on Linux). */
  minGapMs: number;
  /** ...and by at most this much (delayed ACK: 200 ms maximum), so a genuinely slow backend is not blamed. */
  maxGapMs: number;
}

export const DEFAULT_STALL_THRESHOLDS: StallThresholds = { minFresh: 3, minReused: 20, minGapMs: 30, maxGapMs: 250 };

/** The pure verdict over two samples of answer times (ms); undefined while undecided. */
export function judgeStall(
  fresh: readonly number[],
  reused: readonly number[],
  t: StallThresholds = DEFAULT_STALL_THRESHOLDS,
): { stall: boolean; freshP50Ms: number; reusedP50Ms: number } | undefined {
  if (fresh.length < t.minFresh || reused.length < t.minReused) return undefined;
  const freshP50Ms = round(median(fresh));
  const reusedP50Ms = round(median(reused));
  const gap = reusedP50Ms - freshP50Ms;
  // Twice the fresh time too: 40 ms on top of a 300 ms backend is its own variance.
  const stall = gap >= t.minGapMs && gap <= t.maxGapMs && reusedP50Ms >= 2 * freshP50Ms;
  return { stall, freshP50Ms, reusedP50Ms };
}

const round = (ms: number) => Math.round(ms * 100) / 100;

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** One line for logs and reports. */
export function describeStall(f: KeepAliveStallFinding): string {
  return (
    `upstream ${f.upstream} (${f.origin}) stalls on kept-alive connections: p50 ${f.reusedP50Ms} ms on a reused ` +
    `connection, ${f.freshP50Ms} ms on a fresh one; fix: ${f.advice}`
  );
}
