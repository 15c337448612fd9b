/**
 * Regression for issue 13 item 1: SQLite writes from several processes failed
 * with SQLITE_BUSY instead of waiting (DEFERRED read-then-write transactions,
 * and migrations run at every open). Real processes, a real file, for several
 * seconds: `strangler serve --workers 2` under traffic (stats flushes, lease
 * renewals), writer processes recording shadow batches, stats windows and
 * audit rows, and the real CLI flipping a route in a loop. Then every error
 * is counted and every count must reconcile with what the store holds
 * (nothing dropped), the proxy's requests included.
 */
import { type ChildProcess, execFile, fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { seedFromConfig } from '../../cli/context.js';
import { loadConfig } from '../../core/config.js';
import { openStore } from '../../store/open.js';
import { demoConfigYaml, tempDir, writeConfig } from '../helpers/tmp.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures');
const BIN = path.resolve(import.meta.dirname, '../../bin/strangler.js');
const WRITERS = 3;
const RUN_MS = 8000;
const tmp = tempDir('strangler-writers-');
const children: ChildProcess[] = [];

let upstream: http.Server | undefined;
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  upstream?.closeAllConnections();
  await new Promise((r) => upstream?.close(r));
  tmp.cleanup();
});

/** `strangler serve --workers 2` on the same file; resolves with its proxy URL once listening. */
async function startServe(
  configFile: string,
): Promise<{ child: ChildProcess; url: string; log: () => string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--workers', '2', '--config', configFile], {
    env: { ...process.env, STRANGLER_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let log = '';
  child.stderr!.on('data', (c) => (log += c));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (c) => {
      out += c;
      const m = /2 workers on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${log}`)));
  });
  return { child, url, log: () => log };
}

/** Requests through the proxy until `until`; counts the answers. */
async function traffic(url: string, until: number): Promise<{ ok: number; failed: number }> {
  let ok = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (Date.now() < until) {
        try {
          const res = await fetch(`${url}/api/orders/1`);
          await res.arrayBuffer();
          if (res.status === 200) ok++;
          else failed++;
        } catch {
          failed++;
        }
      }
    }),
  );
  return { ok, failed };
}

interface WriterReport {
  name: string;
  wrote: { opens: number; shadow: number; stats: number; audit: number };
  errors: string[];
}

/** Fork a writer; resolves once it is loaded, with a function that starts it and awaits its report. */
async function forkWriter(file: string, name: string): Promise<(until: number) => Promise<WriterReport>> {
  const child = fork(path.join(FIXTURES, 'store/store-writer.ts'), [file, name], {
    execArgv: ['--import', path.join(FIXTURES, 'proxy/ts-register.mjs')],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  const exited = once(child, 'exit');
  await once(child, 'message');
  return async (until) => {
    child.send({ until });
    const [code] = await exited;
    if (code !== 0) throw new Error(`writer ${name} exited ${code}: ${out}`);
    return JSON.parse(out.trim().split('\n').pop()!) as WriterReport;
  };
}

/** The real CLI, one process per flip, back and forth between legacy and shadow until the writers stop. */
async function flipLoop(configFile: string, until: number): Promise<{ flips: number; errors: string[] }> {
  const run = promisify(execFile);
  let flips = 0;
  const errors: string[] = [];
  const modes = ['shadow', 'legacy'];
  while (Date.now() < until) {
    try {
      await run(
        process.execPath,
        [BIN, 'flip', 'block', modes[flips % 2], '--config', configFile, '--reason', 'contention test'],
        {
          env: { ...process.env, STRANGLER_LOG_LEVEL: 'silent' },
        },
      );
      flips++;
    } catch (err) {
      errors.push(`${(err as { stderr?: string }).stderr ?? (err as Error).message}`.slice(0, 300));
    }
  }
  return { flips, errors };
}

describe('SQLite store under concurrent writers (real processes)', () => {
  it(`serve --workers 2 under traffic, ${WRITERS} writer processes and the CLI flipping, for ${RUN_MS / 1000} s: no errors, nothing dropped`, async () => {
    upstream = http.createServer((_req, res) => res.end('{}'));
    await new Promise<void>((r) => upstream!.listen(0, '127.0.0.1', r));
    const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const file = path.join(tmp.dir, 'state.db');
    // Proxy traffic goes to a second route that nobody flips, so its stats reconcile on their own.
    const configFile = writeConfig(
      tmp.dir,
      demoConfigYaml({
        store: `sqlite:${file}`,
        legacy: upstreamUrl,
        service: upstreamUrl,
        extraRoute:
          '  - { id: orders, match: { path: /api/orders/* }, service: block-service, mode: legacy }\n',
      }) + 'proxy: { statsFlushMs: 200 }\n',
    );
    const config = loadConfig(configFile);
    const setup = await openStore(config.store);
    await seedFromConfig(setup, config);
    await setup.close();

    const serve = await startServe(configFile);
    const starts = await Promise.all(
      Array.from({ length: WRITERS }, (_, i) => forkWriter(file, `writer-${i + 1}`)),
    );
    const until = Date.now() + RUN_MS;
    const [flipper, proxied, ...reports] = await Promise.all([
      flipLoop(configFile, until),
      traffic(serve.url, until),
      ...starts.map((start) => start(until)),
    ]);
    // SIGTERM drains the workers, and each flushes its last stats window.
    serve.child.kill('SIGTERM');
    const [serveCode] = await once(serve.child, 'exit');

    const store = await openStore(config.store, { create: false });
    try {
      const writerErrors = reports.flatMap((r) => r.errors);
      const total = (k: keyof WriterReport['wrote']) => reports.reduce((n, r) => n + r.wrote[k], 0);
      const evidence = await store.shadow.evidence('block');
      const windows = await store.stats.query({ route: 'block', since: 0 });
      const statsRequests = windows.reduce((n, w) => n + w.requests, 0);
      const testRows = (await store.audit.list({ route: 'block', action: 'test.write', limit: 1_000_000 }))
        .length;
      const flipRows = (await store.audit.list({ route: 'block', action: 'flip', limit: 1_000_000 })).length;
      const state = await store.routes.get('block');
      const proxyRequests = (await store.stats.query({ route: 'orders', since: 0 })).reduce(
        (n, w) => n + w.requests,
        0,
      );
      const serveErrors = serve
        .log()
        .split('\n')
        .filter((l) => /STRANGLER_E_STORE|SQLITE_BUSY|database is locked/.test(l));
      console.log(
        `concurrent writers: serve --workers 2 + ${WRITERS} writer processes + ${flipper.flips} CLI flip processes over ${RUN_MS} ms; ` +
          `writes: shadow ${total('shadow')}, stats ${total('stats')}, audit ${total('audit')}, opens ${total('opens')}, flips ${flipper.flips}, proxied requests ${proxied.ok}; ` +
          `errors: writers ${writerErrors.length}, CLI ${flipper.errors.length}, serve ${serveErrors.length}, proxy answers not 200 ${proxied.failed}; ` +
          `dropped: shadow ${total('shadow') - evidence.compared}, stats ${total('stats') - statsRequests}, audit ${total('audit') - testRows}, flips ${flipper.flips - flipRows}, proxy stats ${proxied.ok + proxied.failed - proxyRequests}`,
      );
      expect(serveCode).toBe(0);
      expect(serveErrors.slice(0, 3)).toEqual([]);
      expect(proxied.failed).toBe(0);
      expect(proxied.ok).toBeGreaterThan(0);
      expect(proxyRequests).toBe(proxied.ok);
      expect(writerErrors.slice(0, 3)).toEqual([]);
      expect(flipper.errors.slice(0, 3)).toEqual([]);
      expect(total('shadow')).toBeGreaterThan(0);
      expect(flipper.flips).toBeGreaterThan(0);
      expect(evidence.compared).toBe(total('shadow'));
      expect(statsRequests).toBe(total('stats'));
      expect(testRows).toBe(total('audit'));
      expect(flipRows).toBe(flipper.flips);
      // Seeded at version 1, one version per flip.
      expect(state?.version).toBe(1 + flipper.flips);
    } finally {
      await store.close();
    }
  }, 120_000);
});
