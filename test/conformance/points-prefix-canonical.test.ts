/**
 * Issue 25 case 9: the `/.strangler/` prefix is decided on the canonical
 * path, so every spelling of it (`//.strangler/points`, `/./.strangler/…`,
 * `%2e`, a dot-segment, absolute-form) reaches the extraction points'
 * endpoints and their token check — never legacy, which would receive the
 * points token in Authorization. The token's scheme is case-insensitive.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../proxy/helpers.js';
import { type RawUpstream, req, sendRaw, startRawUpstream } from './raw-tcp.js';

const TOKEN = 'points-prefix-token-0123';

describe('the /.strangler/ prefix on the canonical path', () => {
  let legacy: RawUpstream;
  let stack: Stack;

  beforeAll(async () => {
    legacy = await startRawUpstream();
    stack = await startStack(
      { legacy: { url: legacy.url }, services: { svc: { url: legacy.url } }, routes: [] },
      { pointsToken: TOKEN },
    );
  });

  afterAll(async () => {
    await stack?.close();
    await legacy?.close();
  });

  const SPELLINGS = [
    '/.strangler/points',
    '//.strangler/points',
    '/./.strangler/points',
    '/%2estrangler/points',
    '/%2Estrangler/points',
    '/x/../.strangler/points',
    '/%2e/.strangler//points',
    'http://x//.strangler/points',
  ];

  it.each(SPELLINGS)(
    '%s without the token: 401 from the points endpoints, legacy sees nothing',
    async (target) => {
      const r = await sendRaw(stack.proxy.port, req('GET', target, 'Authorization: Bearer wrong\r\n'));
      expect(r.statuses).toEqual([401]);
      expect(r.text).toContain('STRANGLER_E_POINTS_UNAUTHORIZED');
      expect(legacy.seen).toEqual([]);
    },
  );

  it.each(SPELLINGS)('%s with `bearer <token>` (lower case): the points listing', async (target) => {
    const r = await sendRaw(stack.proxy.port, req('GET', target, `Authorization: bearer ${TOKEN}\r\n`));
    expect(r.statuses).toEqual([200]);
    expect(r.text).toContain('"points"');
    expect(legacy.seen).toEqual([]);
  });
});
