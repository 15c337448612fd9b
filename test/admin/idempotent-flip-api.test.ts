/**
 * Issue 17: POST /routes/:id/flip to the mode the route is already in answers
 * 200 (not 201: nothing was created) with `unchanged: true`, writes no version
 * and no audit row; a stale expectVersion is still 409.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedFromConfig } from '../../cli/context.js';
import { type AdminServer, startAdmin } from '../../control/admin-api.js';
import { loadConfig } from '../../core/config.js';
import { openStore } from '../../store/open.js';
import type { Store } from '../../store/types.js';
import { demoConfigYaml, tempDir, writeConfig } from '../helpers/tmp.js';

const tmp = tempDir();
const TOKEN = 'idempotent-flip-admin-token';
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

const flip = (body: unknown) =>
  fetch(`${admin.url}/routes/block/flip`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(body),
  });

describe('admin API flip to the current mode', () => {
  it('answers 200 unchanged and writes nothing', async () => {
    const rows = (await store.audit.list()).length;
    const res = await flip({ mode: 'legacy', reason: 'scripted rollback' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      unchanged: true,
      dryRun: false,
      before: { mode: 'legacy', version: 1 },
    });
    expect(await store.routes.get('block')).toMatchObject({ mode: 'legacy', version: 1 });
    expect((await store.audit.list()).length).toBe(rows);
  });

  it('still answers 409 to a stale expectVersion, and 201 to a real change', async () => {
    expect((await flip({ mode: 'legacy', expectVersion: 9 })).status).toBe(409);
    expect((await flip({ mode: 'shadow', expectVersion: 1 })).status).toBe(201);
  });
});
