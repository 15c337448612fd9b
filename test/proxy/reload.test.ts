/**
 * The proxy follows the store: a flip is applied on reload (and by the
 * store's watch, see flip-under-load), and a store that fails leaves the last
 * good table serving.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonUpstream, type Stack, startStack, startUpstream, type TestUpstream } from './helpers.js';

describe('route table reload', () => {
  let legacy: TestUpstream;
  let service: TestUpstream;
  let stack: Stack;

  beforeAll(async () => {
    legacy = await startUpstream(jsonUpstream('legacy'));
    service = await startUpstream(jsonUpstream('service'));
    stack = await startStack({
      legacy: { url: legacy.url },
      services: { block: { url: service.url } },
      proxy: { pollIntervalMs: 60_000 }, // only explicit reloads in this file
      routes: [{ id: 'block', match: { path: '/block' }, service: 'block', mode: 'legacy' }],
    });
  });

  afterAll(async () => {
    await stack?.close();
    await legacy?.close();
    await service?.close();
  });

  it('applies a flip on reload and swaps the snapshot', async () => {
    const before = stack.proxy.routeTable();
    expect(JSON.parse((await stack.get('/block')).body).from).toBe('legacy');
    await stack.store.routes.flip({ route: 'block', mode: 'service', weight: 100, actor: 't', reason: 'r' });
    await stack.proxy.reload();
    const after = stack.proxy.routeTable();
    expect(after).not.toBe(before);
    // The old snapshot is untouched: requests that started with it keep it.
    expect(before.get('block')?.state.mode).toBe('legacy');
    expect(after.get('block')?.state.mode).toBe('service');
    expect(JSON.parse((await stack.get('/block')).body).from).toBe('service');
    expect(stack.proxy.routeExtras().block).toMatchObject({ servedMode: 'service', servedWeight: '100' });
  });

  it('keeps serving the last good table when the store fails', async () => {
    const good = stack.proxy.routeTable();
    // The store goes away (closed database): reading route states now throws.
    await stack.store.close();
    await expect(stack.store.routes.list()).rejects.toThrow();
    await stack.proxy.reload();
    expect(stack.proxy.routeTable()).toBe(good);
    const r = await stack.get('/block');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).from).toBe('service');
  });
});
