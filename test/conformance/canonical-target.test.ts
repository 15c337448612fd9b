import { describe, expect, it } from 'vitest';
import { canonicalTarget, isValidHost, removeDotSegments } from '../../proxy/canonical.js';

const merge = { mergeSlashes: true, encodedSlashes: 'reject' } as const;
const keep = { mergeSlashes: false, encodedSlashes: 'reject' } as const;
const pass = { mergeSlashes: true, encodedSlashes: 'pass' } as const;

function url(t: string, o: Parameters<typeof canonicalTarget>[1] = merge): string {
  const c = canonicalTarget(t, o);
  return c.ok ? c.url : `400 ${c.reason}`;
}

describe('canonicalTarget (issue 12: one canonical request target)', () => {
  it.each([
    ['/api/block/1', '/api/block/1'],
    ['//api/block/1', '/api/block/1'],
    ['/api///block//1', '/api/block/1'],
    ['/./api/x', '/api/x'],
    ['/other/../api/x', '/api/x'],
    ['/api/../admin', '/admin'],
    ['/api/%2e%2e/admin', '/admin'],
    ['/api/%2E%2E/admin', '/admin'],
    ['/api/.%2e/admin', '/admin'],
    ['/api/%2e/x', '/api/x'],
    ['/../../etc', '/etc'],
    ['/a/b/..', '/a/'],
    ['/a/b/.', '/a/b/'],
    ['/%61pi/%7Euser', '/api/~user'],
    ['/a%3fb', '/a%3Fb'],
    ['/caf%c3%a9', '/caf%C3%A9'],
    ['/api//x?a=%2F..//&b=%2e', '/api/x?a=%2F..//&b=%2e'],
    ['/api/x?', '/api/x?'],
    ['/.hidden/..x', '/.hidden/..x'],
  ])('%s → %s', (t, want) => {
    expect(url(t)).toBe(want);
  });

  it.each([
    ['/api%2fx', 'encoded slash'],
    ['/api%2Fx', 'encoded slash'],
    ['/api%5Cx', 'backslash'],
    ['/api%5cx', 'backslash'],
    ['/api\\x', 'backslash'],
    ['/api%00x', 'control'],
    ['/api%0ax', 'control'],
    ['/api%7fx', 'control'],
    ['/api%zz', 'malformed'],
    ['/api%4', 'malformed'],
    ['/api%', 'malformed'],
    ['/api#frag', 'fragment'],
    ['api/x', 'not a path'],
    ['ftp://h/x', 'not a path'],
  ])('%s → 400 (%s)', (t, why) => {
    expect(url(t)).toMatch(new RegExp(`^400 .*${why}`));
  });

  it('keeps repeated slashes with mergeSlashes: false (dot-segments still go)', () => {
    expect(url('//api//x/./y', keep)).toBe('//api//x/y');
  });

  it('passes %2F through, encoded and upper-cased, with encodedSlashes: pass (never a separator)', () => {
    expect(url('/api%2fx/../y', pass)).toBe('/y');
    expect(url('/a/b%2f..%2fc', pass)).toBe('/a/b%2F..%2Fc');
    // %5C stays refused: some upstreams read a backslash as a slash.
    expect(url('/a%5Cb', pass)).toMatch(/^400/);
  });

  it('makes absolute-form targets origin-form and returns the authority for Host (RFC 9112 §3.2.2)', () => {
    expect(canonicalTarget('http://evil.example/api/a?x=1', merge)).toEqual({
      ok: true,
      path: '/api/a',
      url: '/api/a?x=1',
      authority: 'evil.example',
    });
    expect(canonicalTarget('HTTP://h.example:8080', merge)).toMatchObject({
      url: '/',
      authority: 'h.example:8080',
    });
    expect(canonicalTarget('http://h.example?q', merge)).toMatchObject({
      url: '/?q',
      authority: 'h.example',
    });
    expect(canonicalTarget('http://h//a/../b', merge)).toMatchObject({ url: '/b', authority: 'h' });
    expect(url('http://user@h/x')).toMatch(/^400 .*authority/);
    expect(url('http:///x')).toMatch(/^400 .*authority/);
  });

  it('is idempotent: the canonical form of a canonical form is itself', () => {
    for (const t of ['//a/./b/../c%2e', '/%2e%2e/%7e', '/a/b/..', '/x?y=/../']) {
      const once = url(t);
      expect(url(once)).toBe(once);
    }
  });

  it('removeDotSegments follows RFC 3986 §5.2.4 examples', () => {
    expect(removeDotSegments('/a/b/c/./../../g')).toBe('/a/g');
    expect(removeDotSegments('/mid/content=5/../6')).toBe('/mid/6');
    expect(removeDotSegments('/..')).toBe('/');
  });

  it('validates Host: empty, whitespace, slash, backslash and userinfo are refused', () => {
    for (const good of ['example.com', 'example.com:8080', '127.0.0.1:1', '[::1]:80', 'a_b.local'])
      expect(isValidHost(good), good).toBe(true);
    for (const bad of ['', ' ', 'a b', 'a/b', 'a\\b', 'u@h', 'h:port', 'a\tb'])
      expect(isValidHost(bad), JSON.stringify(bad)).toBe(false);
  });
});
