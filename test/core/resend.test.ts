/**
 * The one "may it be sent again" rule (core/resend.ts): safe methods always,
 * idempotent methods only back to the upstream that never answered, unsafe
 * requests only with an Idempotency-Key or a route declared idempotent; a
 * method override makes any request unsafe (issue 25).
 */
import { describe, expect, it } from 'vitest';
import {
  isIdempotentMethod,
  isIdempotentRequest,
  isResendable,
  isSafeMethod,
  isSafeRequest,
  METHOD_OVERRIDE_HEADERS,
  overridesMethod,
} from '../../core/resend.js';
import { probeable } from '../../control/stall-probe.js';

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
    expect(isResendable({ method, headers: {} }, plain)).toBe(resendable);
  });

  it('an unsafe request is resendable only with a non-empty Idempotency-Key or an idempotent route', () => {
    expect(isResendable({ method: 'POST', headers: { 'idempotency-key': 'k1' } }, plain)).toBe(true);
    expect(isResendable({ method: 'POST', headers: { 'idempotency-key': '' } }, plain)).toBe(false);
    expect(isResendable({ method: 'PUT', headers: {} }, { idempotent: true })).toBe(true);
    expect(isResendable({ method: 'get', headers: {} }, plain)).toBe(true);
  });

  it.each(METHOD_OVERRIDE_HEADERS)(
    'GET with %s: DELETE is neither safe, idempotent nor resendable',
    (name) => {
      const req = { method: 'GET', headers: { [name]: 'DELETE' }, url: '/x' };
      expect(overridesMethod(req)).toBe(true);
      expect(isSafeRequest(req)).toBe(false);
      expect(isIdempotentRequest(req)).toBe(false);
      expect(isResendable(req, plain)).toBe(false);
      // Still resendable where the server dedupes or the owners said so.
      expect(isResendable({ ...req, headers: { ...req.headers, 'idempotency-key': 'k' } }, plain)).toBe(true);
      expect(isResendable(req, { idempotent: true })).toBe(true);
    },
  );

  it.each([
    ['/x?_method=DELETE', true],
    ['/x?a=1&_method=delete', true],
    ['/x?%5Fmethod=DELETE', true],
    ['/x?a=1;_method=PUT', true],
    ['/x?_method', true],
    ['/x?my_method=DELETE', false],
    ['/x?_methods=1', false],
    ['/x/_method=DELETE', false],
    ['/x', false],
  ])('the query of %s overrides the method: %s', (url, overridden) => {
    const req = { method: 'GET', headers: {}, url };
    expect(overridesMethod(req)).toBe(overridden);
    expect(isSafeRequest(req)).toBe(!overridden);
    expect(isResendable(req, plain)).toBe(!overridden);
  });
});

// Callers that keep a narrower list of their own must stay inside the rule.
describe('callers of the rule', () => {
  const methods = ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'POST', 'PUT', 'DELETE', 'PATCH'];

  it('the keep-alive stall probe re-sends only bodiless requests the rule calls safe', () => {
    const probed = methods.filter((m) => probeable(m, 0));
    expect(probed).toEqual(['GET', 'HEAD']);
    for (const m of probed) expect(isSafeMethod(m)).toBe(true);
    expect(methods.filter((m) => probeable(m, 10))).toEqual([]);
  });
});
