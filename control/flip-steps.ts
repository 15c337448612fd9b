/**
 * The steps every user-initiated flip runs between validation and the store
 * write (transition rules, evidence gates). One list, so the CLI, the admin
 * API and the canary stepper cannot drift apart.
 */
import type { FlipStep } from './flip.js';
import { checkGate } from './gate.js';

export function defaultFlipSteps(): FlipStep[] {
  // checkGate: the state machine (control/state-machine.ts) then, for flips
  // towards the service, the route's evidence gate (control/gate.ts).
  return [checkGate];
}
