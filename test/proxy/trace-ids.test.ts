/**
 * The ids a request gets (proxy/context.ts): a W3C traceparent whose random
 * trace and span ids come from a pool of random bytes. Across several pool
 * refills every id is well formed and none repeats; a caller's trace is
 * continued with a new span of ours.
 */
import { describe, expect, it } from 'vitest';
import { nextTraceparent } from '../../proxy/context.js';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

describe('traceparent ids', () => {
  it('are well formed and unique across pool refills', () => {
    const traces = new Set<string>();
    const spans = new Set<string>();
    // 24 random bytes per new trace: 2,000 of them use the 4 KiB pool ~12 times over.
    for (let i = 0; i < 2000; i++) {
      const m = TRACEPARENT.exec(nextTraceparent(undefined));
      expect(m, `traceparent #${i}`).not.toBeNull();
      traces.add(m![1]);
      spans.add(m![2]);
    }
    expect(traces.size).toBe(2000);
    expect(spans.size).toBe(2000);
  });

  it("continue a caller's trace with a span of our own", () => {
    const caller = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const ours = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const m = TRACEPARENT.exec(nextTraceparent(caller));
      expect(m![1]).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
      expect(m![2]).not.toBe('00f067aa0ba902b7');
      ours.add(m![2]);
    }
    expect(ours.size).toBe(300);
  });
});
