import type { RecordStore } from '../types.js';
import type { RedisContext } from './client.js';

/**
 * KEYS: the kind's hash. ARGV: key, expected rev, new value JSON.
 * A record is stored as `{"rev":N,"value":...}` in one hash field per key.
 */
const PUT_LUA = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local rev = 0
if cur then rev = cjson.decode(cur).rev end
if rev ~= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], '{"rev":' .. (rev + 1) .. ',"value":' .. ARGV[3] .. '}')
return 1
`;

type ScriptRedis = {
  stranglerRecordPut(key: string, field: string, rev: number, value: string): Promise<number>;
};

export function defineRecordScripts(ctx: RedisContext): void {
  ctx.redis.defineCommand('stranglerRecordPut', { numberOfKeys: 1, lua: PUT_LUA });
}

/** Records as one hash per kind; put is a compare-and-set in Lua. */
export class RedisRecordStore implements RecordStore {
  constructor(private readonly ctx: RedisContext) {}

  async get<T>(kind: string, key: string): Promise<{ value: T; rev: number } | undefined> {
    return this.ctx.run(`read ${kind} record`, async (redis) => {
      const raw = await redis.hget(this.ctx.key('records', kind), key);
      return raw ? (JSON.parse(raw) as { value: T; rev: number }) : undefined;
    });
  }

  async list<T>(kind: string): Promise<Array<{ key: string; value: T; rev: number }>> {
    return this.ctx.run(`list ${kind} records`, async (redis) => {
      const all = await redis.hgetall(this.ctx.key('records', kind));
      return Object.keys(all)
        .sort()
        .map((key) => ({ key, ...(JSON.parse(all[key]) as { value: T; rev: number }) }));
    });
  }

  async put(kind: string, key: string, value: unknown, expectRev: number): Promise<boolean> {
    return this.ctx.run(`write ${kind} record`, async (redis) => {
      const ok = await (redis as unknown as ScriptRedis).stranglerRecordPut(
        this.ctx.key('records', kind),
        key,
        expectRev,
        JSON.stringify(value),
      );
      return ok === 1;
    });
  }
}
