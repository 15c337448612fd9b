/**
 * The two halves `serve` wires together, shared by the single-process path
 * (cli/serve.ts) and the --workers path (cli/workers.ts): the data plane (the
 * proxy with its shadow hook) and the control plane (admin API + the guard,
 * which runs only while this instance holds the guard lease).
 */
import type { Config } from '../core/config.js';
import type { Logger } from '../core/log.js';
import type { RouteState } from '../core/types.js';
import type { ProxyServer } from '../proxy/server.js';
import type { LiveConfig } from '../store/live-config.js';
import type { Store } from '../store/types.js';
import type { CliIO } from './io.js';
import { type ListenAddress, listenOn, splitHostPort } from './serve-options.js';

export async function startDataPlane(opts: {
  /** The store's definitions over the file's process settings (store/live-config.ts). */
  live: LiveConfig;
  store: Store;
  logger: Logger;
  listen: ListenAddress;
  instanceId?: string;
}): Promise<{ proxy: ProxyServer; close(): Promise<void> }> {
  const config = opts.live.view;
  const { createShadowHook } = await import('../shadow/mirror.js');
  const shadow = createShadowHook({ config, store: opts.store, logger: opts.logger });
  const { startProxy } = await import('../proxy/server.js');
  (await import('../proxy/heap-tuning.js')).tuneHeapForProxy();
  try {
    const proxy = await listenOn(opts.listen, () =>
      startProxy({
        config,
        live: opts.live,
        store: opts.store,
        logger: opts.logger,
        shadow,
        listen: splitHostPort(opts.listen),
        instanceId: opts.instanceId,
        pointsToken: process.env[config.points.tokenEnv] || undefined,
      }),
    );
    return {
      proxy,
      close: async () => {
        await proxy.close(); // drain first: in-flight requests may still hand work to the shadow
        await shadow.close();
      },
    };
  } catch (err) {
    await shadow.close();
    throw err;
  }
}

export async function startControlPlane(opts: {
  io: CliIO;
  /** The live view of the effective config (LiveConfig.view): routes and upstreams as the store holds them. */
  config: Readonly<Config>;
  configDrift: () => string | undefined;
  store: Store;
  logger: Logger;
  adminListen: ListenAddress;
  metrics: () => Promise<{ body: string; contentType: string }>;
  routeExtras?: () => Record<string, Record<string, string>>;
  servedStates?: () => RouteState[];
  readiness?: () => { ready: boolean; waiting: string[] };
}): Promise<{ adminUrl: string; close(): Promise<void> }> {
  const { config, store, logger, io } = opts;
  const { startAdmin } = await import('../control/admin-api.js');
  const adminAddr = splitHostPort(opts.adminListen);
  const { readAdminToken } = await import('../control/admin-token.js');
  const token = readAdminToken(io.env, config);
  if (!token) logger.warn(`${config.admin.tokenEnv} is not set: admin mutations are refused`);
  // Route modes and shadow evidence come from the store, next to the data plane's counters.
  const { withStoreMetrics } = await import('../control/store-metrics.js');
  const metrics = withStoreMetrics(opts.metrics, {
    config,
    store,
    onError: (err) => logger.warn({ err }, '/metrics: store metrics left out'),
  });
  const admin = await listenOn(opts.adminListen, () =>
    startAdmin({
      config,
      store,
      logger,
      token,
      host: adminAddr.host,
      port: adminAddr.port,
      metrics,
      routeExtras: opts.routeExtras,
      servedStates: opts.servedStates,
      readiness: opts.readiness,
      configDrift: opts.configDrift,
    }),
  );
  const { startGuardWhenLeader } = await import('../control/leader.js');
  const guard = startGuardWhenLeader({ config, store, logger });
  // So `strangler seed` knows this proxy serves from the store (control/heartbeat.ts).
  const { startHeartbeat } = await import('../control/heartbeat.js');
  const heartbeat = startHeartbeat(store, { logger });
  return {
    adminUrl: admin.url,
    close: async () => {
      await guard.stop();
      await heartbeat.stop();
      await admin.close();
    },
  };
}
