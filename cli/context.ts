/**
 * What most commands do first: read the config, open the store it names, seed
 * routes the store has not seen, and close the store afterwards whatever
 * happens. Imported lazily from actions (it pulls in zod, yaml and the store).
 */
import { userInfo } from 'node:os';
import path from 'node:path';
import { type Config, loadConfig } from '../core/config.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';
import type { CliIO } from './io.js';

export const DEFAULT_CONFIG = 'strangler.yaml';

export function configPath(io: CliIO, file?: string): string {
  return path.resolve(io.cwd, file ?? DEFAULT_CONFIG);
}

export async function seedFromConfig(store: Store, config: Readonly<Config>, actor = 'config'): Promise<void> {
  await store.routes.seed(
    config.routes.map((r) => ({ id: r.id, mode: r.mode, weight: r.mode === 'service' ? 100 : r.mode === 'canary' ? r.weight : 0 })),
    actor,
  );
}

export async function withStore<T>(
  io: CliIO,
  configFile: string | undefined,
  fn: (ctx: { config: Readonly<Config>; store: Store }) => Promise<T>,
): Promise<T> {
  const config = loadConfig(configPath(io, configFile));
  const store = await openStore(config.store);
  try {
    await seedFromConfig(store, config);
    return await fn({ config, store });
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
