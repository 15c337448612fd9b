/** `rateLimit:` validation names the bad field; bucket keys; rate parsing. */
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.js';
import { isStranglerError } from '../../core/errors.js';
import { bucketKey, parseRate } from '../../proxy/rate-limit.js';

const base = (rateLimit: unknown) => ({
  legacy: { url: 'http://127.0.0.1:1' },
  services: { svc: { url: 'http://127.0.0.1:2' } },
  routes: [{ id: 'r', match: { path: '/r/*' }, service: 'svc', rateLimit }],
});

function configError(raw: unknown): string {
  try {
    parseConfig(raw, 'strangler.yaml');
  } catch (err) {
    if (isStranglerError(err, 'STRANGLER_E_CONFIG')) return err.message;
    throw err;
  }
  throw new Error('config was accepted');
}

describe('rateLimit config', () => {
  it('accepts the documented shape and fills defaults', () => {
    const cfg = parseConfig(base({ service: '200/s', burst: 50, key: 'header:X-User', over: 'legacy' }));
    expect(cfg.routes[0].rateLimit).toEqual({
      service: '200/s',
      burst: 50,
      key: 'header:X-User',
      over: 'legacy',
    });
    expect(parseConfig(base({ legacy: '30/m' })).routes[0].rateLimit).toEqual({
      legacy: '30/m',
      burst: 0,
      key: 'route',
      over: 'reject',
    });
  });

  it('names the bad field', () => {
    expect(configError(base({ service: '200 per second' }))).toContain(
      'strangler.yaml: routes[0].rateLimit.service: expected a rate',
    );
    expect(configError(base({ service: '0/s' }))).toContain('routes[0].rateLimit.service');
    expect(configError(base({ service: '5/s', key: 'cookie:x' }))).toContain('routes[0].rateLimit.key');
    expect(configError(base({ service: '5/s', over: 'drop' }))).toContain('routes[0].rateLimit.over');
    expect(configError(base({ burst: 3 }))).toContain('routes[0].rateLimit: give a service rate');
    expect(configError(base({ legacy: '5/s', over: 'legacy' }))).toContain(
      'routes[0].rateLimit.over: over: legacy spills',
    );
  });
});

describe('rates and buckets', () => {
  it('parses rates', () => {
    expect(parseRate('200/s')).toEqual({ points: 200, windowS: 1 });
    expect(parseRate('30/m')).toEqual({ points: 30, windowS: 60 });
    expect(parseRate('7200/h')).toEqual({ points: 7200, windowS: 3600 });
  });

  it('keys by route, address or header; a missing header falls back to the address', () => {
    const req = (headers: Record<string, string>) =>
      ({ headers, socket: { remoteAddress: '10.0.0.7' } }) as unknown as IncomingMessage;
    expect(bucketKey('route', req({}))).toBe('-');
    expect(bucketKey('ip', req({}))).toBe('ip:10.0.0.7');
    expect(bucketKey('header:X-User', req({ 'x-user': 'ann' }))).toBe('h:ann');
    expect(bucketKey('header:X-User', req({}))).toBe('ip:10.0.0.7');
  });
});
