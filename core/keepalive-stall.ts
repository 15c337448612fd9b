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
  /** Reused answers' lower quartile must exceed fresh ones' by at least this much (delayed ACK: 40 ms minimum on Linux). */
  minGapMs: number;
  /** ...and by at most this much (delayed ACK: 200 ms maximum), so a genuinely slow backend is not blamed. */
  maxGapMs: number;
}

export const DEFAULT_STALL_THRESHOLDS: StallThresholds = {
  minFresh: 3,
  minReused: 20,
  minGapMs: 30,
  maxGapMs: 250,
};

/** The pure verdict over two samples of answer times (ms); undefined while undecided. */
export function judgeStall(
  fresh: readonly number[],
  reused: readonly number[],
  t: StallThresholds = DEFAULT_STALL_THRESHOLDS,
): { stall: boolean; freshP50Ms: number; reusedP50Ms: number } | undefined {
  if (fresh.length < t.minFresh || reused.length < t.minReused) return undefined;
  // Decided on the lower quartiles: a busy machine only adds time, to fresh
  // and reused answers alike, while a stall puts a ~40 ms floor under every
  // reused answer. The p50s are what the finding reports.
  const freshQ = quantile(fresh, 0.25);
  const reusedQ = quantile(reused, 0.25);
  const gap = reusedQ - freshQ;
  // Twice the fresh time too: 40 ms on top of a 300 ms backend is its own variance.
  const stall = gap >= t.minGapMs && gap <= t.maxGapMs && reusedQ >= 2 * freshQ;
  return { stall, freshP50Ms: round(quantile(fresh, 0.5)), reusedP50Ms: round(quantile(reused, 0.5)) };
}

const round = (ms: number) => Math.round(ms * 100) / 100;

/** The q-quantile by nearest rank (the median of an even count is its upper middle). */
function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))];
}

/** One line for logs and reports. */
export function describeStall(f: KeepAliveStallFinding): string {
  return (
    `upstream ${f.upstream} (${f.origin}) stalls on kept-alive connections: p50 ${f.reusedP50Ms} ms on a reused ` +
    `connection, ${f.freshP50Ms} ms on a fresh one; fix: ${f.advice}`
  );
}
