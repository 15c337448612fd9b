/**
 * The effective config a running process serves (core/route-definitions.ts):
 * its own file's process settings with the store's route definitions, modes
 * and upstreams — read here, from the store, and nowhere else. A process
 * never applies its file's routes silently (issue 29); where its file differs
 * from the store it says so once (log, `/healthz`, `strangler routes`, the
 * console) with the `strangler apply --dry-run` hint.
 *
 * LiveConfig follows the store: `refresh` re-reads the definitions (the proxy
 * calls it on every table-version change, store/version-watch.ts), and
 * `view` is a Config whose routes and upstreams are always the latest, so the
 * admin API, the guard and the shadow hook handed it at start see applied
 * definitions without a restart.
 */
import { type Config, loadConfig } from '../core/config.js';
import type { Logger } from '../core/log.js';
import {
  type DefinitionDiff,
  describeDrift,
  diffDefinitions,
  effectiveConfig,
  fileDefinitions,
  type StoredDefinitions,
  storeDefinesRoutes,
} from '../core/route-definitions.js';
import type { RouteState } from '../core/types.js';
import type { Store } from './types.js';

/** The store's definitions and states, and the effective config they make with `file`. */
export async function readEffectiveConfig(
  store: Store,
  file: Readonly<Config>,
): Promise<{ config: Readonly<Config>; stored: StoredDefinitions; states: RouteState[] }> {
  const stored = await store.routes.definitions();
  const states = await store.routes.list();
  return { config: effectiveConfig(file, stored, states), stored, states };
}

/** How `file` differs from what the store holds (undefined when the store does not hold definitions yet). */
export function configDrift(file: Readonly<Config>, stored: StoredDefinitions): DefinitionDiff | undefined {
  return storeDefinesRoutes(stored) ? diffDefinitions(stored, fileDefinitions(file)) : undefined;
}

export class LiveConfig {
  private current: Readonly<Config>;
  private drift: string | undefined;
  private decides = false;
  /** A Config whose every field reads the latest effective config. */
  readonly view: Readonly<Config>;

  /** The file as it now reads on disk, for the drift only (process settings take effect at start). */
  private onDisk: Readonly<Config>;

  /**
   * @param path the file `file` was read from: re-read at each refresh, so
   *   the drift compares the store with the file as the operator left it
   *   (edited and applied: no drift), not as it was at start.
   */
  constructor(
    readonly file: Readonly<Config>,
    private readonly logger?: Logger,
    private readonly path?: string,
  ) {
    this.current = file;
    this.onDisk = file;
    const view = {} as Config;
    for (const key of Object.keys(file) as Array<keyof Config>)
      Object.defineProperty(view, key, { get: () => this.current[key], enumerable: true });
    this.view = Object.freeze(view);
  }

  get(): Readonly<Config> {
    return this.current;
  }

  /** Whether the store holds the definitions (else the file's routes serve, as before issue 29). */
  storeDecides(): boolean {
    return this.decides;
  }

  /** "config differs from the store (N routes)…", or undefined when the file matches. */
  driftMessage(): string | undefined {
    return this.drift;
  }

  /**
   * Re-read the store's definitions (with `states` when the caller just read
   * them) and make them current. Says whether the upstreams changed, so the
   * proxy rebuilds its pools only then.
   */
  async refresh(store: Store, states?: RouteState[]): Promise<{ upstreamsChanged: boolean }> {
    const stored = await store.routes.definitions();
    const next = effectiveConfig(this.file, stored, states ?? (await store.routes.list()));
    const upstreamsChanged =
      JSON.stringify([next.legacy, next.services]) !==
      JSON.stringify([this.current.legacy, this.current.services]);
    this.current = next;
    this.decides = storeDefinesRoutes(stored);
    if (this.path)
      try {
        this.onDisk = loadConfig(this.path);
      } catch {
        // Mid-edit or invalid: compare with the last file that read cleanly.
      }
    const diff = configDrift(this.onDisk, stored);
    const drift = diff && describeDrift(diff);
    // Once per difference, not once per reload: a proxy reloads on every flip.
    if (drift !== this.drift && diff) {
      if (drift)
        this.logger?.warn(
          {
            routes: diff.routes.map(
              (r) =>
                `${r.op} ${r.id}${r.fields.length && r.op === 'change' ? `: ${r.fields.map((f) => f.field).join(', ')}` : ''}`,
            ),
            upstreams: diff.upstreams.map((f) => f.field),
          },
          `${drift}; serving the store's definitions`,
        );
      else if (this.drift) this.logger?.info('config matches the store again');
    }
    this.drift = drift;
    return { upstreamsChanged };
  }
}
