/**
 * Which header names are credentials by default: the fixed list and any name
 * with a secret-looking part. A probe of main exported X-Cookie, Cookie2,
 * X-Jwt, X-Private-Key, X-Credential, X-Pass, X-Otp, X-Sid, X-Bearer and
 * signature headers in clear (issue 28's redaction promise).
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.js';
import { redactHeaders, routeRedaction } from '../../shadow/redaction.js';

const route = parseConfig({
  legacy: { url: 'http://127.0.0.1:1' },
  services: { s: { url: 'http://127.0.0.1:2' } },
  routes: [{ id: 'r', match: { path: '/r' }, service: 's' }],
}).routes[0];

describe('default header redaction', () => {
  const secret = [
    'authorization',
    'cookie',
    'x-cookie',
    'cookie2',
    'x-jwt',
    'x-private-key',
    'x-credential',
    'x-credentials',
    'x-pass',
    'x-otp',
    'x-sid',
    'x-bearer',
    'x-signature',
    'x-hub-signature-256',
    'x-amz-signature',
    'x-session-id',
    'x-auth-token',
  ];
  const plain = [
    'content-type',
    'accept',
    'x-request-id',
    'user-agent',
    'x-passport',
    'x-user-id',
    'if-none-match',
  ];

  it('replaces every credential-looking header with a marker naming it', () => {
    const redacted = new Set<string>();
    const out = redactHeaders(
      Object.fromEntries([...secret, ...plain].map((h) => [h, 'v4lue'])),
      routeRedaction(route),
      redacted,
    );
    for (const h of secret) expect(out[h], h).toBe(`[redacted: ${h}]`);
    for (const h of plain) expect(out[h], h).toBe('v4lue');
  });
});
