/**
 * Bodies stream through with backpressure: a 200 MB upload and a 200 MB
 * download pass while the proxy's RSS stays flat. The proxy runs in a child
 * process (test/fixtures/proxy/proxy-child.ts) so the client and upstream in
 * this process do not count towards it.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUpstream, type TestUpstream } from './helpers.js';

const SIZE = 200 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);
const MAX_GROWTH = 60 * 1024 * 1024;
const FIXTURES = fileURLToPath(new URL('../fixtures/proxy/', import.meta.url));

/** SIZE bytes, produced only as fast as they are consumed. */
function bigBody(): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= SIZE) return void this.push(null);
      sent += CHUNK.length;
      this.push(CHUNK);
    },
  });
}

describe('streaming memory bound', () => {
  let upstream: TestUpstream;
  let child: ChildProcess;
  let port: number;
  let dir: string;
  const agent = new Agent();

  const rss = async (): Promise<number> => {
    child.send({ type: 'rss' });
    const [msg] = (await once(child, 'message')) as [{ rss: number }];
    return msg.rss;
  };

  beforeAll(async () => {
    upstream = await startUpstream((req, res) => {
      if (req.url === '/download') {
        res.writeHead(200, { 'content-length': SIZE });
        bigBody().pipe(res);
        return;
      }
      let n = 0;
      req.on('data', (c: Buffer) => {
        n += c.length;
      });
      req.on('end', () => res.end(String(n)));
    });
    dir = mkdtempSync(path.join(tmpdir(), 'strangler-stream-'));
    const config = { store: `sqlite:${path.join(dir, 'state.db')}`, legacy: { url: upstream.url } };
    child = fork(path.join(FIXTURES, 'proxy-child.ts'), [JSON.stringify(config)], {
      execArgv: ['--import', path.join(FIXTURES, 'ts-register.mjs')],
      env: { ...process.env, STRANGLER_LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const [msg] = (await once(child, 'message')) as [{ port: number }];
    port = msg.port;
  });

  afterAll(async () => {
    await agent.close();
    if (child?.connected) {
      child.send({ type: 'close' });
      await Promise.race([once(child, 'exit'), new Promise((r) => setTimeout(r, 5000))]);
    }
    child?.kill();
    await upstream?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('200 MB up and 200 MB down with RSS growth under 60 MB', async () => {
    // Warm up: JIT, pools, first allocations are not what this test is about.
    for (let i = 0; i < 20; i++) {
      const r = await request(`http://127.0.0.1:${port}/warm`, {
        method: 'POST',
        body: 'x',
        dispatcher: agent,
      });
      await r.body.text();
    }
    const baseline = await rss();
    let peak = baseline;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await rss());
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    const up = await request(`http://127.0.0.1:${port}/upload`, {
      method: 'POST',
      body: bigBody(),
      dispatcher: agent,
    });
    expect(Number(await up.body.text())).toBe(SIZE);

    const down = await request(`http://127.0.0.1:${port}/download`, { dispatcher: agent });
    let received = 0;
    for await (const chunk of down.body) received += (chunk as Buffer).length;
    expect(received).toBe(SIZE);

    sampling = false;
    await sampler;
    const growth = peak - baseline;
    console.log(
      `proxy RSS baseline ${(baseline / 1048576).toFixed(1)} MB, peak ${(peak / 1048576).toFixed(1)} MB`,
    );
    expect(growth, `RSS grew by ${(growth / 1048576).toFixed(1)} MB`).toBeLessThan(MAX_GROWTH);
  }, 90_000);
});
