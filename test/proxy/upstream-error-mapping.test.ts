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
  // Each row: the codes of one outcome; then kind, whether sent, the client's
  // code and status, the failover reason, and the code and status when not resent.
  const table = [
    [
      'ECONNREFUSED ENOTFOUND EAI_AGAIN EHOSTUNREACH ENETUNREACH',
      'refused',
      false,
      'UPSTREAM_REFUSED',
      502,
      'refused',
      'UNSAFE_RETRY',
      502,
    ],
    [
      'UND_ERR_CONNECT_TIMEOUT',
      'timeout',
      false,
      'UPSTREAM_TIMEOUT',
      504,
      'timeout',
      'UPSTREAM_TIMEOUT',
      504,
    ],
    [
      'UND_ERR_HEADERS_TIMEOUT ETIMEDOUT',
      'timeout',
      true,
      'UPSTREAM_TIMEOUT',
      504,
      'timeout',
      'UPSTREAM_TIMEOUT',
      504,
    ],
    [
      'ECONNRESET EPIPE UND_ERR_SOCKET UND_ERR_CLOSED',
      'reset-before-response',
      true,
      'UPSTREAM_RESET',
      502,
      'reset',
      'UNSAFE_RETRY',
      502,
    ],
    ['EWHATEVER', 'other', true, 'UPSTREAM', 502, 'error', 'UNSAFE_RETRY', 502],
  ] as const;

  it.each(table)(
    '%s → %s (sent %s) → %s %i, failover %s; not resent → %s %i',
    (codes, kind, sent, clientCode, status, reason, notResent, notResentStatus) => {
      for (const code of codes.split(' ')) {
        const f = failureOf(code);
        expect([code, f.kind, f.requestSent]).toEqual([code, kind, sent]);
        expect(failureCode(f)).toBe(`STRANGLER_E_${clientCode}`);
        expect(ERROR_CODES[failureCode(f)].status).toBe(status);
        expect(failoverReason(f)).toBe(reason);
        expect(notResentCode(f)).toBe(`STRANGLER_E_${notResent}`);
        expect(ERROR_CODES[notResentCode(f)].status).toBe(notResentStatus);
      }
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
