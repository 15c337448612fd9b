import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.js';
import { mayAskLegacyTwice, ShadowLimiter, sampled, shadowTarget } from '../../shadow/sampling.js';

const cfg = parseConfig({
  legacy: { url: 'http://127.0.0.1:1' },
  services: { block: { url: 'http://127.0.0.1:2' } },
  routes: [
    { id: 'a', match: { path: '/a' }, service: 'block' },
    { id: 'b', match: { path: '/b' }, service: 'block', shadow: { reverse: true, methods: ['GET', 'POST'] } },
  ],
});
const [a, b] = cfg.routes;
const get = (method: string, headers: Record<string, string> = {}, url = '/a') => ({ method, headers, url });

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
    expect(shadowTarget(a, 'shadow', get('GET'), 'legacy')).toBe('service');
    expect(shadowTarget(a, 'shadow', get('head'), 'legacy')).toBe('service');
    expect(shadowTarget(a, 'shadow', get('POST'), 'legacy')).toBeUndefined();
    expect(shadowTarget(a, 'legacy', get('GET'), 'legacy')).toBeUndefined();
    expect(shadowTarget(a, 'canary', get('GET'), 'service')).toBeUndefined(); // reverse off
    expect(shadowTarget(b, 'canary', get('GET'), 'service')).toBe('legacy');
    // listed explicitly, but a write is copied only where it may run twice (issue 25 probe: POSTs ran on both sides)
    expect(shadowTarget(b, 'service', get('POST'), 'service')).toBeUndefined();
    expect(shadowTarget(b, 'service', get('POST', { 'idempotency-key': 'k1' }), 'service')).toBe('legacy');
    expect(shadowTarget({ ...b, idempotent: true }, 'shadow', get('POST'), 'legacy')).toBe('service');
    expect(shadowTarget(b, 'canary', get('GET'), 'legacy')).toBeUndefined(); // legacy-served canary request
  });

  it('a method override is never copied nor asked twice, whatever shadow.methods lists (issue 25)', () => {
    for (const route of [a, b]) {
      expect(
        shadowTarget(route, 'shadow', get('GET', { 'x-http-method-override': 'DELETE' }), 'legacy'),
      ).toBeUndefined();
      expect(shadowTarget(route, 'shadow', get('GET', {}, '/a?_method=DELETE'), 'legacy')).toBeUndefined();
      expect(
        shadowTarget(route, 'shadow', get('POST', { 'x-method-override': 'PUT' }), 'legacy'),
      ).toBeUndefined();
    }
    expect(mayAskLegacyTwice(a, get('GET', { 'x-http-method': 'DELETE' }))).toBe(false);
    expect(mayAskLegacyTwice(a, get('GET'))).toBe(true);
    expect(mayAskLegacyTwice({ idempotent: true }, get('GET', { 'x-http-method': 'DELETE' }))).toBe(true);
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
