import type { RecordedEntry, RecordingLimits, RecordingStore } from '../types.js';
import type { RedisContext } from './client.js';

/**
 * Append and trim in one script, so two proxies recording the same route never
 * leave it past its bounds. Each list item is `AT_MS JSON`; the bytes key holds
 * the sum of the JSON parts' lengths (UTF-8 bytes, as the SQLite store counts).
 * KEYS: cases list, bytes counter. ARGV: maxCases, maxBytes, cutoff (epoch ms), items...
 */
const ADD_LUA = `
local maxCases, maxBytes, cutoff = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local bytes = tonumber(redis.call('GET', KEYS[2]) or '0')
for i = 4, #ARGV do
  local item = ARGV[i]
  redis.call('RPUSH', KEYS[1], item)
  bytes = bytes + #item - string.find(item, ' ', 1, true)
end
local n = redis.call('LLEN', KEYS[1])
while n > 0 do
  local head = redis.call('LINDEX', KEYS[1], 0)
  local sp = string.find(head, ' ', 1, true)
  if n > maxCases or bytes > maxBytes or tonumber(string.sub(head, 1, sp - 1)) < cutoff then
    redis.call('LPOP', KEYS[1])
    bytes = bytes - (#head - sp)
    n = n - 1
  else
    break
  end
end
redis.call('SET', KEYS[2], bytes)
return n
`;

type ScriptRedis = {
  stranglerRecordingAdd(list: string, bytes: string, ...args: Array<string | number>): Promise<number>;
};

export function defineRecordingScripts(ctx: RedisContext): void {
  ctx.redis.defineCommand('stranglerRecordingAdd', { numberOfKeys: 2, lua: ADD_LUA });
}

/** A route's cases as one list (oldest at the head) and a byte counter. */
export class RedisRecordingStore implements RecordingStore {
  constructor(private readonly ctx: RedisContext) {}

  private keys(route: string) {
    return {
      cases: this.ctx.key('recording', route, 'cases'),
      bytes: this.ctx.key('recording', route, 'bytes'),
    };
  }

  async add(route: string, cases: RecordedEntry[], limits: RecordingLimits): Promise<void> {
    const k = this.keys(route);
    const items = cases.map((c) => `${Math.trunc(c.at)} ${JSON.stringify(c.value)}`);
    await this.ctx.run(`record cases for ${route}`, (redis) =>
      (redis as unknown as ScriptRedis).stranglerRecordingAdd(
        k.cases,
        k.bytes,
        limits.maxCases,
        limits.maxBytes,
        limits.now - limits.maxAgeMs,
        ...items,
      ),
    );
  }

  async list(route: string): Promise<RecordedEntry[]> {
    const items = await this.ctx.run(`read recorded cases of ${route}`, (redis) =>
      redis.lrange(this.keys(route).cases, 0, -1),
    );
    return items.map((item) => {
      const sp = item.indexOf(' ');
      return { at: Number(item.slice(0, sp)), value: JSON.parse(item.slice(sp + 1)) };
    });
  }

  async size(route: string): Promise<{ cases: number; bytes: number }> {
    const k = this.keys(route);
    const [cases, bytes] = await this.ctx.run(`read recording size of ${route}`, (redis) =>
      Promise.all([redis.llen(k.cases), redis.get(k.bytes)]),
    );
    return { cases, bytes: cases === 0 ? 0 : Number(bytes ?? 0) };
  }

  async reset(route: string): Promise<void> {
    const k = this.keys(route);
    await this.ctx.run(`reset recording of ${route}`, (redis) => redis.del(k.cases, k.bytes));
  }
}
