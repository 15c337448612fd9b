/**
 * `kind: function` in the config schema: what a point must and must not say,
 * with messages naming the field; and the consumers of routes that must not
 * treat a point as a listener route (route table, load test, Istio export).
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.js';
import { isStranglerError } from '../../core/errors.js';
import { exportIstio } from '../../control/export-istio.js';
import { runLoadtest } from '../../control/loadtest.js';
import { compileRouteTable } from '../../proxy/route-table.js';

const base = {
  legacy: { url: 'http://127.0.0.1:8000' },
  services: { 'block-service': { url: 'http://127.0.0.1:9000' } },
};
const point = {
  id: 'block-check',
  kind: 'function',
  path: '/internal/block-check',
  service: 'block-service',
};

function configError(routes: unknown[]): string {
  try {
    parseConfig({ ...base, routes }, 'strangler.yaml');
  } catch (err) {
    if (isStranglerError(err, 'STRANGLER_E_CONFIG')) return err.message;
    throw err;
  }
  throw new Error('config was accepted');
}

describe('kind: function routes', () => {
  it('are valid with a path, and read as POST on that path everywhere else', () => {
    const cfg = parseConfig({ ...base, routes: [point] });
    expect(cfg.routes[0]).toMatchObject({
      kind: 'function',
      path: '/internal/block-check',
      match: { path: '/internal/block-check', methods: ['POST'] },
      idempotent: false,
      mode: 'legacy',
    });
  });

  it('http is the default kind, and still needs match', () => {
    expect(
      parseConfig({ ...base, routes: [{ id: 'b', match: { path: '/a' }, service: 'block-service' }] })
        .routes[0].kind,
    ).toBe('http');
    expect(configError([{ id: 'b', service: 'block-service' }])).toContain(
      'strangler.yaml: routes[0].match: an http route needs match.path',
    );
    expect(configError([{ id: 'b', match: { path: '/a' }, path: '/x', service: 'block-service' }])).toContain(
      'routes[0].path',
    );
  });

  it('refuses what a point cannot mean, naming the field', () => {
    expect(configError([{ ...point, path: undefined }])).toContain(
      'routes[0].path: a function point needs path',
    );
    expect(configError([{ ...point, path: '/internal/:id' }])).toContain(
      'routes[0].path: expected an exact path',
    );
    expect(configError([{ ...point, path: '/internal/*' }])).toContain(
      'routes[0].path: expected an exact path',
    );
    expect(configError([{ ...point, match: { path: '/x' } }])).toContain(
      'routes[0].match: a function point is not matched',
    );
    expect(configError([{ ...point, sticky: 'header:x-user' }])).toContain('routes[0].sticky');
    expect(configError([{ ...point, allowTargetHeader: true }])).toContain('routes[0].allowTargetHeader');
    expect(configError([{ ...point, shadow: { reverse: true } }])).toContain('routes[0].shadow.reverse');
    // The points endpoints take no rate-limit stage: a limit here would be accepted and never applied.
    expect(configError([{ ...point, rateLimit: { service: '1/m' } }])).toContain('routes[0].rateLimit');
    expect(configError([{ ...point, kind: 'grpc' }])).toContain('routes[0].kind');
  });

  it('are in the route table by id but never matched on the listener', () => {
    const cfg = parseConfig({ ...base, routes: [point] });
    const table = compileRouteTable(cfg, []);
    expect(table.get('block-check')?.config.kind).toBe('function');
    expect(table.match('POST', '/internal/block-check')).toBeUndefined();
  });

  it('a load test refuses a point: its calls come from inside the monolith', async () => {
    const cfg = parseConfig({ ...base, routes: [point] });
    await expect(runLoadtest({ config: cfg, route: 'block-check', durationS: 1 })).rejects.toMatchObject({
      code: 'STRANGLER_E_USAGE',
      message: expect.stringContaining('extraction point'),
    });
  });

  it('the Istio export says a point does not translate and routes nothing for it', () => {
    const cfg = parseConfig({
      ...base,
      routes: [point, { id: 'block', match: { path: '/api/block/*' }, service: 'block-service' }],
    });
    const yaml = exportIstio(cfg, []);
    expect(yaml).toContain('not translated: extraction point block-check');
    expect(yaml).not.toContain('name: block-check');
    expect(yaml).not.toMatch(/exact: \/internal/);
    expect(yaml).toContain('name: block');
  });
});
