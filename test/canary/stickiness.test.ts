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
  id: 'block', mode, weight, version: 1, updatedAt: new Date(0).toISOString(), actor: 't', reason: '',
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
      const on = new Set(USERS.filter((u) => chooseTarget(sticky, state('canary', w), req({ 'x-user-id': u })).target === 'service'));
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

  it('cookie:NAME and ip keys are sticky too', () => {
    const byCookie = route({ sticky: 'cookie:sid' });
    const byIp = route({ sticky: 'ip' });
    for (let i = 0; i < 200; i++) {
      const c = req({ cookie: `theme=dark; sid=s${i}; other=1` });
      const expected = stickyPoint('block', `s${i}`) < 30 ? 'service' : 'legacy';
      expect(chooseTarget(byCookie, state('canary', 30), c).target).toBe(expected);
      const ip = `10.0.${i >> 8}.${i & 255}`;
      expect(chooseTarget(byIp, state('canary', 30), req({}, ip)).target).toBe(stickyPoint('block', ip) < 30 ? 'service' : 'legacy');
    }
  });

  it('a request without the sticky key, or a route without sticky, is split per request by the weight', () => {
    let coin = 0;
    const seq = () => [0.05, 0.5, 0.15, 0.95][coin++ % 4];
    const picks = Array.from({ length: 4 }, () => chooseTarget(sticky, state('canary', 20), req(), seq).target);
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
    expect(chooseTarget(open, state('canary', 1), req({ 'x-strangler-target': 'service' }))).toEqual({ target: 'service', forced: true });
    expect(chooseTarget(open, state('service', 100), req({ 'x-strangler-target': 'legacy' }))).toEqual({ target: 'legacy', forced: true });
    expect(chooseTarget(open, state('canary', 1), req({ 'x-strangler-target': 'bogus' })).forced).toBeUndefined();
    const closed = route({ allowTargetHeader: false });
    expect(chooseTarget(closed, state('legacy', 0), req({ 'x-strangler-target': 'service' }))).toEqual({ target: 'legacy' });
  });
});
