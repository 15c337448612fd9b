/**
 * Issue 25 case 9: `Authorization: bearer <token>` (lower case) was refused
 * with 401 by the admin API. RFC 9110 §11.1: the auth-scheme is
 * case-insensitive. A real admin listener and a real SQLite store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedFromConfig } from '../../cli/context.js';
import { type AdminServer, startAdmin } from '../../control/admin-api.js';
import { loadConfig } from '../../core/config.js';
import { openStore } from '../../store/open.js';
import type { Store } from '../../store/types.js';
import { demoConfigYaml, tempDir, writeConfig } from '../helpers/tmp.js';

const tmp = tempDir('strangler-bearer-');
const TOKEN = 'bearer-case-token-0123';
let store: Store;
let admin: AdminServer;

beforeAll(async () => {
  const config = loadConfig(writeConfig(tmp.dir, demoConfigYaml({ store: 'sqlite:state.db' })));
  store = await openStore(config.store);
  await seedFromConfig(store, config);
  admin = await startAdmin({ config, store, token: TOKEN, host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await admin?.close();
  await store?.close();
  tmp.cleanup();
});

const flip = (mode: string, authorization: string) =>
  fetch(`${admin.url}/routes/block/flip`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: JSON.stringify({ mode, reason: 'scheme case' }),
  });

describe('the admin API reads the Bearer scheme case-insensitively', () => {
  it.each([
    ['bearer', 'shadow'],
    ['BEARER', 'legacy'],
    ['bEaReR', 'shadow'],
  ])('`%s <token>` flips', async (scheme, mode) => {
    const res = await flip(mode, `${scheme} ${TOKEN}`);
    expect(res.status).toBe(201);
    expect((await store.routes.get('block'))!.mode).toBe(mode);
  });

  it.each([
    `Bearer${TOKEN}`,
    'Bearer ',
    `Basic ${TOKEN}`,
    `bearer ${TOKEN.toUpperCase()}`,
    `bearer ${TOKEN} x`,
  ])('`%s` is still refused (401), nothing changes', async (authorization) => {
    const before = await store.routes.get('block');
    const res = await flip('service', authorization);
    expect(res.status).toBe(401);
    expect(await store.routes.get('block')).toEqual(before);
  });
});
