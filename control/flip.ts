/**
 * flipRoute: the one way a route's mode or weight changes, from the CLI, the
 * admin API, the canary stepper and the guard alike. Validate first, then one
 * store transaction (new version + audit row); a refused flip changes nothing.
 */
import { type Config, configuredRoute } from '../core/config.js';
import { StranglerError } from '../core/errors.js';
import type { Mode, RouteState } from '../core/types.js';
import { requireIntact } from '../store/integrity.js';
import { readEffectiveConfig } from '../store/live-config.js';
import type { Store } from '../store/types.js';
import { resolveTarget } from './state-machine.js';

export interface FlipRequest {
  route: string;
  mode: string;
  /** Canary share 1..99; implied for the other modes (service 100, legacy/shadow 0). */
  weight?: number;
  reason?: string;
  actor: string;
  expectVersion?: number;
  /** Override a refusing gate; recorded in the audit row with the evidence. */
  force?: boolean;
  /** Show the verdict, change nothing. */
  dryRun?: boolean;
  /** Audit action name; 'flip' unless a caller (guard, canary stepper) names its own. */
  action?: string;
  details?: Record<string, unknown>;
}

export interface FlipResult {
  before: RouteState;
  /** The new state; null on a dry run. */
  after: RouteState | null;
  dryRun: boolean;
  /** Extra facts a step added (gate verdict, evidence). */
  details: Record<string, unknown>;
  /** The route was already in the requested mode and weight: nothing written, no audit row. */
  unchanged?: boolean;
}

/**
 * A step run between validation and the store write; it may refuse (throw) or
 * add details to the audit row. Gates plug in here (control/gate.ts).
 */
export type FlipStep = (ctx: {
  config: Readonly<Config>;
  store: Store;
  request: FlipRequest;
  before: RouteState;
  target: { mode: Mode; weight: number };
  details: Record<string, unknown>;
}) => Promise<void>;

type StepContext = Parameters<FlipStep>[0];

/**
 * A step refuses the flip: throw, or on --dry-run record the refusal as
 * `details.refused` so the caller can show it without changing anything.
 * The first refusal is kept: it is the one the real flip would throw (issue
 * 13: a dry run reported the gate where the flip fails as INVALID_FLIP).
 */
export function refuseFlip({ request, details }: StepContext, err: StranglerError): void {
  if (!request.dryRun) throw err;
  details.refused ??= { code: err.code, message: err.message };
}

/** A step let --force override `overrode` (rule or gate check names): recorded in the audit row. */
export function recordForced({ request, details }: StepContext, overrode: string[]): void {
  const before = (details.forced as { overrode: string[] } | undefined)?.overrode ?? [];
  details.forced = { by: request.actor, reason: request.reason, overrode: [...before, ...overrode] };
}

export async function flipRoute(
  store: Store,
  given: Readonly<Config>,
  req: FlipRequest,
  steps: FlipStep[] = [],
): Promise<FlipResult> {
  // A store that lost its state (or was never seeded) answers "no such
  // route"; say what is really wrong, and how to restore it.
  await requireIntact(store);
  // The gate and the route are the store's, whatever file the caller read
  // (issue 29 case 2: `flip -c lax.yaml` passed a gate the proxies refused).
  const { config } = await readEffectiveConfig(store, given);
  configuredRoute(config, req.route);
  const before = await store.routes.get(req.route);
  if (!before)
    throw new StranglerError(
      'STRANGLER_E_UNKNOWN_ROUTE',
      `route: "${req.route}" is not in the store yet (\`strangler serve\` or \`strangler seed\` seeds the routes of the config)`,
      {
        details: { field: 'route', value: req.route },
      },
    );
  if (req.expectVersion !== undefined && req.expectVersion !== before.version)
    throw new StranglerError(
      'STRANGLER_E_STALE_VERSION',
      `route "${req.route}" is at version ${before.version}, not ${req.expectVersion}; nothing changed`,
      { details: { route: req.route, expected: req.expectVersion, actual: before.version } },
    );
  const target = resolveTarget(req, before);
  // Already there: a scripted rollback run twice succeeds and writes nothing
  // (the audit log never holds a flip that changed nothing); no gate to ask.
  if (target.mode === before.mode && target.weight === before.weight)
    return { before, after: before, dryRun: Boolean(req.dryRun), details: {}, unchanged: true };
  const details: Record<string, unknown> = { ...(req.details ?? {}) };
  for (const step of steps) await step({ config, store, request: req, before, target, details });
  if (req.dryRun) return { before, after: null, dryRun: true, details };
  const after = await store.routes.flip({
    route: req.route,
    mode: target.mode,
    weight: target.weight,
    actor: req.actor,
    reason: req.reason ?? '',
    // Re-checked inside the store transaction: another writer may have flipped
    // since we read `before`, and then the gate verdict no longer applies.
    expectVersion: before.version,
    action: req.action,
    details: Object.keys(details).length ? details : undefined,
  });
  return { before, after, dryRun: false, details };
}
