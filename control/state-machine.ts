/**
 * The route state machine: which mode/weight changes are legal, which need
 * the gate, and which need --force. flipRoute (control/flip.ts) runs this
 * through the checkGate step (control/gate.ts) before anything is written.
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
import type { Mode } from '../core/types.js';

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

/** The weight a mode implies, or the allowed canary range. */
export function checkWeight(mode: Mode, weight: number): void {
  const ok =
    Number.isInteger(weight) &&
    (mode === 'canary' ? weight >= 1 && weight <= 99 : weight === (mode === 'service' ? 100 : 0));
  if (!ok)
    throw new StranglerError(
      'STRANGLER_E_INVALID_FLIP',
      mode === 'canary'
        ? `weight: canary needs a whole number 1..99, got ${weight}`
        : `weight: mode ${mode} implies weight ${mode === 'service' ? 100 : 0}, got ${weight}`,
      { details: { field: 'weight', value: weight, mode } },
    );
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
  if (to.mode === 'legacy') return t('rollback', false);
  if (from.mode === 'canary' && to.mode === 'canary')
    return to.weight > from.weight ? t('weight-up', true) : t('weight-down', false);
  if (ORDER[to.mode] < ORDER[from.mode]) return t('rollback', false);
  if (from.mode === 'legacy' && (to.mode === 'canary' || to.mode === 'service')) return t('skip', true, true);
  // legacy → shadow mirrors copies only: legacy still answers every request.
  if (to.mode === 'shadow') return t('advance', false);
  return t('advance', true);
}

export function describeMode(mode: Mode, weight: number): string {
  return mode === 'canary' ? `canary ${weight}%` : mode;
}
