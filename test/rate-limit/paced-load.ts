/**
 * Open-loop load at a fixed rate: one request every 1000/rate ms whatever the
 * answers, spread round-robin over the given pools. A limit is a rate, so the
 * test load must be a rate too: a closed loop (autocannon as fast as it can)
 * empties each window in its first milliseconds and measures the window edges,
 * not the limit.
 */
import { performance } from 'node:perf_hooks';
import type { Pool } from 'undici';

export interface PacedResult {
  statuses: number[];
  /** Every answer with when its request was sent, in seconds after the first one. */
  answers: Array<{ sentAt: number; status: number }>;
  /** Network errors (no answer at all). */
  errors: string[];
  /** From the first request sent to the last one sent, in seconds. */
  sendSeconds: number;
  headers: Array<Record<string, string | string[] | undefined>>;
}

export async function pacedLoad(
  pools: Pool[],
  opts: { rate: number; seconds: number; path: string; method?: 'GET' | 'POST'; body?: string },
): Promise<PacedResult> {
  const interval = 1000 / opts.rate;
  const total = Math.round(opts.rate * opts.seconds);
  const inflight: Promise<void>[] = [];
  const statuses: number[] = [];
  const errors: string[] = [];
  const headers: PacedResult['headers'] = [];
  const answers: PacedResult['answers'] = [];
  const t0 = performance.now();
  let last = t0;
  for (let i = 0; i < total; i++) {
    const due = t0 + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    last = performance.now();
    const sentAt = (last - t0) / 1000;
    const pool = pools[i % pools.length];
    inflight.push(
      pool
        .request({
          method: opts.method ?? 'GET',
          path: opts.path,
          body: opts.body,
          headers: opts.body ? { 'content-type': 'application/json' } : {},
        })
        .then(async (res) => {
          await res.body.dump();
          statuses.push(res.statusCode);
          answers.push({ sentAt, status: res.statusCode });
          headers.push(res.headers);
        })
        .catch((err: Error) => {
          errors.push(err.message);
        }),
    );
  }
  await Promise.all(inflight);
  return { statuses, answers, errors, headers, sendSeconds: (last - t0) / 1000 };
}
