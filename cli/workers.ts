/**
 * `strangler serve --workers N`: node:cluster on one machine. The primary owns
 * the admin API, the guard and the store seeding; N workers share the proxy
 * listener (the primary accepts and hands connections round-robin). A worker
 * that dies is replaced; SIGTERM drains every worker (stop accepting, finish
 * in-flight requests, close keep-alive connections) and exits 0.
 */
import cluster, { type Worker } from 'node:cluster';
import { hostname } from 'node:os';
import { loadConfig } from '../core/config.js';
import { createLogger } from '../core/log.js';
import { openStore } from '../store/open.js';
import { configPath, seedFromConfig } from './context.js';
import type { CliIO } from './io.js';
import type { ServeOptions } from './serve-options.js';

/** How long a draining worker may take before the primary kills it. */
const DRAIN_MS = 15_000;
/** Don't respawn faster than this when workers crash in a loop. */
const RESPAWN_DELAY_MS = 200;

/** In a worker: run the proxy only, until the primary says 'shutdown'. */
export async function runWorker(io: CliIO, opts: ServeOptions): Promise<number> {
  const config = loadConfig(configPath(io, opts.config));
  const logger = createLogger(`strangler-worker-${cluster.worker?.id ?? '?'}`);
  const store = await openStore(config.store);
  const { startDataPlane } = await import('./planes.js');
  const data = await startDataPlane({
    config,
    store,
    logger,
    listen: opts.listen ?? config.listen,
    instanceId: `${hostname()}:${process.pid}`,
  });
  const { proxy } = data;
  // Lets the primary's AggregatorRegistry collect this worker's metrics over IPC.
  // prom-client 15 installs the worker's answer to the primary's request only
  // in AggregatorRegistry's constructor: without one here, /metrics timed out.
  const { AggregatorRegistry } = await import('prom-client');
  AggregatorRegistry.setRegistries([proxy.registry]);
  new AggregatorRegistry();
  process.send?.({ type: 'strangler:ready', url: proxy.url });
  await new Promise<void>((resolve) => {
    process.on('message', (m: { type?: string }) => {
      if (m?.type === 'strangler:shutdown') resolve();
    });
    // The primary relays signals as messages; a direct SIGTERM drains too.
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => {}); // Ctrl-C reaches the whole group: let the primary lead.
  });
  await data.close();
  await store.close();
  // The IPC channel to the primary keeps a worker's event loop alive:
  // disconnecting lets the process exit on its own once drained.
  cluster.worker?.disconnect();
  return 0;
}

export async function runPrimary(io: CliIO, opts: ServeOptions & { workers: number }): Promise<number> {
  const config = loadConfig(configPath(io, opts.config)); // a bad config fails here, before any fork
  const logger = createLogger('strangler-primary');
  const store = await openStore(config.store);
  await seedFromConfig(store, config);

  let stopping = false;
  const workers = new Set<Worker>();
  let firstUrl: string | undefined;
  const ready = new Set<number>();
  let onAllReady: () => void;
  const allReady = new Promise<void>((r) => {
    onAllReady = r;
  });

  const fork = () => {
    const w = cluster.fork({ STRANGLER_WORKER: '1' });
    workers.add(w);
    w.on('message', (m: { type?: string; url?: string }) => {
      if (m?.type !== 'strangler:ready') return;
      firstUrl ??= m.url;
      ready.add(w.id);
      if (ready.size >= opts.workers) onAllReady();
    });
    w.on('exit', (code, signal) => {
      workers.delete(w);
      ready.delete(w.id);
      if (stopping) return;
      logger.warn({ worker: w.id, code, signal }, 'worker died; starting a replacement');
      setTimeout(() => {
        if (!stopping) fork();
      }, RESPAWN_DELAY_MS).unref();
    });
  };
  for (let i = 0; i < opts.workers; i++) fork();
  await allReady;

  const { AggregatorRegistry } = await import('prom-client');
  const aggregator = new AggregatorRegistry();
  const { startControlPlane } = await import('./planes.js');
  const control = await startControlPlane({
    io,
    config,
    store,
    logger,
    adminListen: opts.adminListen ?? config.admin.listen,
    metrics: async () => ({ body: await aggregator.clusterMetrics(), contentType: aggregator.contentType }),
  });
  const admin = { url: control.adminUrl };

  io.stdout.write(`strangler: ${opts.workers} workers on ${firstUrl}  admin ${admin.url}  store ${config.store}\n`);
  opts.onReady?.({ proxyUrl: firstUrl!, adminUrl: admin.url, config });

  const sig = await (opts.stop ??
    io.stopSignal ??
    new Promise<string>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    }));
  stopping = true;
  logger.info({ signal: sig }, 'draining workers');
  await Promise.all(
    [...workers].map(
      (w) =>
        new Promise<void>((resolve) => {
          const kill = setTimeout(() => w.process.kill('SIGKILL'), DRAIN_MS);
          w.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          if (w.isConnected()) w.send({ type: 'strangler:shutdown' });
          else w.process.kill('SIGTERM');
        }),
    ),
  );
  await control.close();
  await store.close();
  return 0;
}
