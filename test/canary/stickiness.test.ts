import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { chooseTarget, stickyPoint } from '../../proxy/choose-target.js';
import { parseConfig, type RouteConfig } from '../../core/config.js';
import type { Mode, RouteState } from '../../core/types.js';

function route(extra: Record<string, unknown> = {}): RouteConfig {
  return parseConfig({
    legacy: { url: 'http://127.0.0.1:1' },
    services: { s: { url: 'http://127.0.0.1:2' } },
    routes: [{ id: 'block', match: { path: '/api/block/*' }, service: 's', ...extra }],
  }).routes[0];
}
const state = (mode: Mode, weight: number): RouteState => ({
  id: 'block',
  mode,
  weight,
  version: 1,
  updatedAt: new Date(0).toISOString(),
  actor: 't',
  reason: '',
});
// chooseTarget reads headers and the socket address only.
const req = (headers: Record<string, string> = {}, ip = '127.0.0.1') =>
  ({ headers, socket: { remoteAddress: ip } }) as unknown as IncomingMessage;

const USERS = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);

describe('sticky canary split', () => {
  const sticky = route({ sticky: 'header:x-user-id' });

  it('10,000 user ids at weight 10% put 10% ± 1% of users on the service, each always on the same side', () => {
    const first = USERS.map((u) => chooseTarget(sticky, state('canary', 10), req({ 'x-user-id': u })).target);
    const share = first.filter((t) => t === 'service').length / USERS.length;
    expect(share).toBeGreaterThanOrEqual(0.09);
    expect(share).toBeLessThanOrEqual(0.11);
    for (let round = 0; round < 3; round++)
      USERS.forEach((u, i) => {
        if (chooseTarget(sticky, state('canary', 10), req({ 'x-user-id': u })).target !== first[i])
          throw new Error(`${u} changed side on round ${round}`);
      });
  });

  it('raising the weight only moves users legacy → service, never back; shares track each weight', () => {
    let prev = new Set<string>();
    for (const w of [1, 5, 10, 25, 50, 75, 99]) {
      const on = new Set(
        USERS.filter(
          (u) => chooseTarget(sticky, state('canary', w), req({ 'x-user-id': u })).target === 'service',
        ),
      );
      for (const u of prev) expect(on.has(u), `${u} left the service when weight rose to ${w}`).toBe(true);
      expect(Math.abs(on.size / USERS.length - w / 100)).toBeLessThanOrEqual(0.015);
      prev = on;
    }
  });

  it('the hash is salted with the route id: a user is on independent sides across routes', () => {
    const a = USERS.filter((u) => stickyPoint('block', u) < 50);
    const both = a.filter((u) => stickyPoint('feed', u) < 50).length;
    // Independent halves overlap on about a quarter of all users.
    expect(Math.abs(both / USERS.length - 0.25)).toBeLessThan(0.02);
  });

  // Expected sides are pinned, not computed with stickyPoint: they come from an
  // independent reference (Python, from the FNV-1a and murmur3 fmix32 specs:
  // offset 2166136261, prime 16777619 over "block\0KEY", then fmix32, / 2^32 * 100).
  // Points: s0 1.23, s3 27.98 (< 30: service); s1..s11 otherwise 37.6..94.6.
  // Hashing the whole Cookie header instead of sid would put s3 on legacy and
  // s7, s8, s11 on the service, so a wrong key extraction fails here.
  const COOKIE_ON_SERVICE_AT_30 = new Set(['s0', 's3']);
  // Points: 10.0.0.6 20.76, 10.0.0.8 28.87; 10.0.0.2 is just over at 30.18.
  const IP_ON_SERVICE_AT_30 = new Set(['10.0.0.6', '10.0.0.8']);

  it('the sticky point matches an independently computed FNV-1a + fmix32 value', () => {
    expect(stickyPoint('block', 'user-0')).toBeCloseTo(90.9956680610776, 9);
    expect(stickyPoint('feed', 'user-0')).toBeCloseTo(71.85154657345265, 9);
    expect(stickyPoint('block', 's3')).toBeCloseTo(27.9833, 3);
  });

  it('cookie:NAME and ip keys are sticky too', () => {
    const byCookie = route({ sticky: 'cookie:sid' });
    const byIp = route({ sticky: 'ip' });
    for (let round = 0; round < 3; round++)
      for (let i = 0; i < 12; i++) {
        const c = req({ cookie: `theme=dark; sid=s${i}; other=1` });
        const expected = COOKIE_ON_SERVICE_AT_30.has(`s${i}`) ? 'service' : 'legacy';
        expect(chooseTarget(byCookie, state('canary', 30), c).target, `sid=s${i}`).toBe(expected);
      }
    for (let round = 0; round < 3; round++)
      for (let i = 0; i <= 10; i++) {
        const ip = `10.0.0.${i}`;
        const expected = IP_ON_SERVICE_AT_30.has(ip) ? 'service' : 'legacy';
        expect(chooseTarget(byIp, state('canary', 30), req({}, ip)).target, ip).toBe(expected);
      }
  });

  it('a request without the sticky key, or a route without sticky, is split per request by the weight', () => {
    let coin = 0;
    const seq = () => [0.05, 0.5, 0.15, 0.95][coin++ % 4];
    const picks = Array.from(
      { length: 4 },
      () => chooseTarget(sticky, state('canary', 20), req(), seq).target,
    );
    expect(picks).toEqual(['service', 'legacy', 'service', 'legacy']);
    coin = 0;
    expect(chooseTarget(route(), state('canary', 20), req({ 'x-user-id': 'u' }), seq).target).toBe('service');
  });

  it('modes: legacy and shadow serve from legacy, service from the service', () => {
    for (const u of USERS.slice(0, 100)) {
      expect(chooseTarget(sticky, state('legacy', 0), req({ 'x-user-id': u })).target).toBe('legacy');
      expect(chooseTarget(sticky, state('shadow', 0), req({ 'x-user-id': u })).target).toBe('legacy');
      expect(chooseTarget(sticky, state('service', 100), req({ 'x-user-id': u })).target).toBe('service');
    }
  });

  it('x-strangler-target forces a side only when the route allows it', () => {
    const open = route({ sticky: 'header:x-user-id', allowTargetHeader: true });
    expect(chooseTarget(open, state('canary', 1), req({ 'x-strangler-target': 'service' }))).toEqual({
      target: 'service',
      forced: true,
    });
    expect(chooseTarget(open, state('service', 100), req({ 'x-strangler-target': 'legacy' }))).toEqual({
      target: 'legacy',
      forced: true,
    });
    expect(
      chooseTarget(open, state('canary', 1), req({ 'x-strangler-target': 'bogus' })).forced,
    ).toBeUndefined();
    const closed = route({ allowTargetHeader: false });
    expect(chooseTarget(closed, state('legacy', 0), req({ 'x-strangler-target': 'service' }))).toEqual({
      target: 'legacy',
    });
  });
});
