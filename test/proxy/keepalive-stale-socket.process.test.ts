/**
 * Regression: an upstream that silently closes keep-alive connections idle
 * for 1 s, and traffic with pauses of about that long between bursts. Measured
 * before this proxy existed: Node proxies returned 5–11% 502s, from pooled
 * sockets the upstream closed just as they were reused. The fix: close idle
 * pooled sockets before the upstream does (keepAliveTimeoutMs below its
 * timeout) and resend an idempotent request once on a reset before any
 * response.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './helpers.js';

const UPSTREAM_IDLE_MS = 1000;
const BURSTS = 8;
const PER_BURST = 160;
const UPSTREAM = fileURLToPath(new URL('../fixtures/proxy/idle-closing-upstream.mjs', import.meta.url));

describe('stale keep-alive sockets to the upstream', () => {
  let upstream: ChildProcess;
  let stack: Stack;

  beforeAll(async () => {
    // Its own process: in one event loop the upstream's idle timer and the
    // next burst are serialised and the race this test is about never happens.
    upstream = spawn(process.execPath, [UPSTREAM, String(UPSTREAM_IDLE_MS)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const [line] = (await once(upstream.stdout!, 'data')) as [Buffer];
    const port = Number(line.toString().trim());
    stack = await startStack({
      legacy: { url: `http://127.0.0.1:${port}`, keepAliveTimeoutMs: 800 },
    });
  });

  afterAll(async () => {
    await stack?.close();
    upstream?.stdin?.end();
    upstream?.kill();
  });

  it(`${BURSTS * PER_BURST} requests in bursts with ~1 s pauses: zero errors`, async () => {
    let errors = 0;
    let ok = 0;
    for (let b = 0; b < BURSTS; b++) {
      const results = await Promise.allSettled(
        Array.from({ length: PER_BURST }, async () => {
          const r = await request(`${stack.proxy.url}/burst`, { dispatcher: stack.agent });
          await r.body.text();
          return r.statusCode;
        }),
      );
      for (const r of results) {
        if (r.status === 'fulfilled' && r.value === 200) ok++;
        else errors++;
      }
      // Pauses around the upstream's idle timeout, on both sides of it.
      await new Promise((res) => setTimeout(res, UPSTREAM_IDLE_MS - 50 + (b % 5) * 25));
    }
    expect(errors).toBe(0);
    expect(ok).toBe(BURSTS * PER_BURST);
  });
});
