import { randomUUID } from 'node:crypto';
import { StranglerError } from '../../core/errors.js';
import type {
  RouteDefinition,
  StoredDefinitions,
  UpstreamDefinitions,
} from '../../core/route-definitions.js';
import type { Mode, RouteChange, RouteSeed, RouteState } from '../../core/types.js';
import { staleDefinition } from '../definition-write.js';
import type { GenerationFloor } from '../generation.js';
import { wentBackReason } from '../generation.js';
import type { DefinitionWrite, RouteStore } from '../types.js';
import { type RedisContext, execResults, storeError } from './client.js';

// Route state, table version, audit entry and change notice in one script, so
// a flip is all-or-nothing and no reader sees a new mode without its audit
// row. The audit entry JSON is assembled by concatenation rather than
// cjson.decode/encode of the caller's details, which would turn [] into {}.
const STATE_LUA = `
local function state(h)
  return cjson.encode({id = h.id, mode = h.mode, weight = tonumber(h.weight), version = tonumber(h.version),
    updatedAt = h.updatedAt, actor = h.actor, reason = h.reason})
end
local function entry(at, actor, route, action, before, after, reason, details)
  local s = '{"at":' .. cjson.encode(at) .. ',"actor":' .. cjson.encode(actor) .. ',"route":' .. cjson.encode(route)
    .. ',"action":' .. cjson.encode(action) .. ',"before":' .. before .. ',"after":' .. after
    .. ',"reason":' .. cjson.encode(reason)
  if details ~= '' then s = s .. ',"details":' .. details end
  return s .. '}'
end
`;

/**
 * KEYS: route hash, table version, audit stream, audit seq, meta hash, audit-latest hash.
 * ARGV: route, mode, weight, actor, reason, now, expectVersion|'', action, details JSON|'', channel,
 *       store id this process opened, audit MAXLEN, the highest generation this process saw|''.
 * A store whose identity is not the one the caller opened (Redis restarted
 * empty, re-seeded since), or whose generation is below one the caller saw
 * (restored from an older snapshot: store/generation.ts), refuses the flip:
 * see StoreIntegrity.
 */
const FLIP_LUA = `${STATE_LUA}
if redis.call('HGET', KEYS[5], 'id') ~= ARGV[11] then return redis.error_reply('STORE_LOST') end
local gen = tonumber(redis.call('GET', KEYS[2]) or '0')
if ARGV[13] ~= '' and gen < tonumber(ARGV[13]) then return redis.error_reply('WENT_BACK ' .. gen) end
local cur = redis.call('HGETALL', KEYS[1])
if #cur == 0 then return redis.error_reply('UNKNOWN_ROUTE') end
local before = {}
for i = 1, #cur, 2 do before[cur[i]] = cur[i + 1] end
if ARGV[7] ~= '' and tonumber(ARGV[7]) ~= tonumber(before.version) then
  return redis.error_reply('STALE_VERSION ' .. before.version)
end
local version = tonumber(before.version) + 1
redis.call('HSET', KEYS[1], 'mode', ARGV[2], 'weight', ARGV[3], 'version', version, 'updatedAt', ARGV[6],
  'actor', ARGV[4], 'reason', ARGV[5])
local after = {id = before.id, mode = ARGV[2], weight = ARGV[3], version = version, updatedAt = ARGV[6],
  actor = ARGV[4], reason = ARGV[5]}
local tv = redis.call('INCR', KEYS[2])
local seq = redis.call('INCR', KEYS[4])
local sid = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[12], '*', 'seq', seq,
  'entry', entry(ARGV[6], ARGV[4], ARGV[1], ARGV[8], state(before), state(after), ARGV[5], ARGV[9]))
redis.call('HSET', KEYS[6], ARGV[1] .. '|' .. ARGV[8], sid)
redis.call('PUBLISH', ARGV[10], tv)
return {version, tv}
`;

/**
 * KEYS: routes set, table version, audit stream, audit seq, meta hash, audit-latest hash, upstreams,
 *       then one hash key per route.
 * ARGV: actor, now, reason, channel, store id this process saw ('' if none), new store id, audit MAXLEN,
 *       upstreams JSON ('' for none), then id, mode, weight, definition JSON ('' for none) per route.
 * Returns the store id. The first seed names the store; a store whose
 * identity vanished since this process saw it is lost, not re-seeded. A route
 * held without a definition (a store from before definitions lived there)
 * gets the config's, audited as definition.seed; so do missing upstreams.
 */
const SEED_LUA = `${STATE_LUA}
local id = redis.call('HGET', KEYS[5], 'id')
if not id then
  if ARGV[5] ~= '' then return redis.error_reply('STORE_LOST') end
  id = ARGV[6]
  redis.call('HSET', KEYS[5], 'id', id, 'createdAt', ARGV[2])
elseif ARGV[5] ~= '' and id ~= ARGV[5] then return redis.error_reply('STORE_LOST') end
local added = 0
local function audit(route, action, before, after, reason, details)
  local seq = redis.call('INCR', KEYS[4])
  local sid = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[7], '*', 'seq', seq,
    'entry', entry(ARGV[2], ARGV[1], route, action, before, after, reason, details))
  if route ~= cjson.null then redis.call('HSET', KEYS[6], route .. '|' .. action, sid) end
  added = added + 1
end
for i = 8, #KEYS do
  local a = 9 + (i - 8) * 4
  local def = ARGV[a + 3]
  if redis.call('EXISTS', KEYS[i]) == 0 then
    local h = {id = ARGV[a], mode = ARGV[a + 1], weight = ARGV[a + 2], version = '1', updatedAt = ARGV[2],
      actor = ARGV[1], reason = ARGV[3]}
    redis.call('HSET', KEYS[i], 'id', h.id, 'mode', h.mode, 'weight', h.weight, 'version', 1,
      'updatedAt', h.updatedAt, 'actor', h.actor, 'reason', h.reason)
    if def ~= '' then redis.call('HSET', KEYS[i], 'definition', def) end
    redis.call('SADD', KEYS[1], h.id)
    audit(h.id, 'seed', 'null', state(h), ARGV[3], def ~= '' and ('{"definition":' .. def .. '}') or '')
  elseif def ~= '' and redis.call('HEXISTS', KEYS[i], 'definition') == 0 then
    redis.call('HSET', KEYS[i], 'definition', def)
    local cur = redis.call('HGETALL', KEYS[i])
    local h = {}
    for j = 1, #cur, 2 do h[cur[j]] = cur[j + 1] end
    audit(h.id, 'definition.seed', state(h), state(h),
      'definition seeded from config into a store that held only its mode', '{"definition":' .. def .. '}')
  end
end
if ARGV[8] ~= '' and redis.call('EXISTS', KEYS[7]) == 0 then
  redis.call('SET', KEYS[7], ARGV[8])
  audit(cjson.null, 'upstreams.seed', 'null', 'null', 'upstreams seeded from config', '{"upstreams":' .. ARGV[8] .. '}')
end
if added > 0 then
  local tv = redis.call('INCR', KEYS[2])
  redis.call('PUBLISH', ARGV[4], tv)
end
return id
`;

/**
 * KEYS: routes set, table version, audit stream, audit seq, meta hash, audit-latest hash, upstreams,
 *       then one hash key per route of the plan.
 * ARGV: actor, reason, now, channel, store id this process opened, audit MAXLEN,
 *       upstreams expected JSON ('' when the plan leaves them), upstreams next JSON, upstreams details JSON,
 *       the highest generation this process has seen ('' if none),
 *       then id, op, definition JSON, mode, weight, expected version, details JSON per route.
 * Every check runs before any write: a stale plan changes nothing.
 */
const APPLY_LUA = `${STATE_LUA}
if redis.call('HGET', KEYS[5], 'id') ~= ARGV[5] then return redis.error_reply('STORE_LOST') end
local gen = tonumber(redis.call('GET', KEYS[2]) or '0')
if ARGV[10] ~= '' and gen < tonumber(ARGV[10]) then return redis.error_reply('WENT_BACK ' .. gen) end
local n = #KEYS - 7
local function hash(key)
  local cur = redis.call('HGETALL', key)
  if #cur == 0 then return nil end
  local h = {}
  for j = 1, #cur, 2 do h[cur[j]] = cur[j + 1] end
  return h
end
for i = 1, n do
  local a = 11 + (i - 1) * 7
  local v = redis.call('HGET', KEYS[7 + i], 'version')
  if ARGV[a + 1] == 'add' then
    if v then return redis.error_reply('STALE_DEFINITION ' .. ARGV[a] .. ' ' .. v) end
  elseif (not v) or tonumber(v) ~= tonumber(ARGV[a + 5]) then
    return redis.error_reply('STALE_DEFINITION ' .. ARGV[a] .. ' ' .. (v or 'absent'))
  end
end
if ARGV[7] ~= '' and (redis.call('GET', KEYS[7]) or 'null') ~= ARGV[7] then
  return redis.error_reply('STALE_DEFINITION upstreams')
end
local function audit(route, action, before, after, details)
  local seq = redis.call('INCR', KEYS[4])
  local sid = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[6], '*', 'seq', seq,
    'entry', entry(ARGV[3], ARGV[1], route, action, before, after, ARGV[2], details))
  if route ~= cjson.null then redis.call('HSET', KEYS[6], route .. '|' .. action, sid) end
end
for i = 1, n do
  local a = 11 + (i - 1) * 7
  local key = KEYS[7 + i]
  local before = hash(key)
  if ARGV[a + 1] == 'remove' then
    redis.call('DEL', key)
    redis.call('SREM', KEYS[1], ARGV[a])
  elseif ARGV[a + 1] == 'add' then
    redis.call('HSET', key, 'id', ARGV[a], 'mode', ARGV[a + 3], 'weight', ARGV[a + 4], 'version', 1,
      'updatedAt', ARGV[3], 'actor', ARGV[1], 'reason', ARGV[2], 'definition', ARGV[a + 2])
    redis.call('SADD', KEYS[1], ARGV[a])
  else
    redis.call('HSET', key, 'definition', ARGV[a + 2], 'version', tonumber(before.version) + 1,
      'updatedAt', ARGV[3], 'actor', ARGV[1], 'reason', ARGV[2])
  end
  local after = hash(key)
  audit(ARGV[a], 'apply', before and state(before) or 'null', after and state(after) or 'null', ARGV[a + 6])
end
if ARGV[7] ~= '' then
  redis.call('SET', KEYS[7], ARGV[8])
  audit(cjson.null, 'apply.upstreams', 'null', 'null', ARGV[9])
end
local tv = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[4], tv)
return tv
`;

/**
 * KEYS: table version, audit stream, audit seq, meta hash.
 * ARGV: store id this process opened, highest generation seen, actor, reason, now, channel, audit MAXLEN.
 * \`strangler seed --accept-restore\`: raise the generation above the highest
 * seen and record both in one audit row, then announce it.
 */
const ACCEPT_RESTORE_LUA = `
if redis.call('HGET', KEYS[4], 'id') ~= ARGV[1] then return redis.error_reply('STORE_LOST') end
local restored = tonumber(redis.call('GET', KEYS[1]) or '0')
local nextGen = math.max(restored, tonumber(ARGV[2])) + 1
redis.call('SET', KEYS[1], nextGen)
local details = '{"restoredGeneration":' .. restored .. ',"highestSeen":' .. ARGV[2] .. ',"generation":' .. nextGen .. '}'
local e = '{"at":' .. cjson.encode(ARGV[5]) .. ',"actor":' .. cjson.encode(ARGV[3]) .. ',"route":null'
  .. ',"action":"store.restore-accepted","before":null,"after":null,"reason":' .. cjson.encode(ARGV[4])
  .. ',"details":' .. details .. '}'
local seq = redis.call('INCR', KEYS[3])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[7], '*', 'seq', seq, 'entry', e)
redis.call('PUBLISH', ARGV[6], nextGen)
return nextGen
`;

type ScriptRedis = {
  stranglerAcceptRestore(...args: Array<string | number>): Promise<number>;
  stranglerFlip(...args: Array<string | number>): Promise<[number, number]>;
  stranglerSeed(numKeys: number, ...args: Array<string | number>): Promise<string>;
  stranglerApply(numKeys: number, ...args: Array<string | number>): Promise<number>;
};

export function defineRouteScripts(ctx: RedisContext): void {
  // defineCommand sends EVALSHA and falls back to EVAL on NOSCRIPT, which is
  // what a restarted Redis (empty script cache) answers.
  ctx.redis.defineCommand('stranglerFlip', { numberOfKeys: 6, lua: FLIP_LUA });
  ctx.redis.defineCommand('stranglerSeed', { lua: SEED_LUA });
  ctx.redis.defineCommand('stranglerApply', { lua: APPLY_LUA });
  ctx.redis.defineCommand('stranglerAcceptRestore', { numberOfKeys: 4, lua: ACCEPT_RESTORE_LUA });
}

const fromHash = (h: Record<string, string>): RouteState => ({
  id: h.id,
  mode: h.mode as Mode,
  weight: Number(h.weight),
  version: Number(h.version),
  updatedAt: h.updatedAt,
  actor: h.actor,
  reason: h.reason,
});

/** The store identity this process opened (or named by its first seed); see StoreIntegrity. */
export interface IdentityHolder {
  seen: string | undefined;
  /** The highest generation this process has seen (store/generation.ts). */
  floor: GenerationFloor;
  lost(reason: string, wentBack?: { from: number; to: number }): StranglerError;
}

export class RedisRouteStore implements RouteStore {
  constructor(
    private readonly ctx: RedisContext,
    private readonly identity: IdentityHolder,
    private readonly auditMaxRows: number,
  ) {}

  private routeKey(id: string): string {
    return this.ctx.key('route', id);
  }

  private get scripts(): ScriptRedis {
    return this.ctx.redis as unknown as ScriptRedis;
  }

  /** The keys every route-definition script starts with (SEED_LUA, APPLY_LUA). */
  private definitionKeys(): string[] {
    return [
      this.ctx.key('routes'),
      this.ctx.key('table-version'),
      this.ctx.key('audit'),
      this.ctx.key('audit-seq'),
      this.ctx.key('meta'),
      this.ctx.key('audit-latest'),
      this.ctx.key('upstreams'),
    ];
  }

  async seed(routes: RouteSeed[], actor: string, upstreams?: UpstreamDefinitions): Promise<RouteState[]> {
    const keys = [...this.definitionKeys(), ...routes.map((r) => this.routeKey(r.id))];
    const args = [
      actor,
      new Date().toISOString(),
      'seeded from config',
      this.ctx.channel,
      this.identity.seen ?? '',
      randomUUID(),
      String(this.auditMaxRows),
      upstreams ? JSON.stringify(upstreams) : '',
    ];
    for (const r of routes)
      args.push(r.id, r.mode, String(r.weight), r.definition ? JSON.stringify(r.definition) : '');
    try {
      this.identity.seen = await this.ctx.run('seed', () =>
        this.scripts.stranglerSeed(keys.length, ...keys, ...args),
      );
    } catch (err) {
      if (/STORE_LOST/.test((err as Error)?.message ?? ''))
        throw this.identity.lost('its identity vanished since this process opened it');
      throw err;
    }
    return this.list();
  }

  async list(): Promise<RouteState[]> {
    return this.ctx.run('list routes', async (redis) => {
      const ids = (await redis.smembers(this.ctx.key('routes'))).sort();
      if (!ids.length) return [];
      const m = redis.multi();
      for (const id of ids) m.hgetall(this.routeKey(id));
      return (execResults(await m.exec()) as Record<string, string>[]).filter((h) => h.id).map(fromHash);
    });
  }

  async definitions(): Promise<StoredDefinitions> {
    return this.ctx.run('read route definitions', async (redis) => {
      const ids = (await redis.smembers(this.ctx.key('routes'))).sort();
      const m = redis.multi();
      for (const id of ids) m.hget(this.routeKey(id), 'definition');
      m.get(this.ctx.key('upstreams'));
      const out = execResults(await m.exec()) as Array<string | null>;
      const upstreams = out.pop();
      const routes: Record<string, RouteDefinition> = {};
      ids.forEach((id, i) => {
        if (out[i]) routes[id] = JSON.parse(out[i]!) as RouteDefinition;
      });
      return { routes, upstreams: upstreams ? (JSON.parse(upstreams) as UpstreamDefinitions) : undefined };
    });
  }

  async applyDefinitions(write: DefinitionWrite): Promise<number> {
    const keys = [...this.definitionKeys(), ...write.routes.map((r) => this.routeKey(r.id))];
    const args: string[] = [
      write.actor,
      write.reason,
      new Date().toISOString(),
      this.ctx.channel,
      this.identity.seen ?? '',
      String(this.auditMaxRows),
      write.upstreams ? JSON.stringify(write.upstreams.expect) : '',
      write.upstreams ? JSON.stringify(write.upstreams.next) : '',
      write.upstreams ? JSON.stringify(write.upstreams.details) : '',
      String(this.identity.floor.get() ?? ''),
    ];
    for (const r of write.routes)
      args.push(
        r.id,
        r.op,
        JSON.stringify(r.definition),
        r.mode,
        String(r.weight),
        r.expectVersion === undefined ? '' : String(r.expectVersion),
        JSON.stringify(r.details),
      );
    let generation: number;
    try {
      generation = Number(await this.scripts.stranglerApply(keys.length, ...keys, ...args));
    } catch (err) {
      const msg = (err as Error)?.message ?? '';
      const back = /WENT_BACK (\d+)/.exec(msg);
      const highest = this.identity.floor.get();
      if (back && highest !== undefined)
        throw this.identity.lost(wentBackReason(highest, Number(back[1])), {
          from: highest,
          to: Number(back[1]),
        });
      if (/STORE_LOST/.test(msg))
        throw this.identity.lost(
          this.identity.seen ? 'its identity is gone or changed' : 'no strangler state here yet',
        );
      const stale = /STALE_DEFINITION (\S+)(?: (\S+))?/.exec(msg);
      if (stale) {
        const expected = write.routes.find((r) => r.id === stale[1])?.expectVersion;
        throw staleDefinition(
          stale[1],
          expected,
          stale[2] && stale[2] !== 'absent' ? Number(stale[2]) : undefined,
        );
      }
      throw storeError(this.ctx.target, 'apply refused, nothing changed:', err);
    }
    this.identity.floor.observe(generation);
    return generation;
  }

  async get(id: string): Promise<RouteState | undefined> {
    return this.ctx.run('get route', async (redis) => {
      const h = await redis.hgetall(this.routeKey(id));
      return h.id ? fromHash(h) : undefined;
    });
  }

  async flip(change: RouteChange): Promise<RouteState> {
    const now = new Date().toISOString();
    let result: [number, number];
    try {
      result = await this.scripts.stranglerFlip(
        this.routeKey(change.route),
        this.ctx.key('table-version'),
        this.ctx.key('audit'),
        this.ctx.key('audit-seq'),
        this.ctx.key('meta'),
        this.ctx.key('audit-latest'),
        change.route,
        change.mode,
        String(change.weight),
        change.actor,
        change.reason,
        now,
        change.expectVersion === undefined ? '' : String(change.expectVersion),
        change.action ?? 'flip',
        change.details ? JSON.stringify(change.details) : '',
        this.ctx.channel,
        this.identity.seen ?? '',
        String(this.auditMaxRows),
        String(this.identity.floor.get() ?? ''),
      );
    } catch (err) {
      const msg = (err as Error)?.message ?? '';
      const back = /WENT_BACK (\d+)/.exec(msg);
      const highest = this.identity.floor.get();
      if (back && highest !== undefined)
        throw this.identity.lost(wentBackReason(highest, Number(back[1])), {
          from: highest,
          to: Number(back[1]),
        });
      if (/STORE_LOST/.test(msg))
        throw this.identity.lost(
          this.identity.seen ? 'its identity is gone or changed' : 'no strangler state here yet',
        );
      if (/UNKNOWN_ROUTE/.test(msg))
        throw new StranglerError('STRANGLER_E_UNKNOWN_ROUTE', `no route "${change.route}" in the store`, {
          details: { route: change.route },
        });
      const stale = /STALE_VERSION (\d+)/.exec(msg);
      if (stale)
        throw new StranglerError(
          'STRANGLER_E_STALE_VERSION',
          `route "${change.route}" is at version ${stale[1]}, not ${change.expectVersion}; nothing changed`,
          { details: { route: change.route, expected: change.expectVersion, actual: Number(stale[1]) } },
        );
      // The script is atomic: Redis ran all of it or none. Unless the command
      // was sent and its reply timed out, it certainly did not run.
      const unknown = /timed? ?out/i.test(msg);
      throw storeError(
        this.ctx.target,
        unknown
          ? `flip of "${change.route}" got no reply in time; it may or may not be applied (check \`strangler routes\`):`
          : `flip of "${change.route}" refused, nothing changed:`,
        err,
      );
    }
    this.identity.floor.observe(Number(result[1]));
    return {
      id: change.route,
      mode: change.mode,
      weight: change.weight,
      version: Number(result[0]),
      updatedAt: now,
      actor: change.actor,
      reason: change.reason,
    };
  }

  async acceptRestore(req: { highestSeen: number; actor: string; reason: string }): Promise<number> {
    let generation: number;
    try {
      generation = Number(
        await this.ctx.run('accept restore', () =>
          this.scripts.stranglerAcceptRestore(
            this.ctx.key('table-version'),
            this.ctx.key('audit'),
            this.ctx.key('audit-seq'),
            this.ctx.key('meta'),
            this.identity.seen ?? '',
            String(req.highestSeen),
            req.actor,
            req.reason,
            new Date().toISOString(),
            this.ctx.channel,
            String(this.auditMaxRows),
          ),
        ),
      );
    } catch (err) {
      if (/STORE_LOST/.test((err as Error)?.message ?? ''))
        throw this.identity.lost('its identity is gone or changed since this process opened it');
      throw err;
    }
    this.identity.floor.observe(generation);
    return generation;
  }

  async tableVersion(): Promise<number> {
    return this.ctx.run('read table version', async (redis) =>
      Number((await redis.get(this.ctx.key('table-version'))) ?? 0),
    );
  }
}
