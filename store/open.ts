import { StranglerError } from '../core/errors.js';
import path from 'node:path';
import { lostMarkError, markedLostError, readSqliteMark } from './lost-mark.js';
import type { AuditRetention, Store } from './types.js';

export interface OpenStoreOptions {
  /**
   * Create a SQLite file that does not exist yet. Only `serve` and
   * `strangler seed` pass true: for every other command a missing file is an
   * error (STRANGLER_E_STORE_LOST), never a fresh empty database. Default true
   * for library callers and tests that build their own stores.
   */
  create?: boolean;
  /**
   * `strangler seed` only: create the SQLite file even though a lost mark
   * lies next to it. Without it, a missing file with a mark is
   * STRANGLER_E_STORE_LOST before anything is created (see lost-mark.ts).
   */
  clearLostMark?: boolean;
  audit?: AuditRetention;
}

/**
 * Open the store a config names: `sqlite:PATH` (embedded default) or
 * `redis://HOST:PORT[/DB]`. Implementations are imported lazily so the CLI
 * does not load ioredis or the SQLite addon for commands that need neither.
 * Any failure to open is STRANGLER_E_STORE (exit 5), naming the store.
 */
export async function openStore(url: string, opts: OpenStoreOptions = {}): Promise<Store> {
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length);
    const { openSqliteStore } = await import('./sqlite/index.js');
    const { existsSync } = await import('node:fs');
    if (opts.create === false && file !== ':memory:' && !existsSync(file)) {
      // A file a proxy saw vanish leaves a lost mark beside it: lost, not "not
      // created yet" (issue 29). Without one it was most likely never created
      // (issue 26: "lost" before the first serve) — but a directory removed
      // with its mark looks the same, so the message names both and never
      // suggests seeding over a lost store.
      const mark = readSqliteMark(path.resolve(file));
      if (mark) throw markedLostError(url, mark);
      throw new StranglerError(
        'STRANGLER_E_STORE_MISSING',
        `${url}: not created yet — run \`strangler serve\` or \`strangler seed\` (either creates it and seeds the routes from the config). If it existed and was removed, it is lost: restore the file from a backup instead`,
        { details: { store: url, state: 'missing' } },
      );
    }
    if (opts.create !== false && !opts.clearLostMark && file !== ':memory:' && !existsSync(file)) {
      const mark = readSqliteMark(path.resolve(file));
      if (mark) throw lostMarkError(url, mark);
    }
    try {
      return openSqliteStore(file, { create: opts.create ?? true, audit: opts.audit });
    } catch (err) {
      throw new StranglerError('STRANGLER_E_STORE', `cannot open ${url}: ${(err as Error).message}`, {
        cause: err,
        details: {
          store: url,
          ...((err as { code?: string }).code ? { cause: (err as { code: string }).code } : {}),
        },
      });
    }
  }
  if (url.startsWith('redis://')) {
    const mod = (await import('./redis/index.js')) as {
      openRedisStore(url: string, opts?: { audit?: AuditRetention }): Promise<Store>;
    };
    return mod.openRedisStore(url, { audit: opts.audit });
  }
  throw new StranglerError('STRANGLER_E_CONFIG', `store: unsupported store URL "${url}"`);
}
