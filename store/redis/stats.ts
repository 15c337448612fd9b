import type { Target } from '../../core/types.js';
import type { StatsStore, StatsWindow } from '../types.js';
import { type RedisContext, execResults } from './client.js';

/**
 * Windows older than this are dropped: Redis holds everything in memory, and
 * the guard and reports look back minutes to hours, not weeks.
 */
export const STATS_RETENTION_MS = 7 * 24 * 3600 * 1000;

interface WindowId {
  route: string;
  target: Target;
  instance: string;
  start: number;
  /** Absent in index entries written before proxies recorded the route version. */
  version?: number;
}

/**
 * One hash per (route, target, instance, start, version) window, merged with HINCRBY so
 * a second flush of the same window adds to it; a sorted set by start indexes
 * them for range queries.
 */
export class RedisStatsStore implements StatsStore {
  constructor(private readonly ctx: RedisContext) {}

  private windowKey(w: WindowId): string {
    const parts = [w.route, w.target, w.instance, String(w.start)];
    // Version-less windows keep the key they were written under before versions were recorded.
    if (w.version !== undefined) parts.push(`v${w.version}`);
    return this.ctx.key('stats', ...parts);
  }

  async add(windows: StatsWindow[]): Promise<void> {
    if (!windows.length) return;
    await this.ctx.run('add stats windows', async (redis) => {
      const m = redis.multi();
      const index = this.ctx.key('stats-index');
      for (const w of windows) {
        const key = this.windowKey(w);
        m.hset(key, 'durationMs', w.durationMs);
        m.hincrby(key, 'requests', w.requests);
        m.hincrby(key, 'errors', w.errors);
        m.hincrby(key, 'failovers', w.failovers);
        w.buckets.forEach((n, i) => {
          m.hincrby(key, `b${i}`, n);
        });
        m.pexpireat(key, w.start + STATS_RETENTION_MS);
        const id: WindowId = { route: w.route, target: w.target, instance: w.instance, start: w.start };
        if (w.version !== undefined) id.version = w.version;
        m.zadd(index, w.start, JSON.stringify(id));
      }
      m.zremrangebyscore(index, '-inf', `(${Date.now() - STATS_RETENTION_MS}`);
      execResults(await m.exec());
    });
  }

  async query(q: { route?: string; since: number; target?: Target }): Promise<StatsWindow[]> {
    return this.ctx.run('query stats windows', async (redis) => {
      const ids = (await redis.zrangebyscore(this.ctx.key('stats-index'), q.since, '+inf'))
        .map((s) => JSON.parse(s) as WindowId)
        .filter((w) => (!q.route || w.route === q.route) && (!q.target || w.target === q.target));
      if (!ids.length) return [];
      const m = redis.multi();
      for (const id of ids) m.hgetall(this.windowKey(id));
      const hashes = execResults(await m.exec()) as Record<string, string>[];
      const out: StatsWindow[] = [];
      ids.forEach((id, i) => {
        const h = hashes[i];
        if (!h.requests) return; // expired between the two reads
        const buckets: number[] = [];
        for (const [f, v] of Object.entries(h)) if (/^b\d+$/.test(f)) buckets[Number(f.slice(1))] = Number(v);
        for (let j = 0; j < buckets.length; j++) buckets[j] ??= 0;
        out.push({
          ...id,
          durationMs: Number(h.durationMs),
          requests: Number(h.requests),
          errors: Number(h.errors),
          failovers: Number(h.failovers),
          buckets,
        });
      });
      const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
      return out.sort(
        (a, b) =>
          a.start - b.start ||
          cmp(a.route, b.route) ||
          cmp(a.target, b.target) ||
          cmp(a.instance, b.instance) ||
          (a.version ?? -1) - (b.version ?? -1),
      );
    });
  }
}
