/**
 * The proxy: a node:http listener in front of the request path
 * (proxy/pipeline.ts), assembled here. startProxy builds each part once —
 * upstreams, metrics, breakers, rate limits, the first RouteTable and its
 * follower (proxy/route-table-follower.ts) — and hands them to the Pipeline;
 * upgrades are proxy/upgrades.ts, listen/drain/close proxy/listener.ts.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import type { Registry } from 'prom-client';
import type { Config } from '../core/config.js';
import { parseDuration } from '../core/duration.js';
import { urlHost } from '../core/host-port.js';
import { createLogger, type Logger } from '../core/log.js';
import type { RouteState } from '../core/types.js';
import type { ShadowHook } from '../shadow/types.js';
import type { Store } from '../store/types.js';
import { awaitTurn, onClientError, turnOf } from './client-connection.js';
import { Failover } from './failover.js';
import { watchKeepAliveStalls } from './keepalive-stall.js';
import { ProxyMetrics } from './metrics.js';
import { PointEndpoints } from './points.js';
import { createRateLimits } from './rate-limit.js';
import { Readiness, type ReadinessState, upstreamsInUse } from './readiness.js';
import type { LiveConfig } from '../store/live-config.js';
import type { RouteTable } from './route-table.js';
import { clientConnectionOptions, connectionCap, limitConnections } from './connection-limits.js';
import { BodyBudget } from './request-body.js';
import { StatsRecorder } from './stats-recorder.js';
import { createTracing } from './tracing.js';
import { Upstreams } from './upstreams.js';
import { Pipeline } from './pipeline.js';
import { closeProxy, drain, parseListen, watchFreshConnections } from './listener.js';
import { followRouteTable, loadInitialTable } from './route-table-follower.js';
import { serveUpgrades } from './upgrades.js';
import { createUpgradeProxy, type UpgradeProxy } from './websocket.js';

export interface ProxyOptions {
  config: Readonly<Config>;
  store: Store;
  logger?: Logger;
  shadow?: ShadowHook;
  /** Names this proxy in stats windows; default HOST:PID. */
  instanceId?: string;
  /** Overrides config.listen; port 0 picks a free port. */
  listen?: { host: string; port: number };
  /** Bearer token of the extraction-point endpoints (proxy/points.ts); unset → they answer 403. */
  pointsToken?: string;
  /**
   * The store's route definitions and upstreams over `config`'s process
   * settings (store/live-config.ts), re-read on every table change: how
   * `serve` runs (issue 29). Without it the proxy serves `config`'s routes.
   */
  live?: LiveConfig;
}

export interface ProxyServer {
  url: string;
  port: number;
  /** The current snapshot. */
  routeTable(): RouteTable;
  /** Re-read route states from the store and swap the table (serialised). */
  reload(): Promise<void>;
  /** Prometheus text exposition. */
  metrics(): Promise<string>;
  metricsContentType: string;
  /** The proxy's own prom-client Registry (cluster workers hand it to AggregatorRegistry). */
  registry: Registry;
  /**
   * Live per-route facts of this data plane, for the admin API's /routes:
   * the mode and version this proxy is serving (shows whether a flip
   * arrived) and the failover breaker's state once it has one.
   */
  routeExtras(): Record<string, Record<string, string>>;
  /**
   * The route states this proxy serves now (its last good table): what the
   * admin API's /routes answers, marked stale, while the store is lost.
   */
  servedStates(): RouteState[];
  /** Whether this proxy should get traffic (admin GET /readyz): see proxy/readiness.ts. */
  readiness(): ReadinessState;
  /**
   * The first half of a graceful stop (SIGTERM): not ready from now on, and
   * every answer carries `Connection: close` so kept-alive clients move to a
   * new connection (elsewhere, once the load balancer saw /readyz fail).
   * Keeps serving; resolves after `delayMs`. close() does the rest.
   */
  drain(delayMs: number): Promise<void>;
  /** Graceful: stop accepting, finish in-flight requests (up to drain.timeout), close idle keep-alive sockets, then the pools. */
  close(): Promise<void>;
}

/**
 * Start a proxy. The caller seeds the store (store.routes.seed); the proxy
 * reads route states, compiles a RouteTable and follows the store's changes
 * (store.watch) so a flip from another process applies within one poll.
 */
export async function startProxy(opts: ProxyOptions): Promise<ProxyServer> {
  const { store, live } = opts;
  const config = live?.view ?? opts.config;
  const logger = opts.logger ?? createLogger('strangler-proxy');
  const instanceId = opts.instanceId ?? `${hostname()}:${process.pid}`;

  const readiness = new Readiness(config, logger);
  const initial = await loadInitialTable(config, store, readiness, logger, live);
  const upstreams = new Upstreams(config);
  const stallWatch = watchKeepAliveStalls(upstreams, store, logger);
  const metrics = new ProxyMetrics();
  const routeIds = config.routes.map((r) => r.id);
  metrics.initRoutes(routeIds);
  const lostEvidence = opts.shadow?.evidenceLost?.bind(opts.shadow);
  if (lostEvidence) metrics.countEvidenceLost(routeIds, lostEvidence);
  const stats = new StatsRecorder(store, instanceId, config.proxy.statsFlushMs);
  stats.start();
  // One Failover per proxy: its breakers outlive table reloads.
  const failover = new Failover({ audit: store.audit, log: logger, metrics: metrics.registry });
  failover.initRoutes(config.routes.filter((r) => r.failover.enabled).map((r) => r.id));
  // Shadow copies to the service probe its breaker (a route in shadow sends it no live traffic).
  opts.shadow?.observeService?.((route, ok) => failover.breakers.probe(route, ok));
  const bodies = new BodyBudget(config.proxy.maxBufferedBodyBytes);
  const points = new PointEndpoints({
    config,
    table: (): RouteTable => pipeline.table,
    upstreams,
    failover,
    metrics,
    stats,
    shadow: opts.shadow,
    logger,
    token: opts.pointsToken,
  });
  const limits = createRateLimits(config, metrics.registry, logger);
  const tracing = await createTracing(config, logger);
  const pipeline: Pipeline = new Pipeline({
    table: initial.table,
    upstreams,
    metrics,
    stats,
    logger,
    shadow: opts.shadow,
    failover,
    points,
    limits,
    tracing,
    bodies,
    edge: config.proxy,
  });
  const upgrades: UpgradeProxy = createUpgradeProxy(logger);
  const follower = followRouteTable(config, store, pipeline, readiness, initial.storeAway, live);

  const serve = (req: IncomingMessage, res: ServerResponse): void => {
    pipeline.handle(req, res).catch((err) => {
      logger.error({ err }, 'request pipeline failed');
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
  };
  // A connection's requests are served in turn, and none after an answer
  // that closed it (proxy/client-connection.ts).
  const server = createServer(clientConnectionOptions(config.proxy), (req, res) => {
    const turn = turnOf(req, res);
    if (turn === 'now') serve(req, res);
    else if (turn === 'later') awaitTurn(req, res, serve);
    else req.resume();
  });
  server.on('clientError', onClientError);
  limitConnections(server, connectionCap(config.proxy.maxConnections), metrics.registry, logger);
  const fresh = watchFreshConnections(server);
  serveUpgrades(server, pipeline, upgrades);

  const where = parseListen(config, opts.listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(where.port, where.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => logger.error({ err }, 'listener error'));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : where.port;
  const host = urlHost(where.host);

  const graceMs = parseDuration(config.drain.timeout);
  let closing: Promise<void> | undefined;
  logger.info({ url: `http://${host}:${port}`, routes: initial.table.entries.length }, 'proxy listening');
  return {
    url: `http://${host}:${port}`,
    port,
    routeTable: () => pipeline.table,
    readiness: () =>
      readiness.state(
        upstreamsInUse(
          pipeline.table.entries.map((e) => ({ service: e.config.service, mode: e.state.mode })),
        ),
      ),
    drain: (delayMs) => drain(pipeline, readiness, delayMs),
    reload: follower.reload,
    metrics: () => metrics.text(),
    metricsContentType: metrics.contentType,
    registry: metrics.registry,
    routeExtras: () => routeExtras(pipeline.table, failover),
    servedStates: () => pipeline.table.entries.map((e) => e.state),
    close: () => {
      closing ??= closeProxy(server, pipeline, readiness, follower, upgrades, stallWatch, graceMs, fresh);
      return closing;
    },
  };
}

/** ProxyServer.routeExtras: per route, the mode/weight/version served and the breaker's state once it has one. */
function routeExtras(table: RouteTable, failover: Failover): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  const breakers = failover.breakers.states();
  for (const e of table.entries) {
    out[e.config.id] = {
      servedMode: e.state.mode,
      servedWeight: String(e.state.weight),
      servedVersion: String(e.state.version),
      ...(breakers[e.config.id] ? { breaker: breakers[e.config.id] } : {}),
    };
  }
  return out;
}
