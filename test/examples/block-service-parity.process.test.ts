import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, seedDemoDb, startBlockService, startMonolith } from '../../examples/run.js';
import { call, type JsonAnswer, withoutNoise } from './http-json.js';

// The extracted block-service must answer every /api/block request as the
// monolith does (status, content type, Allow, JSON) except for the noise field
// generated_at, while both read and write the same SQLite file.
describe('block-service parity with the monolith', () => {
  let dir: string;
  let legacy: RunningApp;
  let service: RunningApp;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'strangler-parity-'));
    const dbPath = path.join(dir, 'demo.db');
    await seedDemoDb(dbPath);
    [legacy, service] = await Promise.all([startMonolith({ dbPath }), startBlockService({ dbPath })]);
  });

  afterAll(async () => {
    await Promise.all([service?.stop(), legacy?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function expectSame(a: JsonAnswer, b: JsonAnswer, what: string): void {
    expect(b.status, what).toBe(a.status);
    expect(b.headers.get('content-type'), what).toBe(a.headers.get('content-type'));
    expect(b.headers.get('allow'), what).toBe(a.headers.get('allow'));
    expect(withoutNoise(b.body), what).toEqual(withoutNoise(a.body));
  }

  async function both(method: string, p: string, body?: unknown): Promise<[JsonAnswer, JsonAnswer]> {
    return [await call(legacy.url, method, p, body), await call(service.url, method, p, body)];
  }

  it('lists the same blocks for every seeded user, differing only in generated_at', async () => {
    let blockedSomewhere = 0;
    for (let user = 1; user <= 50; user++) {
      const [a, b] = await both('GET', `/api/block/${user}`);
      expectSame(a, b, `GET /api/block/${user}`);
      expect(a.body.generated_at).toEqual(expect.any(String));
      expect(b.body.generated_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      blockedSomewhere += a.body.count;
    }
    expect(blockedSomewhere).toBeGreaterThan(0);
  });

  it('agrees on is-blocked for blocked and unblocked pairs', async () => {
    const list = await call(legacy.url, 'GET', '/api/block/1');
    const pairs = [
      ...list.body.blocked.map((other: number) => [1, other]),
      [1, 2],
      [2, 1],
      [50, 49],
      [1, 999],
    ];
    // app.py's routes accept one trailing slash.
    expectSame(...(await both('GET', '/api/block/1/2/')), 'GET /api/block/1/2/');
    for (const [u, o] of pairs) {
      const [a, b] = await both('GET', `/api/block/${u}/${o}`);
      expectSame(a, b, `GET /api/block/${u}/${o}`);
    }
  });

  it('answers bad requests with the same status and message', async () => {
    const cases: Array<[string, string, unknown?]> = [
      ['GET', '/api/block/999'],
      ['GET', '/api/block/abc'],
      ['GET', '/api/block/7/xyz'],
      ['GET', '/api/block//7'],
      ['PUT', '/api/block/7'],
      ['POST', '/api/block/7/8'],
      ['POST', '/api/block/7', ''],
      ['POST', '/api/block/7', '{nope'],
      ['POST', '/api/block/7', '[1]'],
      ['POST', '/api/block/7', { target: 'x' }],
      ['POST', '/api/block/7', { target: true }],
      ['POST', '/api/block/7', { target: 0 }],
      ['POST', '/api/block/7', { target: 2 ** 40 }],
      ['POST', '/api/block/7', { target: 7 }],
      ['POST', '/api/block/7', { target: 4242 }],
      ['POST', '/api/block/999', { target: 1 }],
      ['DELETE', '/api/block/999/1'],
    ];
    for (const [method, p, body] of cases) {
      const [a, b] = await both(method, p, body);
      expect(a.status, `${method} ${p}`).toBeGreaterThanOrEqual(400);
      expectSame(a, b, `${method} ${p} ${JSON.stringify(body)}`);
    }
  });

  it('shares writes both ways through the one SQLite file', async () => {
    // Legacy creates (201); the service sees the same record and answers 200.
    const a = await call(legacy.url, 'POST', '/api/block/20', { target: 21 });
    const b = await call(service.url, 'POST', '/api/block/20', { target: 21 });
    expect([a.status, b.status]).toEqual([201, 200]);
    expect(b.body).toEqual(a.body);

    // And the other way round.
    const c = await call(service.url, 'POST', '/api/block/22', { target: 23 });
    const d = await call(legacy.url, 'POST', '/api/block/22', { target: 23 });
    expect([c.status, d.status]).toEqual([201, 200]);
    expect(d.body).toEqual(c.body);
    const [la, lb] = await both('GET', '/api/block/22');
    expectSame(la, lb, 'list after service write');
    expect(la.body.blocked).toContain(23);

    // An unblock on one side is a 404 on the other.
    const removed = await call(service.url, 'DELETE', '/api/block/20/21');
    const missing = await call(legacy.url, 'DELETE', '/api/block/20/21');
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({ user: 20, other: 21, removed: true });
    expect(missing.status).toBe(404);
    expectSame(missing, await call(service.url, 'DELETE', '/api/block/20/21'), 'second unblock');
  });

  it('takes concurrent writes from both processes without a locked-database error', async () => {
    const writes: Promise<JsonAnswer>[] = [];
    for (let target = 2; target <= 41; target++) {
      const app = target % 2 ? legacy : service;
      writes.push(call(app.url, 'POST', '/api/block/42', { target }));
      writes.push(call(app.url, 'DELETE', `/api/block/43/${target}`));
    }
    const answers = await Promise.all(writes);
    expect(answers.filter((a) => a.status >= 500)).toEqual([]);
    const [a, b] = await both('GET', '/api/block/42');
    expectSame(a, b, 'list after concurrent writes');
    expect(a.body.count).toBeGreaterThanOrEqual(40);
  });

  it('echoes x-request-id like the monolith', async () => {
    for (const app of [legacy, service]) {
      const res = await call(app.url, 'GET', '/api/block/3', undefined, { 'x-request-id': 'parity-1' });
      expect(res.headers.get('x-request-id')).toBe('parity-1');
    }
  });
});
