import type { AuditEntry, AuditInput } from '../../core/types.js';
import type { AuditLog } from '../types.js';
import type { RedisContext } from './client.js';

/**
 * KEYS: audit stream, audit seq. ARGV: entry JSON (without seq).
 * The seq comes from an INCR in the same script as the XADD, so it is
 * gap-free and in stream order, like SQLite's AUTOINCREMENT.
 */
const APPEND_LUA = `
local seq = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[1], '*', 'seq', seq, 'entry', ARGV[1])
return seq
`;

type ScriptRedis = { stranglerAudit(...args: string[]): Promise<number> };

export function defineAuditScripts(ctx: RedisContext): void {
  ctx.redis.defineCommand('stranglerAudit', { numberOfKeys: 2, lua: APPEND_LUA });
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

/** The audit log as one Redis stream, append-only (no XDEL or XTRIM anywhere). */
export class RedisAuditLog implements AuditLog {
  constructor(private readonly ctx: RedisContext) {}

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
    const seq = await this.ctx.run('append audit', () =>
      (this.ctx.redis as unknown as ScriptRedis).stranglerAudit(
        this.ctx.key('audit'),
        this.ctx.key('audit-seq'),
        JSON.stringify(body),
      ),
    );
    return { ...e, at, seq: Number(seq) };
  }

  /** Newest last; the limit keeps the newest matching entries. */
  async list(q: { route?: string; limit?: number; action?: string } = {}): Promise<AuditEntry[]> {
    const limit = q.limit ?? 1000;
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
}
