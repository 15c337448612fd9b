/**
 * Upstream errors in one place, as @fastify/reply-from keeps them: what a
 * network error from undici means (its kind, and whether the request may have
 * reached the upstream), and what each kind becomes — the STRANGLER_E_* code
 * the client gets (its status in core/errors.ts: refused/reset → 502,
 * timeout → 504), the failover reason, and the code when an unsafe request
 * is not resent. The original error stays the `cause`.
 */
import type { ErrorCode } from '../core/errors.js';
import { isStranglerError } from '../core/errors.js';
import type { FailoverReason, UpstreamErrorKind, UpstreamFailure } from './types.js';

const REFUSED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const RESET = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
// UND_ERR_CONNECT_TIMEOUT is classified before this set is asked: nothing was sent.
const TIMEOUT = new Set(['UND_ERR_HEADERS_TIMEOUT', 'ETIMEDOUT']);

/** undici's (or the OS's) error code → what failed and whether the request may have been sent. */
export function classifyUpstreamError(err: unknown): { kind: UpstreamErrorKind; requestSent: boolean } {
  const code = (err as { code?: string })?.code ?? '';
  if (REFUSED.has(code)) return { kind: 'refused', requestSent: false };
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return { kind: 'timeout', requestSent: false };
  if (TIMEOUT.has(code)) return { kind: 'timeout', requestSent: true };
  // A reset before the response head: the request may have reached the
  // upstream, so it counts as sent (resending is for idempotent requests only).
  if (RESET.has(code)) return { kind: 'reset-before-response', requestSent: true };
  return { kind: 'other', requestSent: true };
}

/** Each kind of failure: the client's code, the failover reason, the code when not resent. */
const BY_KIND: Record<UpstreamErrorKind, { code: ErrorCode; reason: FailoverReason; notResent: ErrorCode }> =
  {
    refused: {
      code: 'STRANGLER_E_UPSTREAM_REFUSED',
      reason: 'refused',
      notResent: 'STRANGLER_E_UNSAFE_RETRY',
    },
    'reset-before-response': {
      code: 'STRANGLER_E_UPSTREAM_RESET',
      reason: 'reset',
      notResent: 'STRANGLER_E_UNSAFE_RETRY',
    },
    // A timeout stays a 504 even when not resent: the client should know it was slowness.
    timeout: {
      code: 'STRANGLER_E_UPSTREAM_TIMEOUT',
      reason: 'timeout',
      notResent: 'STRANGLER_E_UPSTREAM_TIMEOUT',
    },
    other: { code: 'STRANGLER_E_UPSTREAM', reason: 'error', notResent: 'STRANGLER_E_UNSAFE_RETRY' },
  };

/** Map a failed attempt to its STRANGLER_E_* code (a StranglerError keeps its own). */
export function failureCode(f: UpstreamFailure): ErrorCode {
  if (isStranglerError(f.error)) return f.error.code;
  return BY_KIND[f.kind].code;
}

/** Why legacy answers instead, for a failed service attempt. */
export function failoverReason(f: UpstreamFailure): FailoverReason {
  return BY_KIND[f.kind].reason;
}

/** The code of a failure the failover stage did not resend (unsafe, or its body not kept). */
export function notResentCode(f: UpstreamFailure): ErrorCode {
  return BY_KIND[f.kind].notResent;
}
