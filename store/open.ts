import { StranglerError } from '../core/errors.js';
import type { Store } from './types.js';

/**
 * Open the store a config names: `sqlite:PATH` (embedded default) or
 * `redis://HOST:PORT[/DB]`. Implementations are imported lazily so the CLI
 * does not load ioredis or the SQLite addon for commands that need neither.
 */
export async function openStore(url: string): Promise<Store> {
  if (url.startsWith('sqlite:')) {
    const { openSqliteStore } = await import('./sqlite/index.js');
    try {
      return openSqliteStore(url.slice('sqlite:'.length));
    } catch (err) {
      throw new StranglerError('STRANGLER_E_STORE', `cannot open ${url}: ${(err as Error).message}`, { cause: err });
    }
  }
  if (url.startsWith('redis://')) {
    const mod = (await import('./redis/index.js')) as { openRedisStore(url: string): Promise<Store> };
    return mod.openRedisStore(url);
  }
  throw new StranglerError('STRANGLER_E_CONFIG', `store: unsupported store URL "${url}"`);
}
