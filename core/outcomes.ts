/**
 * The request outcomes that mean the service failed, as the proxy counts them
 * on `strangler_requests_total{target="service"}` (proxy/metrics.ts) and the
 * Grafana export queries them (control/export-grafana.ts): one list, so a
 * dashboard never misses an outcome the proxy adds (issue 26).
 */
export const SERVICE_FAILURE_OUTCOMES = [
  '5xx',
  'error',
  'refused',
  'reset',
  'timeout',
  'breaker-open',
] as const;

export type ServiceFailureOutcome = (typeof SERVICE_FAILURE_OUTCOMES)[number];
