import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.js';
import { isStranglerError } from '../../core/errors.js';
import type { RouteState } from '../../core/types.js';
import { compileRouteTable } from '../../proxy/route-table.js';

const config = parseConfig({
  legacy: { url: 'http://127.0.0.1:1' },
  services: { s: { url: 'http://127.0.0.1:2' } },
  routes: [
    { id: 'wild', match: { path: '/api/*' }, service: 's' },
    { id: 'param', match: { path: '/api/users/:id' }, service: 's' },
    { id: 'exact', match: { path: '/api/users/me' }, service: 's' },
    {
      id: 'posts-write',
      match: { path: '/api/posts', methods: ['post', 'PUT'] },
      service: 's',
      mode: 'canary',
      weight: 5,
    },
  ],
});

const state = (id: string, mode: RouteState['mode'], weight = 0): RouteState => ({
  id,
  mode,
  weight,
  version: 3,
  updatedAt: '2026-01-01T00:00:00.000Z',
  actor: 't',
  reason: 'r',
});

describe('RouteTable', () => {
  const table = compileRouteTable(config, [state('param', 'service'), state('exact', 'shadow')]);

  it('the most specific pattern wins: exact > :param > trailing *', () => {
    expect(table.match('GET', '/api/users/me')?.config.id).toBe('exact');
    expect(table.match('GET', '/api/users/42')?.config.id).toBe('param');
    expect(table.match('GET', '/api/users/42/friends')?.config.id).toBe('wild');
    expect(table.match('GET', '/api/anything')?.config.id).toBe('wild');
  });

  it('ignores the query string', () => {
    expect(table.match('GET', '/api/users/me?x=/api/users/1')?.config.id).toBe('exact');
  });

  it('matches methods per route; a route without methods takes them all', () => {
    expect(table.match('POST', '/api/posts')?.config.id).toBe('posts-write');
    expect(table.match('PUT', '/api/posts')?.config.id).toBe('posts-write');
    // /api/posts GET falls through to the wildcard route, which takes every method.
    expect(table.match('GET', '/api/posts')?.config.id).toBe('wild');
    expect(table.match('PATCH', '/api/users/1')?.config.id).toBe('param');
  });

  it('returns undefined (→ legacy) for unmatched paths', () => {
    expect(table.match('GET', '/')).toBeUndefined();
    expect(table.match('GET', '/apix')).toBeUndefined();
  });

  it('joins store state; routes not seeded keep their config mode at version 0', () => {
    expect(table.get('param')?.state).toMatchObject({ mode: 'service', version: 3 });
    expect(table.get('posts-write')?.state).toMatchObject({ mode: 'canary', weight: 5, version: 0 });
    expect(table.get('param')?.pattern).toBe('/api/users/:id');
    expect(Object.isFrozen(table.get('param')?.state)).toBe(true);
  });

  it('refuses two routes with the same method and pattern, naming the route', () => {
    const dup = parseConfig({
      legacy: { url: 'http://127.0.0.1:1' },
      services: { s: { url: 'http://127.0.0.1:2' } },
      routes: [
        { id: 'a', match: { path: '/x/:id' }, service: 's' },
        { id: 'b', match: { path: '/x/:id', methods: ['GET'] }, service: 's' },
      ],
    });
    try {
      compileRouteTable(dup, []);
      expect.unreachable();
    } catch (err) {
      expect(isStranglerError(err, 'STRANGLER_E_CONFIG')).toBe(true);
      expect((err as Error).message).toContain('routes[1] (b)');
    }
  });
});
