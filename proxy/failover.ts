/**
 * Failover: when the service fails before answering and the request is safe
 * to resend, legacy answers instead. Owned by the failover engineer, who adds
 * opossum breakers (proxy/breaker.ts) behind this same signature.
 *
 * This first version is a pass-through so the pipeline runs end to end: the
 * service attempt is returned as it is, never replaced.
 */
import type { RouteConfig } from '../core/config.js';
import type { FailoverResult, RequestContext, UpstreamAttempt } from './types.js';

export async function forwardWithFailover(
  _ctx: RequestContext,
  _route: RouteConfig,
  attemptService: () => Promise<UpstreamAttempt>,
  _attemptLegacy: () => Promise<UpstreamAttempt>,
): Promise<FailoverResult> {
  const attempt = await attemptService();
  return Object.assign(attempt, { target: 'service' as const });
}
