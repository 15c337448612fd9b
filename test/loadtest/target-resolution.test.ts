import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.js';
import { isStranglerError } from '../../core/errors.js';
import {
  defaultMethod,
  derivePath,
  directTargetFor,
  parseTargets,
  proxyBaseUrl,
  runLoadtest,
} from '../../control/loadtest.js';

describe('what a loadtest requests, derived from the route', () => {
  it('replaces each :param and a trailing * with 1', () => {
    expect(derivePath('/api/block/*')).toBe('/api/block/1');
    expect(derivePath('/api/block/:user/:other')).toBe('/api/block/1/1');
    expect(derivePath('/api/users/:id(^\\d+)/posts')).toBe('/api/users/1/posts');
    expect(derivePath('/*')).toBe('/1');
    expect(derivePath('/api/i18n')).toBe('/api/i18n');
  });

  it('uses GET when the route allows it, else its first method', () => {
    const cfg = parseConfig({
      legacy: { url: 'http://127.0.0.1:1' },
      services: { s: { url: 'http://127.0.0.1:2' } },
      routes: [
        { id: 'a', match: { path: '/a' }, service: 's' },
        { id: 'b', match: { path: '/b', methods: ['post', 'GET'] }, service: 's' },
        { id: 'c', match: { path: '/c', methods: ['delete', 'post'] }, service: 's' },
      ],
    });
    expect(cfg.routes.map(defaultMethod)).toEqual(['GET', 'GET', 'DELETE']);
  });

  it('reaches a proxy listening on a wildcard address through loopback', () => {
    expect(proxyBaseUrl('127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(proxyBaseUrl('0.0.0.0:8080')).toBe('http://127.0.0.1:8080');
    expect(proxyBaseUrl('[::]:8080')).toBe('http://[::1]:8080');
  });

  it('compares the proxy with the side it serves in the route mode', () => {
    expect(directTargetFor('legacy', 0)).toBe('legacy');
    expect(directTargetFor('shadow', 0)).toBe('legacy');
    expect(directTargetFor('canary', 5)).toBe('legacy');
    expect(directTargetFor('canary', 60)).toBe('service');
    expect(directTargetFor('service', 100)).toBe('service');
  });

  it('parses --targets, naming an unknown target', () => {
    expect(parseTargets('service, legacy,service')).toEqual(['service', 'legacy']);
    expect(() => parseTargets('legacy,servce')).toThrow(/--targets: unknown target "servce"/);
    expect(() => parseTargets(',')).toThrow(/--targets: name at least one target/);
  });

  it('refuses bad options before sending anything, naming the field', async () => {
    const config = parseConfig({
      legacy: { url: 'http://127.0.0.1:1' },
      services: { s: { url: 'http://127.0.0.1:2' } },
      routes: [{ id: 'r', match: { path: '/r/*' }, service: 's' }],
    });
    const cases: Array<[Parameters<typeof runLoadtest>[0], string]> = [
      [{ config, route: 'nope' }, 'no route "nope"'],
      [{ config, route: 'r', connections: 0 }, '--connections'],
      [{ config, route: 'r', durationS: 0 }, '--duration'],
      [{ config, route: 'r', rate: 0.5 }, '--rate'],
      [{ config, route: 'r', method: 'GE T' }, '--method'],
      [{ config, route: 'r', path: 'api' }, '--path'],
    ];
    for (const [opts, field] of cases) {
      const err = await runLoadtest(opts).catch((e) => e);
      expect(isStranglerError(err), field).toBe(true);
      expect(err.message).toContain(field);
    }
  });
});
