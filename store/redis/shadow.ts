import { MAX_FIELD_EXAMPLES, newestPerField } from '../field-examples.js';
import { MAX_MISMATCH_SETS } from '../mismatch-sets.js';
import { LATENCY_RESERVOIR, SAMPLE_RING } from '../shadow-bounds.js';
import type { ShadowBatch, ShadowEvidence, ShadowStore } from '../types.js';
import { type RedisContext, execResults } from './client.js';

/**
 * Merge mismatch-set counts with store/mismatch-sets.ts's bound (mergeMismatchSets, in Lua): a set not seen yet
 * gets its own field while the hash holds fewer than MAX sets, else it is
 * pooled under '*'. In Lua so two proxies cannot both add the 1000th set.
 * KEYS: the sets hash. ARGV: MAX, then set, count pairs.
 */
const MERGE_SETS_LUA = `
local size = redis.call('HLEN', KEYS[1])
local max = tonumber(ARGV[1])
for i = 2, #ARGV, 2 do
  local k, v = ARGV[i], tonumber(ARGV[i + 1])
  if redis.call('HEXISTS', KEYS[1], k) == 1 then redis.call('HINCRBY', KEYS[1], k, v)
  elseif size < max or k == '*' then
    redis.call('HINCRBY', KEYS[1], k, v)
    size = size + 1
  else redis.call('HINCRBY', KEYS[1], '*', v) end
end
return size
`;

/**
 * Keep the newest example per field (store/field-examples.ts): replace a
 * field's example, add a new field only while the hash holds fewer than MAX.
 * In Lua so two proxies cannot both add the last allowed field.
 * KEYS: the examples hash. ARGV: MAX, then field, sample JSON pairs.
 */
const KEEP_EXAMPLES_LUA = `
local size = redis.call('HLEN', KEYS[1])
local max = tonumber(ARGV[1])
for i = 2, #ARGV, 2 do
  if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 1 then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  elseif size < max then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    size = size + 1
  end
end
return size
`;

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
      mismatchSets: k('mismatch-sets'),
      latLegacy: k('latency-legacy'),
      latService: k('latency-service'),
      samples: k('samples'),
      fieldExamples: k('field-examples'),
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
      const sets = Object.entries(b.mismatchSets ?? {});
      // Plain EVAL, not a cached script: EVALSHA inside MULTI cannot fall back on NOSCRIPT.
      if (sets.length)
        m.eval(MERGE_SETS_LUA, 1, k.mismatchSets, MAX_MISMATCH_SETS, ...sets.flat().map(String));
      if (b.latency.legacy.length) {
        m.rpush(k.latLegacy, ...b.latency.legacy.map(String));
        m.ltrim(k.latLegacy, -LATENCY_RESERVOIR, -1);
      }
      if (b.latency.service.length) {
        m.rpush(k.latService, ...b.latency.service.map(String));
        m.ltrim(k.latService, -LATENCY_RESERVOIR, -1);
      }
      const ring = b.sampleRing ?? SAMPLE_RING;
      if (b.samples.length) {
        m.rpush(k.samples, ...b.samples.slice(-ring).map((s) => JSON.stringify(s)));
        m.ltrim(k.samples, -ring, -1);
      }
      const examples = [...newestPerField(b.samples)].flatMap(([f, sample]) => [f, JSON.stringify(sample)]);
      if (examples.length) m.eval(KEEP_EXAMPLES_LUA, 1, k.fieldExamples, MAX_FIELD_EXAMPLES, ...examples);
      execResults(await m.exec());
    });
  }

  async evidence(route: string, opts: { fieldExamples?: boolean } = {}): Promise<ShadowEvidence> {
    const k = this.keys(route);
    return this.ctx.run(`read shadow evidence for ${route}`, async (redis) => {
      // MULTI so the counters, maps and samples are one consistent snapshot.
      const multi = redis
        .multi()
        .hgetall(k.counters)
        .hgetall(k.skipped)
        .hgetall(k.fieldDiffs)
        .hgetall(k.fieldNoise)
        .hgetall(k.mismatchSets)
        .lrange(k.latLegacy, 0, -1)
        .lrange(k.latService, 0, -1)
        .lrange(k.samples, 0, -1);
      if (opts.fieldExamples) multi.hgetall(k.fieldExamples);
      const [
        counters,
        skipped,
        fieldDiffs,
        fieldNoise,
        mismatchSets,
        latLegacy,
        latService,
        samples,
        examples,
      ] = execResults(await multi.exec()) as [
        Record<string, string>,
        Record<string, string>,
        Record<string, string>,
        Record<string, string>,
        Record<string, string>,
        string[],
        string[],
        string[],
        Record<string, string> | undefined,
      ];
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
        mismatchSets: counts(mismatchSets),
        latency: { legacy: latLegacy.map(Number), service: latService.map(Number) },
        errors: { legacy: num(counters.errorsLegacy), service: num(counters.errorsService) },
        samples: samples.map((s) => JSON.parse(s)),
        // Sorted like the SQLite store's, so both answer the same evidence.
        ...(examples
          ? {
              fieldExamples: Object.fromEntries(
                Object.keys(examples)
                  .sort()
                  .map((f) => [f, JSON.parse(examples[f])]),
              ),
            }
          : {}),
      };
    });
  }

  async reset(route: string): Promise<void> {
    await this.ctx.run(`reset shadow evidence for ${route}`, (redis) =>
      redis.del(...Object.values(this.keys(route))),
    );
  }
}
