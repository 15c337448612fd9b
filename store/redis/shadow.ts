import { LATENCY_RESERVOIR, SAMPLE_RING } from '../sqlite/shadow.js';
import type { ShadowBatch, ShadowEvidence, ShadowStore } from '../types.js';
import { type RedisContext, execResults } from './client.js';

/**
 * Shadow evidence per route as native Redis types so concurrent proxies merge
 * by increment, not read-modify-write: a counters hash, one hash per count
 * map, a capped list per latency reservoir and a capped sample list. Bounds
 * are the SQLite store's, so both backends answer the same evidence.
 */
export class RedisShadowStore implements ShadowStore {
  constructor(private readonly ctx: RedisContext) {}

  private keys(route: string) {
    const k = (part: string) => this.ctx.key('shadow', route, part);
    return {
      counters: k('counters'),
      skipped: k('skipped'),
      fieldDiffs: k('field-diffs'),
      fieldNoise: k('field-noise'),
      latLegacy: k('latency-legacy'),
      latService: k('latency-service'),
      samples: k('samples'),
    };
  }

  async record(route: string, b: ShadowBatch): Promise<void> {
    const k = this.keys(route);
    await this.ctx.run(`record shadow evidence for ${route}`, async (redis) => {
      const m = redis.multi();
      m.hincrby(k.counters, 'compared', b.compared);
      m.hincrby(k.counters, 'matched', b.matched);
      m.hincrby(k.counters, 'noisePairs', b.noisePairs);
      m.hincrby(k.counters, 'errorsLegacy', b.errors.legacy);
      m.hincrby(k.counters, 'errorsService', b.errors.service);
      for (const [field, n] of Object.entries(b.skipped)) m.hincrby(k.skipped, field, n);
      for (const [field, n] of Object.entries(b.fieldDiffs)) m.hincrby(k.fieldDiffs, field, n);
      for (const [field, n] of Object.entries(b.fieldNoise)) m.hincrby(k.fieldNoise, field, n);
      if (b.latency.legacy.length) {
        m.rpush(k.latLegacy, ...b.latency.legacy.map(String));
        m.ltrim(k.latLegacy, -LATENCY_RESERVOIR, -1);
      }
      if (b.latency.service.length) {
        m.rpush(k.latService, ...b.latency.service.map(String));
        m.ltrim(k.latService, -LATENCY_RESERVOIR, -1);
      }
      if (b.samples.length) {
        m.rpush(k.samples, ...b.samples.map((s) => JSON.stringify(s)));
        m.ltrim(k.samples, -SAMPLE_RING, -1);
      }
      execResults(await m.exec());
    });
  }

  async evidence(route: string): Promise<ShadowEvidence> {
    const k = this.keys(route);
    return this.ctx.run(`read shadow evidence for ${route}`, async (redis) => {
      // MULTI so the counters, maps and samples are one consistent snapshot.
      const [counters, skipped, fieldDiffs, fieldNoise, latLegacy, latService, samples] = execResults(
        await redis
          .multi()
          .hgetall(k.counters)
          .hgetall(k.skipped)
          .hgetall(k.fieldDiffs)
          .hgetall(k.fieldNoise)
          .lrange(k.latLegacy, 0, -1)
          .lrange(k.latService, 0, -1)
          .lrange(k.samples, 0, -1)
          .exec(),
      ) as [Record<string, string>, Record<string, string>, Record<string, string>, Record<string, string>, string[], string[], string[]];
      const num = (v: string | undefined) => Number(v ?? 0);
      const counts = (h: Record<string, string>) =>
        Object.fromEntries(Object.entries(h).map(([f, v]) => [f, Number(v)]));
      return {
        route,
        compared: num(counters.compared),
        matched: num(counters.matched),
        skipped: counts(skipped),
        fieldDiffs: counts(fieldDiffs),
        fieldNoise: counts(fieldNoise),
        noisePairs: num(counters.noisePairs),
        latency: { legacy: latLegacy.map(Number), service: latService.map(Number) },
        errors: { legacy: num(counters.errorsLegacy), service: num(counters.errorsService) },
        samples: samples.map((s) => JSON.parse(s)),
      };
    });
  }

  async reset(route: string): Promise<void> {
    await this.ctx.run(`reset shadow evidence for ${route}`, (redis) => redis.del(...Object.values(this.keys(route))));
  }
}
