/**
 * The whole upstream-error mapping (proxy/upstream-errors.ts) as one table:
 * the error code undici or the OS raises → kind, whether the request may have
 * been sent, the client's STRANGLER_E_* code and status, the failover reason,
 * and the code and status when the failover stage does not resend it.
 */
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, StranglerError } from '../../core/errors.js';
import type { UpstreamFailure } from '../../proxy/types.js';
import {
  classifyUpstreamError,
  failoverReason,
  failureCode,
  notResentCode,
} from '../../proxy/upstream-errors.js';

const failureOf = (code: string): UpstreamFailure => {
  const error = Object.assign(new Error(code), { code });
  return { ok: false, ...classifyUpstreamError(error), error, origin: 'http://upstream' };
};

describe('upstream error → status', () => {
  it.each([
    // code, kind, sent, client code, status, failover reason, not resent → code, status
    [
      'ECONNREFUSED',
      'refused',
      false,
      'STRANGLER_E_UPSTREAM_REFUSED',
      502,
      'refused',
      'STRANGLER_E_UNSAFE_RETRY',
      502,
    ],
    [
      'ENOTFOUND',
      'refused',
      false,
      'STRANGLER_E_UPSTREAM_REFUSED',
      502,
      'refused',
      'STRANGLER_E_UNSAFE_RETRY',
      502,
    ],
    [
      'EAI_AGAIN',
      'refused',
      false,
      'STRANGLER_E_UPSTREAM_REFUSED',
      502,
      'refused',
      'STRANGLER_E_UNSAFE_RETRY',
      502,
    ],
    [
      'EHOSTUNREACH',
      'refused',
      false,
      'STRANGLER_E_UPSTREAM_REFUSED',
      502,
      'refused',
      'STRANGLER_E_UNSAFE_RETRY',
      502,
    ],
    [
      'ENETUNREACH',
      'refused',
      false,
      'STRANGLER_E_UPSTREAM_REFUSED',
      502,
      'refused',
      'STRANGLER_E_UNSAFE_RETRY',
      502,
    ],
    [
      'UND_ERR_CONNECT_TIMEOUT',
      'timeout',
      false,
      'STRANGLER_E_UPSTREAM_TIMEOUT',
      504,
      'timeout',
      'STRANGLER_E_UPSTREAM_TIMEOUT',
      504,
    ],
    [
      'UND_ERR_HEADERS_TIMEOUT',
      'timeout',
      true,
      'STRANGLER_E_UPSTREAM_TIMEOUT',
      504,
      'timeout',
      'STRANGLER_E_UPSTREAM_TIMEOUT',
      504,
    ],
    [
      'ETIMEDOUT',
      'timeout',
      true,
      'STRANGLER_E_UPSTREAM_TIMEOUT',
      504,
      'timeout',
      'STRANGLER_E_UPSTREAM_TIMEOUT',
      504,
    ],
    [
      'ECONNRESET',
      'reset-before-response',
      true,
      'STRANGLER_E_UPSTREAM_RESET',
      502,
      'reset',
      'STRANGLER_E_UNSAFE_RETRY',
      502,
    ],
    [
      'EPIPE',
      'reset-before-response',
      true,
      'STRANGLER_E_UPSTREAM_RESET',
      502,
      'reset',
      'STRANGLER_E_UNSAFE_RETRY',
      502,
    ],
    [
      'UND_ERR_SOCKET',
      'reset-before-response',
      true,
      'STRANGLER_E_UPSTREAM_RESET',
      502,
      'reset',
      'STRANGLER_E_UNSAFE_RETRY',
      502,
    ],
    [
      'UND_ERR_CLOSED',
      'reset-before-response',
      true,
      'STRANGLER_E_UPSTREAM_RESET',
      502,
      'reset',
      'STRANGLER_E_UNSAFE_RETRY',
      502,
    ],
    ['EWHATEVER', 'other', true, 'STRANGLER_E_UPSTREAM', 502, 'error', 'STRANGLER_E_UNSAFE_RETRY', 502],
  ] as const)(
    '%s → %s (sent %s) → %s %i, failover %s; not resent → %s %i',
    (code, kind, sent, clientCode, status, reason, notResent, notResentStatus) => {
      const f = failureOf(code);
      expect([f.kind, f.requestSent]).toEqual([kind, sent]);
      expect(failureCode(f)).toBe(clientCode);
      expect(ERROR_CODES[failureCode(f)].status).toBe(status);
      expect(failoverReason(f)).toBe(reason);
      expect(notResentCode(f)).toBe(notResent);
      expect(ERROR_CODES[notResentCode(f)].status).toBe(notResentStatus);
    },
  );

  it('an error that is already a StranglerError keeps its own code', () => {
    const f: UpstreamFailure = {
      ok: false,
      kind: 'other',
      error: new StranglerError('STRANGLER_E_UNSAFE_RETRY', 'not resent'),
      requestSent: true,
      origin: '',
    };
    expect(failureCode(f)).toBe('STRANGLER_E_UNSAFE_RETRY');
  });
});
