/**
 * Shared by the issue 29 case 4 tests (writers-honour-lost-sqlite and
 * -redis): one upstream for both sides, proxies serving `block` from legacy
 * after an audited flip, and the checks that a lost store is reported as lost.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { cli, type Served, servedBy, startServe, until } from './helpers.js';

/** Registers beforeAll/afterAll: a temp dir, an upstream, and every proxy started through it stopped. */
export function lostStoreBench(prefix: string): {
  dir: () => string;
  upstreamUrl: () => string;
  proxyOnLegacy(config: string): Promise<Served>;
} {
  const tmp = tempDir(prefix);
  let upstream: http.Server;
  let url = '';
  const running: Served[] = [];
  beforeAll(async () => {
    upstream = http.createServer((_req, res) => res.end('{}'));
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const s of running) await s.stop();
    upstream?.closeAllConnections();
    await new Promise((r) => upstream?.close(r));
    tmp.cleanup();
  });
  return {
    dir: () => tmp.dir,
    upstreamUrl: () => url,
    /** A proxy serving `block` from legacy after an audited flip (the config says service). */
    async proxyOnLegacy(config) {
      const s = await startServe(config);
      running.push(s);
      expect(await servedBy(s.proxy)).toBe('service');
      const back = await cli(config, ['flip', 'block', 'legacy', '--reason', 'incident 42']);
      expect(back.code, back.err).toBe(0);
      await until('legacy', async () => (await servedBy(s.proxy)) === 'legacy', 10_000);
      return s;
    },
  };
}

export async function lostOnHealthz(s: Served): Promise<void> {
  await until(
    'healthz to report the lost store',
    async () => {
      const res = await fetch(`${s.admin}/healthz`);
      return (
        res.status === 503 && ((await res.json()) as { problem?: { kind: string } }).problem?.kind === 'lost'
      );
    },
    15_000,
  );
}

/** The CLI refuses in one line saying the store is lost (never "yet"), with the way out. */
export function expectLost(r: { code: number; err: string }, what: string): void {
  expect(r.code, `${what}: ${r.err}`).toBe(5);
  expect(r.err).toContain('STRANGLER_E_STORE_LOST');
  expect(r.err).toContain('the store is lost');
  expect(r.err).not.toContain('yet');
  expect(r.err).toContain('To recover');
  expect(r.err.trim().split('\n')).toHaveLength(1);
}

/** Admin GET /routes of a proxy. */
export async function adminRoutes(
  s: Served,
): Promise<{ stale?: boolean; reason?: string; routes: unknown[] }> {
  return (await (await fetch(`${s.admin}/routes`)).json()) as {
    stale?: boolean;
    reason?: string;
    routes: unknown[];
  };
}
