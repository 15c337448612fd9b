import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.js';
import { ShadowLimiter, sampled, shadowTarget } from '../../shadow/sampling.js';

const cfg = parseConfig({
  legacy: { url: 'http://127.0.0.1:1' },
  services: { block: { url: 'http://127.0.0.1:2' } },
  routes: [
    { id: 'a', match: { path: '/a' }, service: 'block' },
    { id: 'b', match: { path: '/b' }, service: 'block', shadow: { reverse: true, methods: ['GET', 'POST'] } },
  ],
});
const [a, b] = cfg.routes;

describe('sampling and shadow eligibility', () => {
  it('sample rate draws from the injected random; 0 and 1 are exact', () => {
    const seq = [0.05, 0.5, 0.09, 0.95];
    let i = 0;
    const rnd = () => seq[i++];
    expect(seq.map(() => sampled(0.1, rnd))).toEqual([true, false, true, false]);
    expect(sampled(0, () => 0)).toBe(false);
    expect(sampled(1, () => 0.999999)).toBe(true);
  });

  it('only safe methods by default; shadow mode mirrors to the service, reverse mirrors to legacy', () => {
    expect(shadowTarget(a, 'shadow', 'GET', 'legacy')).toBe('service');
    expect(shadowTarget(a, 'shadow', 'head', 'legacy')).toBe('service');
    expect(shadowTarget(a, 'shadow', 'POST', 'legacy')).toBeUndefined();
    expect(shadowTarget(a, 'legacy', 'GET', 'legacy')).toBeUndefined();
    expect(shadowTarget(a, 'canary', 'GET', 'service')).toBeUndefined(); // reverse off
    expect(shadowTarget(b, 'canary', 'GET', 'service')).toBe('legacy');
    expect(shadowTarget(b, 'service', 'POST', 'service')).toBe('legacy'); // listed explicitly
    expect(shadowTarget(b, 'canary', 'GET', 'legacy')).toBeUndefined(); // legacy-served canary request
  });

  it('limiter refuses over the concurrency cap and over the byte budget, and frees on release', () => {
    const l = new ShadowLimiter(2, 100);
    expect(l.tryAcquire(60)).toBeUndefined();
    expect(l.tryAcquire(50)).toBe('bytes-cap');
    expect(l.tryAcquire(10)).toBeUndefined();
    expect(l.tryAcquire(0)).toBe('concurrency-cap');
    expect(l.grow(40)).toBe(false);
    expect(l.grow(30)).toBe(true);
    expect(l.bytesExhausted()).toBe(true);
    l.release(90);
    l.release(10);
    expect([l.active, l.bytesHeld]).toEqual([0, 0]);
  });
});
