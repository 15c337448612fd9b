/**
 * What both backends share about writing route definitions
 * (RouteStore.applyDefinitions): the refusal when a plan was made from
 * definitions that changed since.
 */
import { StranglerError } from '../core/errors.js';

/** A plan made from definitions that changed since: nothing written (both backends say it alike). */ export function staleDefinition(
  what: string,
  expected: number | undefined,
  actual: number | undefined,
): StranglerError {
  const now = actual === undefined ? 'absent' : `at version ${actual}`;
  return new StranglerError(
    'STRANGLER_E_STALE_VERSION',
    what === 'upstreams'
      ? 'the upstreams changed in the store since the plan was made; nothing changed: run `strangler apply` again'
      : `route "${what}" is ${now}, not ${expected === undefined ? 'absent' : `at version ${expected}`} as the plan read it; nothing changed: run \`strangler apply\` again`,
    { details: { route: what, expected, actual } },
  );
}
