import type { Redis, RedisOptions } from 'ioredis';
import { StranglerError } from '../../core/errors.js';

/** What a `redis://HOST:PORT[/DB][?prefix=P]` store URL names. */
export interface RedisTarget {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  /** Every key and the change channel start with this; default `strangler:`. */
  prefix: string;
  /** The URL without credentials, for messages. */
  label: string;
}

export function parseRedisUrl(url: string): RedisTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new StranglerError(
      'STRANGLER_E_CONFIG',
      `store: "${url}" is not a URL; expected redis://HOST:PORT[/DB]`,
    );
  }
  if (u.protocol !== 'redis:')
    throw new StranglerError('STRANGLER_E_CONFIG', `store: "${url}": expected redis://HOST:PORT[/DB]`);
  const dbText = u.pathname.replace(/^\//, '');
  if (dbText !== '' && !/^\d{1,5}$/.test(dbText))
    throw new StranglerError(
      'STRANGLER_E_CONFIG',
      `store: "${url}": the path must be a database index, got "${dbText}"`,
    );
  const port = u.port ? Number(u.port) : 6379;
  const prefix = u.searchParams.get('prefix') ?? 'strangler:';
  if (!/^[A-Za-z0-9_.:{}-]+$/.test(prefix))
    throw new StranglerError(
      'STRANGLER_E_CONFIG',
      `store: "${url}": prefix may hold letters, digits and _ . : { } -`,
    );
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  return {
    host,
    port,
    db: dbText === '' ? 0 : Number(dbText),
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    prefix,
    label: `redis://${u.host}/${dbText || 0}`,
  };
}

/**
 * Connection options chosen for "keep serving while Redis is away": no
 * offline queue and a command timeout so every call fails fast instead of
 * hanging a flip or a table refresh; one retry per request; and a retry
 * strategy that never gives up reconnecting, capped at 500 ms between tries
 * so instances converge quickly once Redis is back.
 */
export function connectionOptions(t: RedisTarget, extra: RedisOptions = {}): RedisOptions {
  return {
    host: t.host,
    port: t.port,
    db: t.db,
    username: t.username,
    password: t.password,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 2000,
    connectTimeout: 2000,
    // A Redis that stopped answering never closes its side: destroy the
    // socket soon after ours is ended, so a failed CLI command exits at once.
    disconnectTimeout: 200,
    retryStrategy: (times: number) => Math.min(50 * times, 500),
    ...extra,
  };
}

/** Shared by the sub-stores: the command connection, key naming and error wrapping. */
export class RedisContext {
  constructor(
    readonly redis: Redis,
    readonly target: RedisTarget,
  ) {}

  key(...parts: string[]): string {
    return this.target.prefix + parts.join(':');
  }

  get channel(): string {
    return this.key('changes');
  }

  /** Run a store operation; any Redis failure becomes STRANGLER_E_STORE naming the operation. */
  async run<T>(op: string, fn: (redis: Redis) => Promise<T>): Promise<T> {
    try {
      return await fn(this.redis);
    } catch (err) {
      if (err instanceof StranglerError) throw err;
      throw storeError(this.target, op, err);
    }
  }
}

/** `op` reads as "<op> failed: <cause>", or as given when it already ends in a colon. */
export function storeError(t: RedisTarget, op: string, err: unknown): StranglerError {
  const what = op.endsWith(':') ? op : `${op} failed:`;
  return new StranglerError(
    'STRANGLER_E_STORE',
    `${t.label}: ${what} ${(err as Error)?.message ?? String(err)}`,
    {
      cause: err,
      details: { store: t.label, op },
    },
  );
}

/** exec() resolves to [err, result] pairs; surface the first error instead of a half-read result. */
export function execResults(res: Array<[Error | null, unknown]> | null): unknown[] {
  if (!res) throw new Error('transaction aborted');
  return res.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}
