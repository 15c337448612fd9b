/**
 * The evidence one shadow exchange records, decided on plain values: which
 * answer is legacy and which is service, what counts as noise, and which
 * failures are the other side's fault. No sockets: shadow/record.ts is pure.
 */
import { describe, expect, it } from 'vitest';
import type { Target } from '../../core/types.js';
import { SkipError } from '../../shadow/collect.js';
import type { ShadowDiff } from '../../shadow/diff.js';
import {
  type Answer,
  type ExchangeOutcome,
  recordExchange,
  type RouteRecording,
} from '../../shadow/record.js';
import { emptyShadowBatch, type ShadowBatch, type ShadowSample } from '../../store/types.js';

const answer = (body: object, durationMs = 1): Answer => ({
  status: 200,
  headers: { 'content-type': 'application/json' },
  body: Buffer.from(JSON.stringify(body)),
  durationMs,
});
const ok = (a: Answer): PromiseSettledResult<Answer> => ({ status: 'fulfilled', value: a });
const failed = (reason: string): PromiseSettledResult<Answer> => ({
  status: 'rejected',
  reason: new SkipError(reason),
});

const rec: RouteRecording = { diffOptions: {}, sampleRing: 10 };

/** Record one outcome into a fresh batch; samples keep the pair as recorded (legacy, service). */
function record(o: ExchangeOutcome): { b: ShadowBatch; pairs: Array<[Answer, Answer, ShadowDiff]> } {
  const b = emptyShadowBatch();
  const pairs: Array<[Answer, Answer, ShadowDiff]> = [];
  recordExchange(b, o, rec, (legacy, service, diff) => {
    pairs.push([legacy, service, diff]);
    return { differences: diff.differences } as unknown as ShadowSample;
  });
  return { b, pairs };
}

describe('recordExchange: comparison', () => {
  it('an equal pair counts as compared and matched, with both latencies', () => {
    const { b } = record({ side: 'service', primary: answer({ a: 1 }, 3), copy: ok(answer({ a: 1 }, 5)) });
    expect([b.compared, b.matched, b.samples.length]).toEqual([1, 1, 0]);
    expect(b.latency).toEqual({ legacy: [3], service: [5] });
  });

  for (const side of ['service', 'legacy'] as Target[]) {
    it(`copy to ${side}: the legacy answer is diffed as legacy whichever side served the client`, () => {
      const legacy = answer({ name: 'ann' }, 3);
      const service = answer({ name: 'Ann' }, 5);
      const o: ExchangeOutcome =
        side === 'service'
          ? { side, primary: legacy, copy: ok(service) }
          : { side, primary: service, copy: ok(legacy) };
      const { b, pairs } = record(o);
      expect([b.compared, b.matched]).toEqual([1, 0]);
      expect(b.fieldDiffs).toEqual({ '$.name': 1 });
      expect(b.mismatchSets).toEqual({ '$.name': 1 });
      expect(b.latency).toEqual({ legacy: [3], service: [5] });
      expect(pairs[0][2].differences[0]).toMatchObject({ legacy: '"ann"', service: '"Ann"' });
      expect(b.samples).toHaveLength(1);
    });
  }

  it("a timeout or failure of the copy is the copied side's error; a cap is only a skip", () => {
    const primary = answer({});
    const timedOut = record({ side: 'service', primary, copy: failed('timeout') }).b;
    expect(timedOut.errors).toEqual({ legacy: 0, service: 1 });
    expect(timedOut.skipped).toEqual({ timeout: 1 });
    const capped = record({ side: 'legacy', primary, copy: failed('body-cap') }).b;
    expect(capped.errors).toEqual({ legacy: 0, service: 0 });
    expect(capped.skipped).toEqual({ 'body-cap': 1 });
    const thrown = record({
      side: 'legacy',
      primary,
      copy: { status: 'rejected', reason: new Error('boom') },
    }).b;
    expect(thrown.errors).toEqual({ legacy: 1, service: 0 });
    expect(thrown.skipped).toEqual({ error: 1 });
    expect(timedOut.compared + capped.compared + thrown.compared).toBe(0);
  });
});

describe('recordExchange: noise', () => {
  it('a second legacy answer is diffed against the legacy answer of the pair, not the service one', () => {
    // The service served the client; the copy and the second call both went to legacy.
    const { b } = record({
      side: 'legacy',
      primary: answer({ name: 'Ann', n: 0 }),
      copy: ok(answer({ name: 'ann', n: 1 })),
      again: ok(answer({ name: 'ann', n: 2 })),
    });
    expect(b.noisePairs).toBe(1);
    expect(b.fieldNoise).toEqual({ '$.n': 1 });
  });

  it('with the primary from legacy, the second legacy answer is compared with the primary', () => {
    const { b } = record({
      side: 'service',
      primary: answer({ name: 'ann', n: 1 }),
      copy: failed('timeout'),
      again: ok(answer({ name: 'ann', n: 2 })),
    });
    expect(b.noisePairs).toBe(1);
    expect(b.fieldNoise).toEqual({ '$.n': 1 });
  });

  it('no noise pair when the legacy copy failed, and a failed second call is a noise skip', () => {
    const noFirst = record({
      side: 'legacy',
      primary: answer({ n: 0 }),
      copy: failed('timeout'),
      again: ok(answer({ n: 2 })),
    }).b;
    expect(noFirst.noisePairs).toBe(0);
    const noSecond = record({
      side: 'service',
      primary: answer({ n: 1 }),
      copy: ok(answer({ n: 1 })),
      again: failed('timeout'),
    }).b;
    expect(noSecond.noisePairs).toBe(0);
    expect(noSecond.skipped).toEqual({ 'noise-timeout': 1 });
    expect(noSecond.errors).toEqual({ legacy: 0, service: 0 });
  });

  it("an extraction point's local second answer is compared with the primary", () => {
    const { b } = record({
      side: 'service',
      primary: answer({ n: 1 }),
      copy: ok(answer({ n: 1 })),
      local: answer({ n: 2 }),
    });
    expect([b.compared, b.matched, b.noisePairs]).toEqual([1, 1, 1]);
    expect(b.fieldNoise).toEqual({ '$.n': 1 });
  });
});
