/**
 * Credentials never reach a recording (issue 28): shadowed exchanges carrying
 * an Authorization bearer, cookies, an API key, a configured header and
 * configured JSON paths are recorded through the real shadow hook against
 * real upstreams, into a real SQLite file and a real redis-server; then every
 * byte of the SQLite files, every value under the Redis prefix, and the
 * export are searched for the secrets. Mismatch samples are in the same store
 * and are searched too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.js';
import type { RouteState } from '../../core/types.js';
import { createShadowHook } from '../../shadow/mirror.js';
import { formatReplayFile, type StoredCase } from '../../shadow/recording-format.js';
import { noiseNow } from '../../shadow/recording.js';
import type { PrimaryExchange } from '../../shadow/types.js';
import { openRedisStore } from '../../store/redis/index.js';
import { openSqliteStore } from '../../store/sqlite/index.js';
import type { Store } from '../../store/types.js';
import { type RedisServer, redisAvailable, startRedis } from '../helpers/redis-server.js';
import { tempDir } from '../helpers/tmp.js';

const SECRETS = {
  authorization: 'Bearer SECRET-AUTH-1f9c',
  proxyAuthorization: 'Basic SECRET-PROXY-77aa',
  cookie: 'sid=SECRET-REQ-COOKIE-0b1e',
  apiKey: 'SECRET-APIKEY-5d2e',
  sessionToken: 'SECRET-SESSION-TOKEN-c3d4',
  custom: 'SECRET-CUSTOM-9e8f',
  setCookie: 'sid=SECRET-SET-COOKIE-a1b2; HttpOnly',
  email: 'SECRET-EMAIL-alice@example.test',
  serviceEmail: 'SECRET-SVC-EMAIL-bob@example.test',
  itemToken: 'SECRET-ITEM-TOKEN-4c4c',
  requestEmail: 'SECRET-REQ-EMAIL-carol@example.test',
};

function upstream(kind: 'legacy' | 'service'): http.Server {
  return http.createServer((req, res) => {
    req.resume();
    res.setHeader('content-type', 'application/json');
    res.setHeader('set-cookie', SECRETS.setCookie);
    res.setHeader('x-session-token', SECRETS.sessionToken);
    res.end(
      JSON.stringify({
        user: { email: kind === 'legacy' ? SECRETS.email : SECRETS.serviceEmail, name: 'ann' },
        items: [{ token: SECRETS.itemToken, id: 1 }],
      }),
    );
  });
}

const listen = (s: http.Server) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
const url = (s: http.Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
const state: RouteState = {
  id: 'users',
  mode: 'shadow',
  weight: 0,
  version: 1,
  updatedAt: '',
  actor: 't',
  reason: '',
};

let legacy: http.Server;
let service: http.Server;
let dir: { dir: string; cleanup(): void };
let redis: RedisServer | undefined;

beforeAll(async () => {
  legacy = upstream('legacy');
  service = upstream('service');
  await Promise.all([listen(legacy), listen(service)]);
  dir = tempDir('strangler-redaction-');
});

afterAll(async () => {
  await Promise.all([legacy, service].map((s) => new Promise((r) => s.close(r))));
  await redis?.close();
  dir?.cleanup();
});

/** Record a GET and an idempotent POST with every kind of secret through the real hook; returns the export text. */
async function record(store: Store): Promise<string> {
  const config = parseConfig({
    legacy: { url: url(legacy) },
    services: { users: { url: url(service) } },
    routes: [
      {
        id: 'users',
        match: { path: '/api/users/*' },
        service: 'users',
        mode: 'shadow',
        idempotent: true,
        shadow: {
          methods: ['GET', 'POST'],
          noiseSampleRate: 0,
          record: {
            enabled: true,
            redact: { headers: ['X-Custom'], json: ['$.user.email', '$.items[*].token'] },
          },
        },
      },
    ],
  });
  const route = config.routes[0];
  const hook = createShadowHook({ config, store, flushIntervalMs: 20 });
  for (const method of ['GET', 'POST']) {
    const requestBody =
      method === 'POST' ? Buffer.from(JSON.stringify({ user: { email: SECRETS.requestEmail } })) : null;
    const res = await fetch(`${url(legacy)}/api/users/1`, { method, body: requestBody ?? undefined });
    const ex: PrimaryExchange = {
      requestId: `r-${method}`,
      routeId: 'users',
      pattern: '/api/users/*',
      method,
      url: '/api/users/1?x=1',
      requestHeaders: {
        host: 'proxy',
        authorization: SECRETS.authorization,
        'proxy-authorization': SECRETS.proxyAuthorization,
        cookie: SECRETS.cookie,
        'x-api-key': SECRETS.apiKey,
        'x-custom': SECRETS.custom,
        accept: 'application/json',
        ...(requestBody ? { 'content-type': 'application/json' } : {}),
      },
      requestBody,
      target: 'legacy',
      status: res.status,
      responseHeaders: Object.fromEntries(res.headers),
      responseBody: Buffer.from(await res.arrayBuffer()),
      durationMs: 1,
    };
    expect(hook.plan(route, state, { method, headers: {} }, 'legacy').capture).toBe(true);
    hook.afterPrimary(route, state, ex);
  }
  await hook.idle();
  await hook.close();
  const stored = (await store.recordings.list('users')).map((e) => e.value as StoredCase);
  expect(stored).toHaveLength(2);
  // The cases still say what was there, and the mismatch on $.user.email was sampled.
  const [get, post] = stored;
  expect(get.request.headers).toMatchObject({
    authorization: '[redacted: authorization]',
    'proxy-authorization': '[redacted: proxy-authorization]',
    cookie: '[redacted: cookie]',
    'x-api-key': '[redacted: x-api-key]',
    'x-custom': '[redacted: x-custom]',
    accept: 'application/json',
  });
  expect(get.legacy.headers).toMatchObject({
    'set-cookie': '[redacted: set-cookie]',
    'x-session-token': '[redacted: x-session-token]',
  });
  expect(JSON.parse((get.legacy.body as { text: string }).text)).toEqual({
    user: { email: '[redacted: $.user.email]', name: 'ann' },
    items: [{ token: '[redacted: $.items[0].token]', id: 1 }],
  });
  expect(JSON.parse((post.request.body as { text: string }).text)).toEqual({
    user: { email: '[redacted: $.user.email]' },
  });
  expect(get.redacted).toEqual(expect.arrayContaining(['header:authorization', '$.user.email']));
  const evidence = await store.shadow.evidence('users', { fieldExamples: true });
  expect(evidence.compared).toBe(2);
  expect(evidence.samples.length).toBeGreaterThan(0);
  expect(evidence.samples[0].differences[0]).toMatchObject({
    path: '$.user.email',
    legacy: '[redacted: $.user.email]',
  });
  return formatReplayFile('users', stored, await noiseNow(store, route));
}

function expectNoSecret(where: string, text: string): void {
  for (const [name, secret] of Object.entries(SECRETS)) {
    // The distinctive part of each secret (cookies and bearer prefixes aside).
    const core = secret.match(/SECRET-[A-Z-]+-?[0-9a-z@.]*/)![0];
    expect(text.includes(core), `${name} (${core}) found in ${where}`).toBe(false);
  }
}

describe('a recorded credential never reaches the store or an export', () => {
  it('SQLite: no secret in any byte of the database files, nor in the export', async () => {
    const file = path.join(dir.dir, 'state.db');
    const store = openSqliteStore(file);
    let exported: string;
    try {
      exported = await record(store);
    } finally {
      await store.close();
    }
    expectNoSecret('the export', exported);
    expect(exported).toContain('[redacted: authorization]');
    const files = readdirSync(dir.dir).filter((f) => f.startsWith('state.db'));
    expect(files).toContain('state.db');
    const bytes = files.map((f) => readFileSync(path.join(dir.dir, f)).toString('latin1')).join('\n');
    // The scan can see stored text: the redaction markers themselves are there.
    expect(bytes).toContain('[redacted: x-api-key]');
    expectNoSecret('the SQLite files', bytes);
  });

  it.skipIf(!redisAvailable())(
    'Redis: no secret in any key or value under the prefix, nor in the export',
    async () => {
      redis = await startRedis();
      const store = await openRedisStore(redis.url(0, 'redact:'));
      let exported: string;
      try {
        exported = await record(store);
      } finally {
        await store.close();
      }
      expectNoSecret('the export', exported);
      const client = new Redis(redis.port, '127.0.0.1');
      try {
        const keys = await client.keys('*');
        expect(keys.some((k) => k.startsWith('redact:recording:users'))).toBe(true);
        const texts: string[] = [...keys];
        for (const k of keys) {
          const type = await client.type(k);
          if (type === 'string') texts.push((await client.get(k)) ?? '');
          else if (type === 'list') texts.push(...(await client.lrange(k, 0, -1)));
          else if (type === 'hash') texts.push(...Object.entries(await client.hgetall(k)).flat());
          else if (type === 'set') texts.push(...(await client.smembers(k)));
          else if (type === 'zset') texts.push(...(await client.zrange(k, 0, -1)));
          else if (type === 'stream') texts.push(JSON.stringify(await client.xrange(k, '-', '+')));
          else throw new Error(`unexpected key type ${type} for ${k}`);
        }
        const all = texts.join('\n');
        expect(all).toContain('[redacted: x-api-key]');
        expectNoSecret('Redis', all);
      } finally {
        client.disconnect();
      }
    },
  );
});
