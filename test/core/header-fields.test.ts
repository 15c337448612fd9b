/** core/header-fields.ts: the one "has a body" rule (proxy, WebSocket upgrades, shadow) and field joining. */
import { describe, expect, it } from 'vitest';
import { bearerToken, fieldValue, hasBody } from '../../core/header-fields.js';

describe('core/header-fields', () => {
  it.each([
    [{}, false],
    [{ 'content-length': '0' }, false],
    [{ 'content-length': '12' }, true],
    [{ 'transfer-encoding': 'chunked' }, true],
    [{ 'transfer-encoding': 'chunked', 'content-length': '0' }, true],
  ])('hasBody(%o) is %s', (headers, expected) => {
    expect(hasBody(headers)).toBe(expected);
  });

  it('joins repeated field lines with ", " and passes single or missing values through', () => {
    expect(fieldValue(['a=1', 'b=2'])).toBe('a=1, b=2');
    expect(fieldValue('x')).toBe('x');
    expect(fieldValue(undefined)).toBeUndefined();
  });

  it.each([
    ['Bearer tok', 'tok'],
    ['bearer tok', 'tok'],
    ['BEARER tok', 'tok'],
    ['Bearer   tok  ', 'tok'],
    ['Bearertok', undefined],
    ['Bearer ', undefined],
    ['Bearer a b', undefined],
    ['Basic tok', undefined],
    [undefined, undefined],
  ])('bearerToken(%j) is %j (RFC 9110 §11.1: the scheme is case-insensitive)', (field, token) => {
    expect(bearerToken(field)).toBe(token);
  });

  it('a repeated Authorization field has no bearer token', () => {
    expect(bearerToken(['Bearer a', 'Bearer b'])).toBeUndefined();
  });
});
