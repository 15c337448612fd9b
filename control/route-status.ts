/**
 * What `strangler routes` and the admin API show per route beyond its stored
 * state: the gate verdict for the next step towards the service, the SLO
 * status of its live service traffic, the canary rollout in progress, and
 * the last change.
 */
import { type Config, configuredRoute } from '../core/config.js';
import { StranglerError } from '../core/errors.js';
import type { Mode } from '../core/types.js';
import type { Store } from '../store/types.js';
import { type Rollout, readRollout } from './canary.js';
import { type GateVerdict, gateVerdict } from './gate.js';
import { type SloStatus, servesService, sloStatus } from './guard.js';
import { describeMode } from './state-machine.js';

export interface RouteStatus {
  route: string;
  mode: Mode;
  weight: number;
  version: number;
  /** Verdict for the next flip towards the service; null once in service mode (nothing left to gate). */
  gate: GateVerdict | null;
  slo: SloStatus;
  rollout: Rollout;
  lastChange: { at: string; actor: string; reason: string };
}

export async function describeRoute(
  store: Store,
  config: Readonly<Config>,
  routeId: string,
  now: number = Date.now(),
): Promise<RouteStatus> {
  const state = await store.routes.get(routeId);
  const route = configuredRoute(config, routeId);
  if (!state)
    throw new StranglerError(
      'STRANGLER_E_UNKNOWN_ROUTE',
      `route: "${routeId}" is in the config but not in the store`,
      {
        details: { field: 'route', value: routeId },
      },
    );
  const lastChangeMs = Date.parse(state.updatedAt);
  const gate =
    state.mode === 'service'
      ? null
      : await gateVerdict(store, route, {
          now,
          lastChangeMs,
          version: state.version,
          flushMs: config.proxy.statsFlushMs,
          servesService: servesService(state),
        });
  return {
    route: routeId,
    mode: state.mode,
    weight: state.weight,
    version: state.version,
    gate,
    slo: await sloStatus(store, config, route, state, now),
    rollout: await readRollout(store, routeId),
    lastChange: { at: state.updatedAt, actor: state.actor, reason: state.reason },
  };
}

/** Every configured route the store knows, in config order. */
export async function describeRoutes(
  store: Store,
  config: Readonly<Config>,
  now: number = Date.now(),
): Promise<RouteStatus[]> {
  const known = new Set((await store.routes.list()).map((s) => s.id));
  const out: RouteStatus[] = [];
  for (const r of config.routes) if (known.has(r.id)) out.push(await describeRoute(store, config, r.id, now));
  return out;
}

/** Short cells for a table: `pass`, `refused: minCompared, maxP99Ratio`, `-`; `ok`, `breach`, `too little traffic (3/20)`, `-`. */
export function statusCells(s: RouteStatus): { gate: string; slo: string; rollout: string } {
  const gate = !s.gate
    ? '-'
    : s.gate.pass
      ? 'pass'
      : `refused: ${s.gate.checks
          .filter((c) => !c.ok)
          .map((c) => c.name)
          .join(', ')}`;
  const slo =
    s.slo.state === 'idle'
      ? '-'
      : s.slo.state === 'insufficient'
        ? `too little traffic (${s.slo.requests}/${s.slo.limits.minRequests})`
        : s.slo.state;
  return { gate, slo, rollout: rolloutCell(s) };
}

/**
 * `running 2/4`, `done 3/3` — and when the route has since left the weight the
 * rollout put it at (the guard rolled it back, or someone flipped it), says
 * so: `done 3/3, then shadow by guard`. The rollout record alone still reads
 * "done" after a guard rollback, which would say the route serves the service.
 */
export function rolloutCell(s: Pick<RouteStatus, 'rollout' | 'mode' | 'weight' | 'lastChange'>): string {
  const r = s.rollout;
  if (r.status === 'none') return '-';
  const cell = `${r.status} ${Math.max(0, r.index + 1)}/${r.steps.length}`;
  if (r.status !== 'done' && r.status !== 'running' && r.status !== 'paused') return cell;
  if (r.index < 0) return cell;
  const weight = r.steps[r.index];
  const mode: Mode = weight === 100 ? 'service' : 'canary';
  if (s.mode === mode && s.weight === weight) return cell;
  return `${cell}, then ${describeMode(s.mode, s.weight)} by ${s.lastChange.actor}`;
}
