/**
 * The one "may it be sent again" rule (core/resend.ts): safe methods always,
 * idempotent methods only back to the upstream that never answered, unsafe
 * requests only with an Idempotency-Key or a route declared idempotent.
 */
import { describe, expect, it } from 'vitest';
import { isIdempotentMethod, isResendable, isSafeMethod } from '../../core/resend.js';

const plain = { idempotent: false };

describe('core/resend', () => {
  it.each([
    ['GET', true, true, true],
    ['HEAD', true, true, true],
    ['OPTIONS', true, true, true],
    ['TRACE', false, true, false],
    ['PUT', false, true, false],
    ['DELETE', false, true, false],
    ['POST', false, false, false],
    ['PATCH', false, false, false],
  ])('%s: safe %s, idempotent %s, resendable without a key %s', (method, safe, idempotent, resendable) => {
    expect(isSafeMethod(method)).toBe(safe);
    expect(isIdempotentMethod(method)).toBe(idempotent);
    expect(isResendable(method, {}, plain)).toBe(resendable);
  });

  it('an unsafe request is resendable only with a non-empty Idempotency-Key or an idempotent route', () => {
    expect(isResendable('POST', { 'idempotency-key': 'k1' }, plain)).toBe(true);
    expect(isResendable('POST', { 'idempotency-key': '' }, plain)).toBe(false);
    expect(isResendable('PUT', {}, { idempotent: true })).toBe(true);
    expect(isResendable('get', {}, plain)).toBe(true);
  });
});
