/**
 * `strangler serve --workers N`: node:cluster on one machine. The primary owns
 * the admin API, the guard and the store seeding; N workers share the proxy
 * listener (the primary accepts and hands connections round-robin). A worker
 * that dies is replaced; one that cannot start (the store away or lost) exits
 * non-zero and is replaced with a growing delay (RESPAWN_DELAY_MS doubling up
 * to RESPAWN_MAX_MS), so a replacement serves within a few seconds of the
 * store coming back. SIGTERM drains every worker (not ready and
 * `Connection: close` for drain.delay, then stop accepting, finish in-flight
 * requests, close keep-alive connections) and exits 0. The primary's /readyz
 * is ready once every worker reported its own readiness, and not while stopping.
 */
import cluster, { type Worker } from 'node:cluster';
import { hostname } from 'node:os';
import path from 'node:path';
import { readAdminToken } from '../control/admin-token.js';
import { loadConfig } from '../core/config.js';
import { parseDuration } from '../core/duration.js';
import { createLogger } from '../core/log.js';
import { LiveConfig } from '../store/live-config.js';
import { openStore } from '../store/open.js';
import { isStranglerError } from '../core/errors.js';
import { requireIntact } from '../store/integrity.js';
import { configPath, initStore, storeOptions } from './context.js';
import type { CliIO } from './io.js';
import { type ServeOptions, serveAddresses } from './serve-options.js';

/** Beyond drain.delay + drain.timeout, how long a stopping worker may take before the primary kills it. */
const KILL_MARGIN_MS = 5_000;
/** How often a worker reports whether it became ready. */
const READY_POLL_MS = 200;
/** Don't respawn faster than this when workers crash in a loop. */
const RESPAWN_DELAY_MS = 200;
/** The longest wait between replacement attempts: bounds how long after the store is back a worker serves. */
const RESPAWN_MAX_MS = 2000;

/** The delay before the next replacement after `failedStarts` workers in a row exited before serving. */
export function respawnDelay(failedStarts: number): number {
  return Math.min(RESPAWN_MAX_MS, RESPAWN_DELAY_MS * 2 ** Math.max(0, failedStarts - 1));
}

/** In a worker: run the proxy only, until the primary says 'shutdown'. */
export async function runWorker(io: CliIO, opts: ServeOptions): Promise<number> {
  const file = configPath(io, opts.config);
  const config = loadConfig(file);
  const addresses = serveAddresses(config, opts, path.relative(io.cwd, file) || file);
  const logger = createLogger(`strangler-worker-${cluster.worker?.id ?? '?'}`);
  let store: Awaited<ReturnType<typeof openStore>> | undefined;
  let data: Awaited<ReturnType<typeof import('./planes.js').startDataPlane>>;
  try {
    store = await openStore(config.store, storeOptions(config, false));
    // A worker never serves config modes in place of a store's lost state.
    await requireIntact(store);
    const { startDataPlane } = await import('./planes.js');
    data = await startDataPlane({
      live: new LiveConfig(config, logger, file),
      store,
      logger,
      listen: addresses.listen,
      instanceId: `${hostname()}:${process.pid}`,
    });
  } catch (err) {
    await store?.close().catch(() => {});
    cluster.worker?.disconnect();
    // Bad input (a busy port: STRANGLER_E_LISTEN) fails the same way on every
    // try: end with the one-line error and exit 2, and the primary stops
    // instead of retrying (issue 17).
    if (isStranglerError(err) && err.exitCode === 2) {
      setTimeout(() => process.exit(2), 1000).unref();
      throw err;
    }
    // Cannot start: say why, and exit non-zero so the primary replaces this
    // worker later. The IPC channel would keep the process alive (alive but
    // never serving, issue 13), so it is closed, and a last-resort timer ends
    // a process some other handle still holds open.
    logger.error(
      { err: isStranglerError(err) ? err.message : err },
      'worker cannot start; the primary will try again',
    );
    const code = isStranglerError(err) ? err.exitCode : 1;
    setTimeout(() => process.exit(code), 1000).unref();
    return code;
  }
  const { proxy } = data;
  // Lets the primary's AggregatorRegistry collect this worker's metrics over IPC.
  // prom-client 15 installs the worker's answer to the primary's request only
  // in AggregatorRegistry's constructor: without one here, /metrics timed out.
  const { AggregatorRegistry } = await import('prom-client');
  AggregatorRegistry.setRegistries([proxy.registry]);
  new AggregatorRegistry();
  process.send?.({ type: 'strangler:ready', url: proxy.url });
  // Readiness is latched (proxy/readiness.ts): report it once it holds.
  const readyPoll = setInterval(() => {
    if (!proxy.readiness().ready) return;
    clearInterval(readyPoll);
    process.send?.({ type: 'strangler:readyz' });
  }, READY_POLL_MS);
  const drainMs = await new Promise<number>((resolve) => {
    process.on('message', (m: { type?: string; drainMs?: number }) => {
      if (m?.type === 'strangler:shutdown') resolve(m.drainMs ?? 0);
    });
    // The primary relays signals as messages; a direct SIGTERM drains too.
    process.once('SIGTERM', () => resolve(parseDuration(config.drain.delay)));
    process.once('SIGINT', () => {}); // Ctrl-C reaches the whole group: let the primary lead.
  });
  clearInterval(readyPoll);
  if (drainMs > 0) await proxy.drain(drainMs);
  await data.close();
  await store.close();
  // The IPC channel to the primary keeps a worker's event loop alive:
  // disconnecting lets the process exit on its own once drained.
  cluster.worker?.disconnect();
  return 0;
}

export async function runPrimary(io: CliIO, opts: ServeOptions & { workers: number }): Promise<number> {
  const file = configPath(io, opts.config);
  const config = loadConfig(file); // a bad config, address or admin token fails here, before any fork
  const addresses = serveAddresses(config, opts, path.relative(io.cwd, file) || file);
  readAdminToken(io.env, config);
  const logger = createLogger('strangler-primary');
  const store = await openStore(config.store, storeOptions(config, true));
  await initStore(store, config, (line) => logger.warn(line), 'config', { addRoutes: false });
  // The primary runs no proxy: it follows the store's definitions itself, for
  // the admin API and the guard (each worker's proxy follows its own).
  const live = new LiveConfig(config, logger, file);
  await live.refresh(store);
  const stopFollowing = store.watch(
    () => void live.refresh(store).catch((err) => logger.warn({ err }, 'route definitions not re-read')),
    config.proxy.pollIntervalMs,
  );
  // With SQLite, rate-limit windows live here and the workers ask over IPC: one limit per machine.
  (await import('../proxy/rate-limit.js')).startRateLimitCoordinator(config);

  let stopping = false;
  const workers = new Set<Worker>();
  let firstUrl: string | undefined;
  const ready = new Set<number>();
  let failedStarts = 0;
  /** Workers whose proxy reported ready (table loaded, upstreams answered). */
  const readyz = new Set<number>();
  let onAllReady: () => void;
  let onStartFailed: (code: number) => void;
  const allReady = new Promise<void>((resolve, reject) => {
    onAllReady = resolve;
    onStartFailed = reject;
  });

  const fork = () => {
    const w = cluster.fork({ STRANGLER_WORKER: '1' });
    workers.add(w);
    w.on('message', (m: { type?: string; url?: string }) => {
      if (m?.type === 'strangler:readyz') readyz.add(w.id);
      if (m?.type !== 'strangler:ready') return;
      if (failedStarts > 0 || firstUrl)
        logger.info({ worker: w.id, pid: w.process.pid }, 'replacement worker serving');
      failedStarts = 0;
      firstUrl ??= m.url;
      ready.add(w.id);
      if (ready.size >= opts.workers) onAllReady();
    });
    w.on('exit', (code, signal) => {
      workers.delete(w);
      const served = ready.delete(w.id);
      readyz.delete(w.id);
      if (stopping) return;
      // A worker that ended with a bad-input code before any worker ever
      // served (a busy port: it printed STRANGLER_E_LISTEN itself) would fail
      // the same way again: give up instead of retrying forever (issue 17).
      if (!served && firstUrl === undefined && code === 2) {
        stopping = true;
        onStartFailed(code);
        return;
      }
      if (!served) failedStarts++;
      const delay = served ? RESPAWN_DELAY_MS : respawnDelay(failedStarts);
      logger.warn(
        { worker: w.id, code, signal, delayMs: delay },
        served ? 'worker died; starting a replacement' : 'worker could not start; trying again',
      );
      setTimeout(() => {
        if (!stopping) fork();
      }, delay).unref();
    });
  };
  for (let i = 0; i < opts.workers; i++) fork();
  try {
    await allReady;
  } catch (code) {
    for (const w of workers) w.process.kill('SIGTERM');
    await store.close();
    return code as number;
  }

  const { AggregatorRegistry } = await import('prom-client');
  const aggregator = new AggregatorRegistry();
  const { startControlPlane } = await import('./planes.js');
  const control = await startControlPlane({
    io,
    config: live.view,
    configDrift: () => live.driftMessage(),
    store,
    logger,
    adminListen: addresses.admin,
    metrics: async () => ({ body: await aggregator.clusterMetrics(), contentType: aggregator.contentType }),
    readiness: () => {
      const waiting: string[] = [];
      if (stopping) waiting.push('draining: this proxy is stopping');
      const notReady = [...workers].filter((w) => !readyz.has(w.id)).length;
      if (notReady > 0) waiting.push(`${notReady} of ${workers.size} workers not ready yet`);
      return { ready: waiting.length === 0, waiting };
    },
  });
  const admin = { url: control.adminUrl };

  io.stdout.write(
    `strangler: ${opts.workers} workers on ${firstUrl}  admin ${admin.url}  store ${config.store}\n`,
  );
  opts.onReady?.({ proxyUrl: firstUrl!, adminUrl: admin.url, config });

  const sig = await (opts.stop ??
    io.stopSignal ??
    new Promise<string>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    }));
  stopping = true;
  const drainMs = sig === 'SIGTERM' ? parseDuration(config.drain.delay) : 0;
  const killAfterMs = drainMs + parseDuration(config.drain.timeout) + KILL_MARGIN_MS;
  logger.info({ signal: sig, drainMs }, 'draining workers');
  await Promise.all(
    [...workers].map(
      (w) =>
        new Promise<void>((resolve) => {
          const kill = setTimeout(() => w.process.kill('SIGKILL'), killAfterMs);
          w.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          // A worker still starting has no drain to do (and no listener for
          // the message yet): SIGTERM ends it at once.
          if (w.isConnected() && ready.has(w.id)) w.send({ type: 'strangler:shutdown', drainMs });
          else w.process.kill('SIGTERM');
        }),
    ),
  );
  stopFollowing();
  await control.close();
  await store.close();
  return 0;
}
