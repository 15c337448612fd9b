/**
 * Flip admission: the flipRoute step (control/flip.ts) that applies the state
 * machine (control/state-machine.ts) to a request before any evidence is read.
 * It records the transition in the audit details, refuses a flip that skips
 * shadow unless forced, and refuses --force without --reason. Whether the
 * evidence allows the flip is the gate's question (requireGate,
 * control/gate.ts), asked next.
 */
import { StranglerError } from '../core/errors.js';
import { type FlipStep, recordForced, refuseFlip } from './flip.js';
import { classifyTransition, describeMode } from './state-machine.js';

export const admitTransition: FlipStep = async (ctx) => {
  const { request, before, target, details } = ctx;
  const transition = classifyTransition(before, target);
  details.transition = { kind: transition.kind, from: transition.from, to: transition.to };
  // Thrown even on --dry-run: a usage error, not a verdict about the route.
  if ((transition.needsForce || transition.gated) && request.force && !request.reason?.trim())
    throw new StranglerError(
      'STRANGLER_E_USAGE',
      'reason: --force needs --reason TEXT, recorded in the audit log',
      {
        details: { field: 'reason' },
      },
    );
  if (!transition.needsForce) return;
  if (request.force) return recordForced(ctx, ['skipShadow']);
  refuseFlip(
    ctx,
    new StranglerError(
      'STRANGLER_E_INVALID_FLIP',
      `${before.mode} → ${describeMode(target.mode, target.weight)} skips shadow, so there is no evidence to gate on; flip to shadow first, or pass --force --reason TEXT`,
      { details: { field: 'mode', transition: details.transition } },
    ),
  );
};
