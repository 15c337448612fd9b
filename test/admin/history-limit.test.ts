/** Regression for issue 13 item 11: GET /history?limit=abc answered 500; a bad limit is a 400 naming the field. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedFromConfig } from '../../cli/context.js';
import { type AdminServer, startAdmin } from '../../control/admin-api.js';
import { loadConfig } from '../../core/config.js';
import { openStore } from '../../store/open.js';
import type { Store } from '../../store/types.js';
import { demoConfigYaml, tempDir, writeConfig } from '../helpers/tmp.js';

const tmp = tempDir();
let store: Store;
let admin: AdminServer;
beforeAll(async () => {
  const config = loadConfig(writeConfig(tmp.dir, demoConfigYaml({ store: 'sqlite:state.db' })));
  store = await openStore(config.store);
  await seedFromConfig(store, config);
  admin = await startAdmin({ config, store, token: undefined, host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await admin?.close();
  await store?.close();
  tmp.cleanup();
});

describe('GET /history?limit=', () => {
  it('answers 400 STRANGLER_E_BAD_REQUEST naming limit for abc, 0, -1, 1.5; 200 for 1', async () => {
    for (const bad of ['abc', '0', '-1', '1.5', '']) {
      const res = await fetch(`${admin.url}/history?limit=${bad}`);
      expect(res.status, bad).toBe(400);
      const body = (await res.json()) as { error: string; details: { field: string } };
      expect(body).toMatchObject({ error: 'STRANGLER_E_BAD_REQUEST', details: { field: 'limit' } });
    }
    const ok = await fetch(`${admin.url}/history?limit=1`);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { entries: unknown[] }).entries).toHaveLength(1);
  });
});
