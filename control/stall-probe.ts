/**
 * `strangler loadtest`'s check for a target that stalls on kept-alive
 * connections (the rule: core/keepalive-stall.ts): five requests each on a
 * fresh connection (`Connection: close`), then a run on one kept-alive
 * connection, one at a time so server queueing cannot pass for a stall.
 * Only for bodiless GET/HEAD: the same request the load test just sent
 * thousands of times, never a write.
 */
import { Client, request } from 'undici';
import {
  DEFAULT_STALL_THRESHOLDS,
  judgeStall,
  type KeepAliveStallFinding,
  STALL_ADVICE,
} from '../core/keepalive-stall.js';

const PROBE_TIMEOUT_MS = 5000;

/**
 * Whether a probe may send this request again: GET or HEAD (the methods
 * probeKeepAliveStall sends, all of them safe by the may-this-be-sent-again
 * rule, core/resend.ts; its OPTIONS is not probed) and no body.
 */
export const probeable = (method: string, bodyBytes: number) =>
  (method === 'GET' || method === 'HEAD') && bodyBytes === 0;

async function timed(send: () => Promise<{ body: { dump(): Promise<void> } }>): Promise<number> {
  const t0 = performance.now();
  const r = await send();
  await r.body.dump();
  return performance.now() - t0;
}

/** The verdict for one URL, or undefined when it could not be probed (errors, undecided). */
export async function probeKeepAliveStall(
  upstream: string,
  url: string,
  method: 'GET' | 'HEAD',
): Promise<KeepAliveStallFinding | undefined> {
  const { minReused } = DEFAULT_STALL_THRESHOLDS;
  // A few more fresh answers than the rule's minimum: a busy machine slows some.
  const minFresh = DEFAULT_STALL_THRESHOLDS.minFresh + 2;
  const u = new URL(url);
  const path = u.pathname + u.search;
  const opts = { method, headersTimeout: PROBE_TIMEOUT_MS, bodyTimeout: PROBE_TIMEOUT_MS };
  const fresh: number[] = [];
  const reused: number[] = [];
  const client = new Client(u.origin, { pipelining: 1 });
  try {
    for (let i = 0; i < minFresh; i++) fresh.push(await timed(() => request(url, { ...opts, reset: true })));
    // The first answer on the kept-alive client opens its connection: not counted.
    await timed(() => client.request({ ...opts, path }));
    for (let i = 0; i < minReused; i++) reused.push(await timed(() => client.request({ ...opts, path })));
  } catch {
    return undefined;
  } finally {
    await client.close().catch(() => {});
  }
  const v = judgeStall(fresh, reused);
  if (!v) return undefined;
  return {
    kind: 'keepalive-stall',
    stall: v.stall,
    upstream,
    origin: u.origin,
    freshP50Ms: v.freshP50Ms,
    reusedP50Ms: v.reusedP50Ms,
    freshSamples: fresh.length,
    reusedSamples: reused.length,
    advice: STALL_ADVICE,
  };
}
