/**
 * The steps every user-initiated flip runs between validation and the store
 * write. One list, so the CLI, the admin API, the canary stepper and the SLO
 * guard cannot drift apart.
 */
import { admitTransition } from './flip-admission.js';
import type { FlipStep } from './flip.js';
import { requireGate } from './gate.js';

export function defaultFlipSteps(): FlipStep[] {
  // Admission first (is this transition allowed, is --force justified), then
  // the evidence gate for the transitions that need one.
  return [admitTransition, requireGate];
}
