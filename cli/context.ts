/**
 * What most commands do first: read the config, open the store it names
 * (which must already exist and hold strangler's state: a read never creates
 * or seeds a store), and close the store afterwards whatever happens.
 * Imported lazily from actions (it pulls in zod, yaml and the store).
 */
import { userInfo } from 'node:os';
import path from 'node:path';
import { weightOf } from '../control/state-machine.js';
import { type Config, loadConfig } from '../core/config.js';
import { parseDuration } from '../core/duration.js';
import { definitionOf, upstreamsOf } from '../core/route-definitions.js';
import { requireIntact } from '../store/integrity.js';
import { readEffectiveConfig } from '../store/live-config.js';
import { lostMarkError, markSatisfied } from '../store/lost-mark.js';
import { type OpenStoreOptions, openStore } from '../store/open.js';
import type { Store } from '../store/types.js';
import type { CliIO } from './io.js';

export const DEFAULT_CONFIG = 'strangler.yaml';

export function configPath(io: CliIO, file?: string): string {
  return path.resolve(io.cwd, file ?? DEFAULT_CONFIG);
}

/** How a config wants its store opened; `create` only for `serve` and `strangler seed`. */
export function storeOptions(
  config: Readonly<Config>,
  create: boolean,
  clearLostMark = false,
): OpenStoreOptions {
  return {
    create,
    clearLostMark,
    audit: { maxRows: config.audit.maxRows, maxAgeMs: parseDuration(config.audit.maxAge) },
  };
}

/**
 * Seed the routes the store has never held from the config (audited as
 * 'seed'); the first seed names the store. Only `serve` and `strangler seed`
 * call this. Throws STRANGLER_E_STORE_LOST, seeding nothing, when the store
 * lost the state this store object opened.
 */
export async function seedFromConfig(
  store: Store,
  config: Readonly<Config>,
  actor = 'config',
  only?: ReadonlySet<string>,
): Promise<void> {
  await store.routes.seed(
    config.routes
      .filter((r) => !only || only.has(r.id))
      .map((r) => ({
        id: r.id,
        mode: r.mode,
        weight: weightOf(r.mode, r.weight),
        definition: definitionOf(r),
      })),
    actor,
    upstreamsOf(config),
  );
}

/**
 * Open the config's store for a command that is not `serve`: a missing SQLite
 * file, a store never seeded, or one that lost its state is
 * STRANGLER_E_STORE_LOST (exit 5) with how to fix it, and nothing is written.
 *
 * `config` is the effective config (store/live-config.ts): the file's process
 * settings with the store's route definitions, so a command run with another
 * file judges routes by the store's gate, match and upstreams (issue 29 case
 * 2); `file` is the file as read, for `apply` and the drift note.
 */
export async function withStore<T>(
  io: CliIO,
  configFile: string | undefined,
  fn: (ctx: { config: Readonly<Config>; file: Readonly<Config>; store: Store }) => Promise<T>,
): Promise<T> {
  const file = loadConfig(configPath(io, configFile));
  const store = await openStore(file.store, storeOptions(file, false));
  try {
    await requireIntact(store);
    const { config } = await readEffectiveConfig(store, file);
    return await fn({ config, file, store });
  } finally {
    await store.close();
  }
}

/**
 * Who made a change from this shell: $STRANGLER_ACTOR, else the OS user —
 * from $USER/$LOGNAME, else the account this process runs as (cron jobs and
 * containers often have no $USER; "cli:unknown" in an audit row helps no one).
 */
export function cliActor(io: CliIO): string {
  return io.env.STRANGLER_ACTOR || `cli:${io.env.USER || io.env.LOGNAME || osUserName() || 'unknown'}`;
}

function osUserName(): string | undefined {
  try {
    return userInfo().username || undefined;
  } catch {
    return undefined; // a uid with no passwd entry (some containers): userInfo() throws
  }
}

/**
 * `serve`'s and `strangler seed`'s first step: name a store that has no
 * identity yet and seed the routes it has never held. Says what it did, so
 * seeding is never silent.
 *
 * A store carrying a lost mark (a running proxy saw it lose its state) is
 * not seeded by `serve`: STRANGLER_E_STORE_LOST, saying who noticed what,
 * unless the store holds the very identity the mark names again (restored:
 * the mark is cleared). `strangler seed` (`clearLostMark`) is the deliberate
 * way past it: it seeds, records the cleared mark in the audit log, then
 * removes the mark.
 */
export async function initStore(
  store: Store,
  config: Readonly<Config>,
  say: (line: string) => void,
  actor = 'config',
  opts: { clearLostMark?: boolean; addRoutes?: boolean } = {},
): Promise<{ created: boolean; seeded: string[] }> {
  const before = await store.identity();
  const mark = await store.lostMark();
  // Restored: the identity the mark names, and not an older snapshot of it (store/generation.ts).
  const restored = mark !== undefined && markSatisfied(mark, before?.id, await store.routes.tableVersion());
  if (mark && !restored && !opts.clearLostMark) throw lostMarkError(store.label, mark);
  const had = new Set((await store.routes.list()).map((r) => r.id));
  // `serve` on a store that already holds routes adds none of its file's new
  // ones (that would move traffic with no plan, issue 29): it only fills in
  // what a store from before definitions lived there lacks, and the drift
  // says what `strangler apply` would add. `strangler seed` adds them.
  const addNew = !before || opts.addRoutes !== false;
  await seedFromConfig(store, config, actor, addNew ? undefined : had);
  const seeded = addNew ? config.routes.map((r) => r.id).filter((id) => !had.has(id)) : [];
  const id = (await store.identity())?.id;
  if (!before)
    say(
      `store ${store.label} had no strangler state: named it ${id} and seeded ${seeded.length} route(s) from the config${seeded.length ? `: ${seeded.join(', ')}` : ''}`,
    );
  else if (seeded.length)
    say(`seeded ${seeded.length} new route(s) from the config into ${store.label}: ${seeded.join(', ')}`);
  if (mark) {
    const what = `lost mark (identity ${mark.lostId ?? 'unknown'}, route table version ${mark.lastVersion ?? 'unknown'}, noticed by ${mark.noticedBy} at ${mark.noticedAt})`;
    if (!restored)
      await store.audit.append({
        actor,
        route: null,
        action: 'store.lost-cleared',
        before: null,
        after: null,
        reason: `re-seeded from the config over a ${what}`,
        details: { lostMark: mark, storeId: id },
      });
    await store.clearLostMark();
    say(
      restored
        ? `store ${store.label} holds ${id} again (restored): cleared its ${what}`
        : `cleared the ${what} (audited)`,
    );
  }
  return { created: !before, seeded };
}
