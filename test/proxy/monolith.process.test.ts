/**
 * The proxy in front of the real Python demo monolith (examples/run.ts):
 * matched and unmatched routes reach it with their answers intact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, startMonolith } from '../../examples/run.js';
import { type Stack, startStack } from './helpers.js';

describe('proxy in front of the demo monolith', () => {
  let mono: RunningApp;
  let stack: Stack;

  beforeAll(async () => {
    mono = await startMonolith();
    stack = await startStack({
      legacy: { url: mono.url },
      services: { block: { url: 'http://127.0.0.1:1' } },
      routes: [{ id: 'block', match: { path: '/api/block/*' }, service: 'block', mode: 'shadow' }],
    });
  });

  afterAll(async () => {
    await stack?.close();
    await mono?.stop();
  });

  it('a shadow-mode route is answered by the monolith', async () => {
    const r = await stack.get('/api/block/1/2');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ user: 1, other: 2 });
    expect(r.headers['x-strangler-route']).toBe('block');
    expect(r.headers['x-strangler-target']).toBe('legacy');
  });

  it('unmatched paths reach the monolith too, errors included', async () => {
    const ok = await stack.get('/healthz');
    expect(ok.status).toBe(200);
    const missing = await stack.get('/api/users/999999');
    expect(missing.status).toBe(404);
    expect(missing.headers['x-strangler-route']).toBe('(unmatched)');
  });
});
