/**
 * The apply plan's classification (control/apply-plan.ts): which definition
 * changes move live traffic (refused unless forced) and which loosen a check.
 * Pure: store definitions and states in, plan out.
 */
import { describe, expect, it } from 'vitest';
import { applyPlan, planApply, trafficMoves } from '../../control/apply-plan.js';
import { type Config, parseConfig } from '../../core/config.js';
import { isStranglerError } from '../../core/errors.js';
import { fileDefinitions } from '../../core/route-definitions.js';
import type { Mode, RouteState } from '../../core/types.js';
import { renderApplyPlan } from '../../reports/apply/index.js';
import type { Store } from '../../store/types.js';

function cfg(
  over: { route?: Record<string, unknown>; legacy?: string; svc?: string; extra?: unknown[] } = {},
): Readonly<Config> {
  return parseConfig({
    legacy: { url: over.legacy ?? 'http://127.0.0.1:1' },
    services: { svc: { url: over.svc ?? 'http://127.0.0.1:2' }, other: { url: 'http://127.0.0.1:3' } },
    routes: [
      { id: 'r', match: { path: '/api/r/*' }, service: 'svc', ...(over.route ?? {}) },
      ...(over.extra ?? []),
    ],
  });
}

const state = (id: string, mode: Mode): RouteState => ({
  id,
  mode,
  weight: mode === 'service' ? 100 : 0,
  version: 3,
  updatedAt: '2026-01-01T00:00:00.000Z',
  actor: 'a',
  reason: '',
});

const stored = fileDefinitions(cfg());

describe('apply plan: what moves live traffic', () => {
  it.each(['shadow', 'canary', 'service'] as Mode[])(
    'a match change of a route in %s moves live traffic',
    (mode) => {
      const plan = planApply(stored, [state('r', mode)], cfg({ route: { match: { path: '/api/*' } } }));
      expect(plan.routes).toEqual([
        expect.objectContaining({
          id: 'r',
          op: 'change',
          mode,
          version: 3,
          movesTraffic: ['match.path'],
          fields: [{ field: 'match.path', old: '/api/r/*', new: '/api/*' }],
        }),
      ]);
      expect(trafficMoves(plan)).toEqual([`route "r" (${mode}): match.path`]);
    },
  );

  it('the same change of a route in legacy moves nothing', () => {
    const plan = planApply(
      stored,
      [state('r', 'legacy')],
      cfg({ route: { match: { path: '/api/*' }, service: 'other' } }),
    );
    expect(plan.routes[0].movesTraffic).toEqual([]);
    expect(trafficMoves(plan)).toEqual([]);
  });

  it.each([
    [{ service: 'other' }, 'service'],
    [{ match: { path: '/api/r/*', methods: ['GET'] } }, 'match.methods'],
    [{ trailingSlash: 'strict' }, 'trailingSlash'],
    [{ sticky: 'ip' }, 'sticky'],
    [{ failover: { enabled: false } }, 'failover.enabled'],
    [{ idempotent: true }, 'idempotent'],
    [{ allowTargetHeader: true }, 'allowTargetHeader'],
    [{ rateLimit: { service: '10/s' } }, 'rateLimit.service'],
    [{ shadow: { reverse: true } }, 'shadow.reverse'],
  ])('%j moves the traffic of a live route (%s)', (route, field) => {
    const plan = planApply(stored, [state('r', 'canary')], cfg({ route }));
    expect(plan.routes[0].movesTraffic).toContain(field);
  });

  it('module, gate and slo move no traffic; a looser gate or slo is marked, a stricter one is not', () => {
    const loose = planApply(
      stored,
      [state('r', 'service')],
      cfg({
        route: {
          module: 'monolith.r',
          gate: { minCompared: 1, minMatchRate: 0.5, maxP99Ratio: 3, maxErrorRate: 0.5 },
          slo: { maxErrorRate: 0.5, maxP99Ms: 5000, window: '10m', minRequests: 100 },
        },
      }),
    );
    expect(loose.routes[0].movesTraffic).toEqual([]);
    expect(loose.routes[0].loosens).toEqual([
      'gate.maxErrorRate',
      'gate.maxP99Ratio',
      'gate.minCompared',
      'gate.minMatchRate',
      'slo.maxErrorRate',
      'slo.maxP99Ms',
      'slo.minRequests',
      'slo.window',
    ]);
    const strict = planApply(
      stored,
      [state('r', 'service')],
      cfg({ route: { gate: { minCompared: 5000, minMatchRate: 1 }, slo: { window: '30s' } } }),
    );
    expect(strict.routes[0].loosens).toEqual([]);
    expect(renderApplyPlan(loose, 'text').output).toContain(
      '~ r (service): loosens a check: gate.maxErrorRate',
    );
  });

  it('adding or removing a live route moves traffic; in legacy it does not', () => {
    const withX = cfg({ extra: [{ id: 'x', match: { path: '/x' }, service: 'other', mode: 'service' }] });
    const added = planApply(stored, [state('r', 'legacy')], withX);
    expect(added.routes).toEqual([
      expect.objectContaining({ id: 'x', op: 'add', mode: 'service', weight: 100, movesTraffic: ['route'] }),
    ]);
    const addedLegacy = planApply(
      stored,
      [state('r', 'legacy')],
      cfg({ extra: [{ id: 'x', match: { path: '/x' }, service: 'other' }] }),
    );
    expect(addedLegacy.routes[0].movesTraffic).toEqual([]);
    const defsWithX = fileDefinitions(withX);
    expect(planApply(defsWithX, [state('r', 'legacy'), state('x', 'shadow')], cfg()).routes).toEqual([
      expect.objectContaining({ id: 'x', op: 'remove', movesTraffic: ['route'] }),
    ]);
    expect(
      planApply(defsWithX, [state('r', 'legacy'), state('x', 'legacy')], cfg()).routes[0].movesTraffic,
    ).toEqual([]);
  });

  it("a changed URL moves traffic: legacy's always, a service's when a live route uses it", () => {
    expect(
      planApply(stored, [state('r', 'legacy')], cfg({ legacy: 'http://127.0.0.1:9' })).upstreams,
    ).toEqual({
      fields: [{ field: 'legacy.url', old: 'http://127.0.0.1:1', new: 'http://127.0.0.1:9' }],
      movesTraffic: ['legacy.url'],
    });
    expect(
      planApply(stored, [state('r', 'legacy')], cfg({ svc: 'http://127.0.0.1:9' })).upstreams.movesTraffic,
    ).toEqual([]);
    const live = planApply(stored, [state('r', 'shadow')], cfg({ svc: 'http://127.0.0.1:9' }));
    expect(live.upstreams.movesTraffic).toEqual(['services.svc.url']);
    expect(trafficMoves(live)).toEqual(['upstreams: services.svc.url']);
  });

  it('says where the file mode differs, and leaves modes to flip', () => {
    const plan = planApply(stored, [state('r', 'canary')], cfg({ route: { mode: 'service' } }));
    expect(plan.routes).toEqual([]);
    expect(plan.modeNotes).toEqual([{ id: 'r', store: 'canary', file: 'service' }]);
    expect(renderApplyPlan(plan, 'text').output).toContain('apply leaves modes alone');
  });
});

describe('applyPlan refuses before writing', () => {
  // A store that fails the test if anything is written.
  const untouchable = {
    routes: {
      applyDefinitions: () => {
        throw new Error('written');
      },
    },
  } as unknown as Store;

  it('a change that moves live traffic, unless forced, naming route and field', async () => {
    const plan = planApply(stored, [state('r', 'service')], cfg({ route: { match: { path: '/api/*' } } }));
    const err = await applyPlan(untouchable, plan, { actor: 'a' }).catch((e: unknown) => e);
    expect(isStranglerError(err, 'STRANGLER_E_APPLY_REFUSED')).toBe(true);
    expect((err as Error).message).toContain('route "r" (service): match.path');
  });

  it('--force without a reason', async () => {
    const plan = planApply(stored, [state('r', 'service')], cfg({ route: { match: { path: '/api/*' } } }));
    const err = await applyPlan(untouchable, plan, { actor: 'a', force: true }).catch((e: unknown) => e);
    expect(isStranglerError(err, 'STRANGLER_E_USAGE')).toBe(true);
    expect((err as Error).message).toContain('--reason');
  });

  it('a store without definitions (seeded before they lived there) has no plan: seed or serve fills them first', () => {
    const err = (() => {
      try {
        planApply({ routes: {}, upstreams: undefined }, [], cfg());
      } catch (e) {
        return e;
      }
    })();
    expect(isStranglerError(err, 'STRANGLER_E_STORE_LOST')).toBe(true);
    expect((err as Error).message).toContain('strangler seed');
  });
});
