import { Client } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, startMonolith } from '../../examples/run.js';

// The Nagle / delayed-ACK stall costs ~40 ms per keep-alive request when a
// response leaves in two writes. This checks the property (one write +
// TCP_NODELAY), not speed: a median far below 40 ms means no request stalled.
const REQUESTS = 200;
const STALL_FREE_MEDIAN_MS = 20;

describe('monolith keep-alive latency', () => {
  let app: RunningApp;
  let client: Client;
  let connects = 0;

  beforeAll(async () => {
    app = await startMonolith();
    client = new Client(app.url, { pipelining: 1 });
    client.on('connect', () => {
      connects += 1;
    });
  });

  afterAll(async () => {
    await client?.close();
    await app?.stop();
  });

  it(`answers ${REQUESTS} sequential requests on one connection with no Nagle stall`, async () => {
    const paths = ['/api/block/1', '/api/block/1/2', '/api/users/3', '/healthz'];
    const times: number[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const started = performance.now();
      const res = await client.request({ method: 'GET', path: paths[i % paths.length] });
      await res.body.json();
      times.push(performance.now() - started);
      expect(res.statusCode).toBe(200);
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)];
    const p90 = times[Math.floor(times.length * 0.9)];
    console.log(
      `monolith keep-alive: median ${median.toFixed(2)} ms, p90 ${p90.toFixed(2)} ms over ${REQUESTS}`,
    );
    expect(connects).toBe(1);
    expect(median).toBeLessThan(STALL_FREE_MEDIAN_MS);
  });

  it('keeps the connection after a POST with a body', async () => {
    const before = connects;
    for (let i = 0; i < 20; i++) {
      const res = await client.request({
        method: 'POST',
        path: '/api/block/4',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ target: 5 + (i % 3) }),
      });
      expect([200, 201]).toContain(res.statusCode);
      expect((await res.body.json()) as object).toMatchObject({ user: 4 });
    }
    expect(connects).toBe(before);
  });
});
