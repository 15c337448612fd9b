import type { ResultKind, ResultStore } from '../types.js';
import { type RedisContext, execResults } from './client.js';

type Kind = ResultKind;
interface Saved {
  key: string;
  at: string;
  value: unknown;
}

/** Results per kind as a newest-first list, plus a hash of the latest per key for latest(kind, key). */
export class RedisResultStore implements ResultStore {
  constructor(private readonly ctx: RedisContext) {}

  async put(kind: Kind, key: string, value: unknown): Promise<void> {
    const saved = JSON.stringify({ key, at: new Date().toISOString(), value });
    await this.ctx.run(`save ${kind} result`, async (redis) => {
      execResults(
        await redis
          .multi()
          .lpush(this.ctx.key('results', kind), saved)
          .hset(this.ctx.key('results', kind, 'latest'), key, saved)
          .exec(),
      );
    });
  }

  async latest(kind: Kind, key?: string): Promise<Saved | undefined> {
    return this.ctx.run(`read latest ${kind} result`, async (redis) => {
      const raw =
        key === undefined
          ? await redis.lindex(this.ctx.key('results', kind), 0)
          : await redis.hget(this.ctx.key('results', kind, 'latest'), key);
      return raw ? (JSON.parse(raw) as Saved) : undefined;
    });
  }

  async list(kind: Kind, limit = 100): Promise<Saved[]> {
    if (limit <= 0) return [];
    return this.ctx.run(`list ${kind} results`, async (redis) =>
      (await redis.lrange(this.ctx.key('results', kind), 0, limit - 1)).map((s) => JSON.parse(s) as Saved),
    );
  }
}
