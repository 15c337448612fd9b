import type { Config } from '../core/config.js';
import type { Logger } from '../core/log.js';
import type { Store } from '../store/types.js';
import type { Readiness } from './readiness.js';
import type { LiveConfig } from '../store/live-config.js';
import { compileRouteTable, type RouteTable } from './route-table.js';
import { StoreFreshness } from './store-freshness.js';
import type { Pipeline } from './pipeline.js';

/** The first table: the store's states, or the config's own modes while the store is away at start. */
export async function loadInitialTable(
  config: Readonly<Config>,
  store: Store,
  readiness: Readiness,
  logger: Logger,
  live: LiveConfig | undefined,
): Promise<{ table: RouteTable; storeAway: boolean }> {
  try {
    const states = await store.routes.list();
    await live?.refresh(store, states);
    const table = compileRouteTable(config, states);
    readiness.markTableLoaded();
    return { table, storeAway: false };
  } catch (err) {
    // A store away at start still leaves the config's own modes to serve.
    if ((err as { code?: string }).code === 'STRANGLER_E_CONFIG') throw err;
    logger.warn({ err }, 'store unavailable at start: serving config modes until it answers');
    return { table: compileRouteTable(config, []), storeAway: true };
  }
}

/**
 * Follow the store's route states: on every change (store.watch) and on the
 * freshness timer, re-read them and swap the pipeline's table. Reloads are
 * serialised; a failed one keeps the last good table.
 */
export function followRouteTable(
  config: Readonly<Config>,
  store: Store,
  pipeline: Pipeline,
  readiness: Readiness,
  storeAwayAtStart: boolean,
  live: LiveConfig | undefined,
): { reload(): Promise<void>; stop(): void } {
  const logger = pipeline.logger;
  const freshness = new StoreFreshness(
    store,
    pipeline.metrics.registry,
    logger,
    config.proxy.pollIntervalMs,
    () => void reload(),
  );
  if (storeAwayAtStart) freshness.markUnreachable();
  let reloading: Promise<void> = Promise.resolve();
  const reloadOnce = async () => {
    // A store that lost its state answers with nothing (or someone else's
    // state): keep serving the table we had, see StoreFreshness.
    if (freshness.lost() !== undefined) return;
    try {
      const states = await store.routes.list();
      // Checked here too, not only on the freshness timer, and after the read
      // so it vouches for what was read: a store re-seeded since (another
      // identity) must not hand us the config's modes, nor a Redis restored
      // from an older snapshot (a pub/sub reconnect reloads at once) its
      // older modes (store/generation.ts).
      const integrity = await store.integrity();
      if (integrity.state === 'lost') {
        freshness.noticeLost(integrity);
        return;
      }
      // Definitions first: an applied match, service or upstream URL takes
      // effect with the same swap as the states (issue 29).
      if (live && (await live.refresh(store, states)).upstreamsChanged) pipeline.upstreams.replace(config);
      // A store that lost routes (a Redis restarted without persistence) must
      // not silently send a migrated route back to its config mode: keep the
      // last state this proxy served for any route the store no longer has.
      // Where the store holds the definitions, a route it no longer has was
      // removed by an audited apply: it goes.
      const have = new Set(states.map((st) => st.id));
      const kept = live?.storeDecides()
        ? []
        : pipeline.table.entries.filter((e) => !have.has(e.config.id) && e.state.version > 0);
      if (kept.length)
        logger.warn(
          { routes: kept.map((e) => e.config.id) },
          'store has no state for these routes: keeping the last state served',
        );
      pipeline.table = compileRouteTable(config, [...states, ...kept.map((e) => e.state)]);
      pipeline.points.tableSwapped();
      freshness.confirmed();
      readiness.markTableLoaded();
    } catch (err) {
      logger.error({ err }, 'route table reload failed: keeping the last good table');
    }
  };
  const reload = () => {
    reloading = reloading.then(reloadOnce);
    return reloading;
  };
  const stopWatching = store.watch(() => void reload(), config.proxy.pollIntervalMs);
  return {
    reload,
    stop() {
      stopWatching();
      freshness.stop();
    },
  };
}
