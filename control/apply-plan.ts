/**
 * `strangler apply`: an edited config file becomes audited route-definition
 * changes (DESIGN.md "apply"). `planApply` is the pure part — the store's
 * definitions against the file's, route by route, each change classified as
 * moving live traffic or loosening a check — and `applyPlan` writes a plan in
 * one store transaction (RouteStore.applyDefinitions), which raises the table
 * version every proxy follows, so applied definitions reach them as fast as a
 * flip (store/version-watch.ts).
 *
 * Why "moves live traffic" is refused: issue 29 case 1 — widening a service
 * route's match in the file sent /api/v2/builders to a service that answered
 * 404 to all of it, with no audit row and no gate. A route in `legacy` serves
 * nothing from its service, so its definition may change freely; any other
 * route's matcher, target, failover, limits or shadow copies decide where
 * live requests (and their writes) go.
 */
import type { Config } from '../core/config.js';
import { parseDuration } from '../core/duration.js';
import { StranglerError } from '../core/errors.js';
import {
  type DefinitionDiff,
  diffDefinitions,
  type FieldChange,
  type FullDefinitions,
  fileDefinitions,
  type RouteDiff,
  type StoredDefinitions,
  storeDefinesRoutes,
} from '../core/route-definitions.js';
import type { Mode, RouteState } from '../core/types.js';
import type { DefinitionWrite, Store } from '../store/types.js';
import { weightOf } from './state-machine.js';

/**
 * Definition fields that decide which requests a route takes or where they
 * (or their shadow copies) go. `module`, `gate` and `slo` do not.
 */
const TRAFFIC_FIELDS = [
  'kind',
  'path',
  'match',
  'trailingSlash',
  'service',
  'sticky',
  'failover',
  'rateLimit',
  'allowTargetHeader',
  'idempotent',
  'shadow',
];

/** Gate and SLO thresholds, and which direction makes the check easier to pass. */
const LOOSER: Record<string, (o: number, n: number) => boolean> = {
  'gate.minCompared': (o, n) => n < o,
  'gate.minMatchRate': (o, n) => n < o,
  'gate.maxP99Ratio': (o, n) => n > o,
  'gate.maxErrorRate': (o, n) => n > o,
  'slo.maxErrorRate': (o, n) => n > o,
  'slo.maxP99Ms': (o, n) => n > o,
  // More requests before judging, or a longer window: a breach is rolled back later.
  'slo.minRequests': (o, n) => n > o,
  'slo.window': (o, n) => n > o,
};

export interface PlannedRoute extends RouteDiff {
  /** The route's mode and weight in the store (an added route: the file's, which it is added in). */
  mode: Mode;
  weight: number;
  /** The route version the plan read (undefined for an added route). */
  version?: number;
  /** Fields whose change moves live traffic ('route' for a whole route added or removed). */
  movesTraffic: string[];
  /** Gate/SLO fields made easier to pass. */
  loosens: string[];
}

export interface ApplyPlan {
  routes: PlannedRoute[];
  upstreams: { fields: FieldChange[]; movesTraffic: string[] };
  /** Routes whose mode in the file differs from the store's: apply leaves modes to `strangler flip`. */
  modeNotes: Array<{ id: string; store: Mode; file: Mode }>;
  /** What the plan was made from, for the write's version checks. */
  stored: FullDefinitions;
  file: FullDefinitions;
}

export function isEmptyPlan(plan: ApplyPlan): boolean {
  return plan.routes.length === 0 && plan.upstreams.fields.length === 0;
}

function matchesField(field: string, prefixes: string[]): boolean {
  return prefixes.some((p) => field === p || field.startsWith(`${p}.`));
}

function loosened(c: FieldChange): boolean {
  const rule = LOOSER[c.field];
  if (!rule || c.old === undefined || c.new === undefined) return false;
  const num = (v: unknown) => (c.field === 'slo.window' ? parseDuration(v as string | number) : Number(v));
  return rule(num(c.old), num(c.new));
}

/** The plan for applying `file` over the store's definitions and route states. */
export function planApply(
  stored: StoredDefinitions,
  states: ReadonlyArray<RouteState>,
  file: Readonly<Config>,
): ApplyPlan {
  if (!storeDefinesRoutes(stored))
    throw new StranglerError(
      'STRANGLER_E_STORE_LOST',
      'the store holds no route definitions yet (seeded before they lived there): `strangler serve` or `strangler seed` fills them in from the config (audited), then run `strangler apply` for later changes',
      { details: { state: 'no-definitions' } },
    );
  const fileDefs = fileDefinitions(file);
  const diff: DefinitionDiff = diffDefinitions(stored, fileDefs);
  const byId = new Map(states.map((s) => [s.id, s]));
  const fileRoutes = new Map(file.routes.map((r) => [r.id, r]));
  const routes = diff.routes.map((r): PlannedRoute => {
    const state = byId.get(r.id);
    const fileRoute = fileRoutes.get(r.id);
    const mode = state?.mode ?? fileRoute?.mode ?? 'legacy';
    const weight = state?.weight ?? (fileRoute ? weightOf(fileRoute.mode, fileRoute.weight) : 0);
    const live = mode !== 'legacy';
    const movesTraffic =
      r.op === 'change'
        ? live
          ? r.fields.map((f) => f.field).filter((f) => matchesField(f, TRAFFIC_FIELDS))
          : []
        : live
          ? ['route']
          : [];
    return {
      ...r,
      mode,
      weight,
      version: state?.version,
      movesTraffic,
      loosens: r.op === 'change' ? r.fields.filter(loosened).map((f) => f.field) : [],
    };
  });
  return {
    routes,
    upstreams: { fields: diff.upstreams, movesTraffic: upstreamMoves(diff.upstreams, stored, states) },
    modeNotes: file.routes
      .filter((r) => byId.has(r.id) && byId.get(r.id)!.mode !== r.mode)
      .map((r) => ({ id: r.id, store: byId.get(r.id)!.mode, file: r.mode })),
    stored,
    file: fileDefs,
  };
}

/**
 * A changed URL moves traffic too: legacy's always (every unmatched request
 * goes there), a service's when a route it serves is not in legacy.
 */
function upstreamMoves(
  fields: FieldChange[],
  stored: FullDefinitions,
  states: ReadonlyArray<RouteState>,
): string[] {
  const liveServices = new Set(
    states.filter((s) => s.mode !== 'legacy').map((s) => stored.routes[s.id]?.service),
  );
  return fields
    .map((f) => f.field)
    .filter((f) => {
      const m = /^(legacy|services\.([^.]+))(\.(url|urls))?$/.exec(f);
      if (!m) return false;
      if (m[1] === 'legacy') return m[3] !== undefined;
      return liveServices.has(m[2]);
    });
}

/** "route changes: match.path" lines for each change that moves live traffic. */
export function trafficMoves(plan: ApplyPlan): string[] {
  const out = plan.routes
    .filter((r) => r.movesTraffic.length)
    .map((r) =>
      r.op === 'change'
        ? `route "${r.id}" (${r.mode}): ${r.movesTraffic.join(', ')}`
        : `route "${r.id}" (${r.mode}) ${r.op === 'add' ? 'added' : 'removed'}`,
    );
  if (plan.upstreams.movesTraffic.length) out.push(`upstreams: ${plan.upstreams.movesTraffic.join(', ')}`);
  return out;
}

export interface ApplyOptions {
  actor: string;
  reason?: string;
  /** Apply changes that move live traffic; needs a reason, recorded with what it overrode. */
  force?: boolean;
}

/** `--force` without a reason is refused before anything is planned or written: it is recorded. */
export function requireForceReason(opts: Pick<ApplyOptions, 'force' | 'reason'>): void {
  if (opts.force && !opts.reason?.trim())
    throw new StranglerError(
      'STRANGLER_E_USAGE',
      '--force needs --reason TEXT: it is recorded in the audit log',
      {
        details: { field: 'reason' },
      },
    );
}

/**
 * Write the plan: refused (STRANGLER_E_APPLY_REFUSED, nothing written) when a
 * change moves live traffic, unless forced with a reason. Returns the table
 * version the write raised the store to.
 */
export async function applyPlan(store: Store, plan: ApplyPlan, opts: ApplyOptions): Promise<number> {
  const moves = trafficMoves(plan);
  requireForceReason(opts);
  if (moves.length && !opts.force)
    throw new StranglerError(
      'STRANGLER_E_APPLY_REFUSED',
      `apply refused: these changes would move live traffic: ${moves.join('; ')}. Nothing changed. Flip the route to legacy first, or pass --force --reason TEXT`,
      { details: { movesTraffic: moves } },
    );
  const reason = opts.reason ?? 'applied from config';
  const forced = (overrode: string[]) =>
    opts.force && overrode.length ? { forced: { by: opts.actor, reason, overrode } } : {};
  const write: DefinitionWrite = {
    actor: opts.actor,
    reason,
    routes: plan.routes.map((r) => ({
      id: r.id,
      op: r.op,
      definition: r.op === 'remove' ? null : plan.file.routes[r.id],
      mode: r.mode,
      weight: r.weight,
      expectVersion: r.version,
      details: {
        changes: r.fields,
        movesTraffic: r.movesTraffic,
        loosens: r.loosens,
        ...forced(r.movesTraffic.map((f) => `moves-live-traffic: ${f}`)),
      },
    })),
    ...(plan.upstreams.fields.length
      ? {
          upstreams: {
            expect: plan.stored.upstreams,
            next: plan.file.upstreams,
            details: {
              changes: plan.upstreams.fields,
              movesTraffic: plan.upstreams.movesTraffic,
              ...forced(plan.upstreams.movesTraffic.map((f) => `moves-live-traffic: ${f}`)),
            },
          },
        }
      : {}),
  };
  return store.routes.applyDefinitions(write);
}
