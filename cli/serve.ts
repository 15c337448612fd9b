/**
 * `strangler serve`: the proxy, its admin API and the guard in one process,
 * wired together here because DESIGN's dependency rule keeps proxy/ and
 * control/ from importing each other. Stops gracefully on SIGINT/SIGTERM or
 * when io.stopSignal resolves (tests).
 *
 * SIGTERM is how orchestrators stop a process, usually at the same moment
 * they start taking it out of the load balancer: the proxy first drains
 * (not ready, `Connection: close` on every answer) for `drain.delay`, so
 * nobody is cut off mid-conversation, and only then stops accepting. SIGINT
 * (Ctrl-C at a terminal) skips the delay.
 */
import path from 'node:path';
import { readAdminToken } from '../control/admin-token.js';
import { loadConfig } from '../core/config.js';
import { parseDuration } from '../core/duration.js';
import { createLogger } from '../core/log.js';
import { LiveConfig } from '../store/live-config.js';
import { openStore } from '../store/open.js';
import { configPath, initStore, storeOptions } from './context.js';
import type { CliIO } from './io.js';
import { type ServeInfo, type ServeOptions, serveAddresses } from './serve-options.js';

export type { ServeInfo, ServeOptions };

function signalStop(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

export async function runServe(io: CliIO, opts: ServeOptions): Promise<number> {
  if (opts.workers !== undefined && opts.workers > 1) {
    const cluster = (await import('node:cluster')).default;
    const { runPrimary, runWorker } = await import('./workers.js');
    return cluster.isPrimary ? runPrimary(io, { ...opts, workers: opts.workers }) : runWorker(io, opts);
  }
  const file = configPath(io, opts.config);
  const config = loadConfig(file);
  // Bad addresses and a short admin token are refused before the store opens or anything listens.
  const addresses = serveAddresses(config, opts, path.relative(io.cwd, file) || file);
  readAdminToken(io.env, config);
  const logger = createLogger('strangler');
  const store = await openStore(config.store, storeOptions(config, true));
  const closers: Array<() => Promise<void> | void> = [() => store.close()];
  const closeAll = async () => {
    for (const c of closers.reverse()) {
      try {
        await c();
      } catch (err) {
        logger.warn({ err }, 'error while stopping');
      }
    }
  };
  try {
    await initStore(store, config, (line) => logger.warn(line), 'config', { addRoutes: false });
    // The file seeds an empty store; after that the store's definitions are
    // served, and a differing file is reported, never applied (issue 29).
    const live = new LiveConfig(config, logger, file);
    const { startDataPlane, startControlPlane } = await import('./planes.js');
    const data = await startDataPlane({ live, store, logger, listen: addresses.listen });
    closers.push(() => data.close());
    const { proxy } = data;
    const control = await startControlPlane({
      io,
      config: live.view,
      configDrift: () => live.driftMessage(),
      store,
      logger,
      adminListen: addresses.admin,
      metrics: async () => ({ body: await proxy.metrics(), contentType: proxy.metricsContentType }),
      routeExtras: () => proxy.routeExtras(),
      servedStates: () => proxy.servedStates(),
      readiness: () => proxy.readiness(),
    });
    closers.push(() => control.close());
    const admin = { url: control.adminUrl };

    io.stdout.write(`strangler: proxy ${proxy.url}  admin ${admin.url}  store ${config.store}\n`);
    opts.onReady?.({ proxyUrl: proxy.url, adminUrl: admin.url, config });
    const sig = await (opts.stop ?? io.stopSignal ?? signalStop());
    if (sig === 'SIGTERM') await proxy.drain(parseDuration(config.drain.delay));
    logger.info({ signal: sig }, 'stopping: finishing in-flight requests');
    await closeAll();
    return 0;
  } catch (err) {
    await closeAll();
    throw err;
  }
}
