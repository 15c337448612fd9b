/**
 * The route state machine: which mode/weight changes are legal, which need
 * the gate, and which need --force. flipRoute (control/flip.ts) applies it
 * through the admitTransition step (control/flip-admission.ts), then asks
 * the gate (requireGate, control/gate.ts), before anything is written.
 *
 * The journey is legacy → shadow → canary (weight 1..99) → service (100).
 *
 *   from \ to   legacy     shadow      canary                    service
 *   legacy      no-op      advance     skip: --force, gated      skip: --force, gated
 *   shadow      rollback   no-op       advance, gated            advance, gated
 *   canary      rollback   rollback    weight up: gated          advance, gated
 *                                      weight down: rollback
 *                                      same weight: no-op
 *   service     rollback   rollback    rollback                  no-op
 *
 * Rollbacks are never gated: backing out must always be possible, however
 * little evidence there is. Skipping shadow (legacy → canary/service) means
 * there is no shadow evidence at all, so it needs an explicit --force --reason
 * (which also overrides the gate, recorded in the audit row). shadow → service
 * is allowed through the gate: the gate's evidence is the shadow comparison
 * itself, so a canary phase adds live traffic but is not a precondition.
 * A no-op (same mode, same weight) is refused here so the audit log never
 * holds a flip that changed nothing; flipRoute answers a no-op itself before
 * it gets here ("already legacy; nothing changed", exit 0).
 */
import { StranglerError } from '../core/errors.js';
import { MODES, type Mode } from '../core/types.js';

export type TransitionKind = 'advance' | 'skip' | 'weight-up' | 'weight-down' | 'rollback';

export interface Transition {
  from: { mode: Mode; weight: number };
  to: { mode: Mode; weight: number };
  kind: TransitionKind;
  /** The route's gate must pass (or be forced). */
  gated: boolean;
  /** Refused without --force even if the gate passes. */
  needsForce: boolean;
}

const ORDER: Record<Mode, number> = { legacy: 0, shadow: 1, canary: 2, service: 3 };

/**
 * The weights a mode allows: a canary sends 1..99% to the service (0 would be
 * shadow, 100 service); the other modes imply theirs (service 100, legacy and
 * shadow 0). The one home of the weight rules: resolveTarget, checkWeight
 * and weightOf all ask it.
 */
function allowedWeights(mode: Mode): { min: number; max: number } {
  if (mode === 'canary') return { min: 1, max: 99 };
  const implied = mode === 'service' ? 100 : 0;
  return { min: implied, max: implied };
}

/** The weight a route in `mode` carries: a canary's own, else the one its mode implies. */
export function weightOf(mode: Mode, canaryWeight: number): number {
  return mode === 'canary' ? canaryWeight : allowedWeights(mode).min;
}

const weightAllowed = (mode: Mode, weight: number) => {
  const { min, max } = allowedWeights(mode);
  return Number.isInteger(weight) && weight >= min && weight <= max;
};

/** Throw STRANGLER_E_INVALID_FLIP unless `weight` is one `mode` allows. */
export function checkWeight(mode: Mode, weight: number): void {
  if (weightAllowed(mode, weight)) return;
  const { min, max } = allowedWeights(mode);
  throw new StranglerError(
    'STRANGLER_E_INVALID_FLIP',
    mode === 'canary'
      ? `weight: canary needs a whole number ${min}..${max}, got ${weight}`
      : `weight: mode ${mode} implies weight ${min}, got ${weight}`,
    { details: { field: 'weight', value: weight, mode } },
  );
}

/**
 * A flip request's target: check its mode and weight (named as the CLI and
 * the admin API spell them) and fill in the weight the mode implies. A canary
 * flip without a weight keeps the current canary weight.
 */
export function resolveTarget(
  req: { mode: string; weight?: number },
  current: { mode: Mode; weight: number },
): { mode: Mode; weight: number } {
  if (!(MODES as readonly string[]).includes(req.mode))
    throw new StranglerError(
      'STRANGLER_E_INVALID_FLIP',
      `mode: "${req.mode}" is not one of ${MODES.join(', ')}`,
      {
        details: { field: 'mode', value: req.mode },
      },
    );
  const mode = req.mode as Mode;
  // No separate "0..100" check (issue 26: `flip --help` said 1..99 and the
  // error 0..100): weightAllowed is the range, and each message below names it.
  const { min, max } = allowedWeights(mode);
  if (mode === 'canary') {
    const weight = req.weight ?? (current.mode === 'canary' ? current.weight : undefined);
    if (weight === undefined || !weightAllowed(mode, weight))
      throw new StranglerError(
        'STRANGLER_E_INVALID_FLIP',
        `weight: canary needs --weight between ${min} and ${max}${weight === undefined ? '' : ` (got ${weight})`}`,
        { details: { field: 'weight', value: weight } },
      );
    return { mode, weight };
  }
  if (req.weight !== undefined && !weightAllowed(mode, req.weight))
    throw new StranglerError(
      'STRANGLER_E_INVALID_FLIP',
      `weight: mode ${mode} implies weight ${min}; --weight ${req.weight} applies to canary only`,
      { details: { field: 'weight', value: req.weight } },
    );
  return { mode, weight: min };
}

/**
 * Classify a change of a route's mode/weight. Throws STRANGLER_E_INVALID_FLIP
 * for a no-op or a weight the target mode does not allow.
 */
export function classifyTransition(
  from: { mode: Mode; weight: number },
  to: { mode: Mode; weight: number },
): Transition {
  checkWeight(to.mode, to.weight);
  const t = (kind: TransitionKind, gated: boolean, needsForce = false): Transition => ({
    from: { mode: from.mode, weight: from.weight },
    to: { mode: to.mode, weight: to.weight },
    kind,
    gated,
    needsForce,
  });
  if (from.mode === to.mode && from.weight === to.weight)
    throw new StranglerError(
      'STRANGLER_E_INVALID_FLIP',
      `route is already ${describeMode(to.mode, to.weight)}; nothing to change`,
      { details: { field: 'mode', mode: to.mode, weight: to.weight } },
    );
  if (from.mode === 'canary' && to.mode === 'canary')
    return to.weight > from.weight ? t('weight-up', true) : t('weight-down', false);
  // Back towards legacy (legacy is lowest, so any flip to it) is never gated.
  if (ORDER[to.mode] < ORDER[from.mode]) return t('rollback', false);
  if (from.mode === 'legacy' && (to.mode === 'canary' || to.mode === 'service')) return t('skip', true, true);
  // legacy → shadow mirrors copies only: legacy still answers every request.
  if (to.mode === 'shadow') return t('advance', false);
  return t('advance', true);
}

export function describeMode(mode: Mode, weight: number): string {
  return mode === 'canary' ? `canary ${weight}%` : mode;
}
