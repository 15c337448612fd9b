import type { AuditEntry, AuditInput } from '../../core/types.js';
import type { AuditLog, AuditRetention } from '../types.js';
import type { RedisContext } from './client.js';

/**
 * KEYS: audit stream, audit seq, audit-latest hash.
 * ARGV: entry JSON (without seq), route|action ('' for none), MAXLEN, MINID ('' to skip the age trim).
 * The seq comes from an INCR in the same script as the XADD, so it is
 * gap-free and in stream order, like SQLite's AUTOINCREMENT. `MAXLEN ~`
 * trims whole macro-nodes, so it costs next to nothing per append; the
 * audit-latest hash keeps the newest entry id per route and action, which
 * `GET /routes` reads instead of scanning the stream.
 */
const APPEND_LUA = `
local seq = redis.call('INCR', KEYS[2])
local sid = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'seq', seq, 'entry', ARGV[1])
if ARGV[2] ~= '' then redis.call('HSET', KEYS[3], ARGV[2], sid) end
if ARGV[4] ~= '' then redis.call('XTRIM', KEYS[1], 'MINID', '~', ARGV[4]) end
return seq
`;

/** Age trim once every this many appends (an XTRIM MINID is cheap, but not free). */
const AGE_TRIM_EVERY = 256;

type ScriptRedis = { stranglerAudit(...args: string[]): Promise<number> };

export function defineAuditScripts(ctx: RedisContext): void {
  ctx.redis.defineCommand('stranglerAudit', { numberOfKeys: 3, lua: APPEND_LUA });
}

/** Fields of one stream entry: [seq, N, entry, JSON]. */
function fromFields(fields: string[]): AuditEntry {
  const f: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) f[fields[i]] = fields[i + 1];
  const e = JSON.parse(f.entry) as Omit<AuditEntry, 'seq'>;
  return {
    seq: Number(f.seq),
    at: e.at,
    actor: e.actor,
    route: e.route ?? null,
    action: e.action,
    before: e.before ?? null,
    after: e.after ?? null,
    reason: e.reason,
    ...(e.details ? { details: e.details } : {}),
  };
}

/** Page size when walking the stream backwards for a filtered query. */
const PAGE = 500;

/**
 * The audit log as one Redis stream: entries are never changed or deleted
 * one by one; retention trims the oldest (MAXLEN ~ on every append, MINID ~
 * by age now and then).
 */
export class RedisAuditLog implements AuditLog {
  private appended = 0;
  constructor(
    private readonly ctx: RedisContext,
    private readonly retention: AuditRetention,
  ) {}

  async append(e: AuditInput): Promise<AuditEntry> {
    const at = e.at ?? new Date().toISOString();
    const body = {
      at,
      actor: e.actor,
      route: e.route,
      action: e.action,
      before: e.before ?? null,
      after: e.after ?? null,
      reason: e.reason,
      ...(e.details ? { details: e.details } : {}),
    };
    // Stream ids start with the entry's epoch ms, so the age cut-off is a MINID.
    const minId = this.appended++ % AGE_TRIM_EVERY === 0 ? `${Date.now() - this.retention.maxAgeMs}-0` : '';
    const seq = await this.ctx.run('append audit', () =>
      (this.ctx.redis as unknown as ScriptRedis).stranglerAudit(
        this.ctx.key('audit'),
        this.ctx.key('audit-seq'),
        this.ctx.key('audit-latest'),
        JSON.stringify(body),
        e.route ? `${e.route}|${e.action}` : '',
        String(this.retention.maxRows),
        minId,
      ),
    );
    return { ...e, at, seq: Number(seq) };
  }

  /** Newest last; the limit keeps the newest matching entries. */
  async list(q: { route?: string; limit?: number; action?: string } = {}): Promise<AuditEntry[]> {
    const limit = q.limit ?? 1000;
    if (q.route && q.action && limit === 1) return this.latest(q.route, q.action);
    return this.ctx.run('list audit', async (redis) => {
      const out: AuditEntry[] = [];
      let end = '+';
      while (out.length < limit) {
        const filtered = Boolean(q.route || q.action);
        const page = await redis.xrevrange(this.ctx.key('audit'), end, '-', 'COUNT', filtered ? PAGE : limit);
        for (const [, fields] of page) {
          const e = fromFields(fields);
          if (q.route && e.route !== q.route) continue;
          if (q.action && e.action !== q.action) continue;
          out.push(e);
          if (out.length >= limit) break;
        }
        if (page.length < (filtered ? PAGE : limit)) break;
        // Exclusive start (Redis >= 6.2) so the last entry is not read twice.
        end = `(${page[page.length - 1][0]}`;
      }
      return out.reverse();
    });
  }

  /** The newest entry of one route and action: a hash lookup and one XRANGE, not a scan. */
  private latest(route: string, action: string): Promise<AuditEntry[]> {
    return this.ctx.run('list audit', async (redis) => {
      const id = await redis.hget(this.ctx.key('audit-latest'), `${route}|${action}`);
      if (!id) return [];
      // Gone when retention trimmed it: then there is no such row to show.
      return (await redis.xrange(this.ctx.key('audit'), id, id)).map(([, fields]) => fromFields(fields));
    });
  }
}
