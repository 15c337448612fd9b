/**
 * The block-service's HTTP handler: the monolith's /api/block/* endpoints with
 * the same JSON shapes, status codes and error texts (examples/monolith/app.py),
 * plus fault injection for tests: a seeded failure rate, added latency, and a
 * deliberate difference for shadow tests.
 */
import type http from 'node:http';
import type { BlockStore } from './blocks.js';
import { nowIso } from './blocks.js';

export interface BlockServiceOptions {
  /** Fraction (0..1) of /api/block requests answered 500 instead. */
  failRate: number;
  /** Seed of the failure draw, so a test sees the same sequence every run. */
  seed: number;
  /** Added before every /api/block answer. */
  latencyMs: number;
  /**
   * Answer differently from the monolith on purpose: every /api/block JSON body
   * gains "served_by": "block-service"; GET /api/block/:user reports count + 1;
   * GET /api/block/:user/:other reports the opposite "blocked".
   */
  differ: boolean;
  /** One stderr line per request: `block-service: METHOD PATH STATUS t=EPOCH_MS` (when it answered). */
  accessLog?: boolean;
}

const MAX_ID = 2 ** 31 - 1;
const MAX_BODY_BYTES = 1024 * 1024;
const ID = /^[0-9]{1,9}$/;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

/** mulberry32: a tiny seeded PRNG; Math.random cannot be replayed. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function idParam(name: string, raw: string): number {
  if (!ID.test(raw))
    throw new HttpError(400, 'bad_request', `${name} id must be a positive integer, got "${raw}"`);
  return Number(raw);
}

function parseJsonObject(body: Buffer): Record<string, unknown> {
  if (body.length === 0) throw new HttpError(400, 'bad_request', 'body must be a JSON object');
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'bad_request', 'body is not valid JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new HttpError(400, 'bad_request', 'body must be a JSON object');
  return value as Record<string, unknown>;
}

function intField(body: Record<string, unknown>, name: string): number {
  const v = body[name];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_ID)
    throw new HttpError(400, 'bad_request', `field "${name}" must be an integer user id`);
  return v;
}

/**
 * The extraction point `block-check` (examples/monolith/block.py's
 * `block_check`): POST `{"args": [user_id], "kwargs": {}}` →
 * `{"result": {"blocked": [...], "blocked_by": [...]}}`, the monolith
 * function's own JSON answer (docs/extraction-points.md).
 */
function blockCheckPoint(store: BlockStore, body: Buffer): Answer {
  const call = parseJsonObject(body);
  const args = Array.isArray(call.args) ? call.args : [];
  const kwargs = (call.kwargs && typeof call.kwargs === 'object' ? call.kwargs : {}) as Record<
    string,
    unknown
  >;
  const user = intField({ user_id: args[0] ?? kwargs.user_id }, 'user_id');
  return {
    status: 200,
    body: { result: { blocked: store.listBlocked(user), blocked_by: store.blockedBy(user) } },
  };
}

/** Routes one request; mirrors app.py's block_* handlers check for check. */
function route(store: BlockStore, method: string, path: string, body: Buffer, differ: boolean): Answer {
  // app.py's patterns accept one trailing slash.
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  if (trimmed === '/healthz' && method === 'GET') return { status: 200, body: { status: 'ok' } };
  if (trimmed === '/internal/block-check' && method === 'POST') return blockCheckPoint(store, body);
  const seg = trimmed.split('/');
  const isList = seg.length === 4 && seg[1] === 'api' && seg[2] === 'block' && seg[3] !== '';
  const isPair = seg.length === 5 && seg[1] === 'api' && seg[2] === 'block' && seg[3] !== '' && seg[4] !== '';
  if (!isList && !isPair) throw new HttpError(404, 'not_found', `no route for ${method} ${path}`);

  const needUser = (id: number) => {
    if (!store.userExists(id)) throw new HttpError(404, 'not_found', `no user ${id}`);
  };

  if (isList && method === 'GET') {
    const user = idParam('user', seg[3]);
    needUser(user);
    const blocked = store.listBlocked(user);
    return {
      status: 200,
      body: { user, blocked, count: blocked.length + (differ ? 1 : 0), generated_at: nowIso() },
    };
  }
  if (isList && method === 'POST') {
    const user = idParam('user', seg[3]);
    needUser(user);
    const target = intField(parseJsonObject(body), 'target');
    if (target === user) throw new HttpError(400, 'bad_request', 'a user cannot block themselves');
    needUser(target);
    const { record, created } = store.block(user, target);
    return { status: created ? 201 : 200, body: { ...record } };
  }
  if (isPair && method === 'GET') {
    const user = idParam('user', seg[3]);
    const other = idParam('other', seg[4]);
    needUser(user);
    needUser(other);
    const blocked = store.isBlocked(user, other);
    return { status: 200, body: { user, other, blocked: differ ? !blocked : blocked } };
  }
  if (isPair && method === 'DELETE') {
    const user = idParam('user', seg[3]);
    const other = idParam('other', seg[4]);
    needUser(user);
    if (!store.unblock(user, other))
      throw new HttpError(404, 'not_found', `user ${user} has not blocked user ${other}`);
    return { status: 200, body: { user, other, removed: true } };
  }
  return {
    status: 405,
    body: { error: 'method_not_allowed', message: `${method} is not allowed on ${path}` },
    headers: { Allow: isList ? 'GET, POST' : 'DELETE, GET' },
  };
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(400, 'bad_request', `body larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The request listener; the caller owns the server and the store. */
export function createBlockHandler(
  store: BlockStore,
  options: BlockServiceOptions,
  /** True once shutdown began: answers then close their connection so the server can exit. */
  closing: () => boolean = () => false,
): http.RequestListener {
  const random = seededRandom(options.seed);
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://block-service');
    // app.py answers HEAD as GET without a body; Node drops HEAD bodies itself.
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    let answer: Answer;
    try {
      const body = await readBody(req);
      const isHealth = url.pathname === '/healthz';
      // One draw per non-health request, in arrival order: same seed, same sequence.
      if (!isHealth && options.failRate > 0 && random() < options.failRate) {
        answer = {
          status: 500,
          body: { error: 'injected_failure', message: `block-service --fail-rate ${options.failRate}` },
        };
      } else {
        answer = route(store, method, url.pathname, body, options.differ);
      }
      if (!isHealth && options.latencyMs > 0) await new Promise((r) => setTimeout(r, options.latencyMs));
    } catch (err) {
      answer =
        err instanceof HttpError
          ? { status: err.status, body: { error: err.code, message: err.message } }
          : {
              status: 500,
              body: { error: 'internal', message: `${(err as Error).name}: ${(err as Error).message}` },
            };
    }
    if (options.differ && url.pathname !== '/healthz') answer.body.served_by = 'block-service';
    const payload = Buffer.from(JSON.stringify(answer.body));
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': payload.length,
      Server: 'block-service/1.0',
      ...answer.headers,
    };
    const requestId = req.headers['x-request-id'];
    if (typeof requestId === 'string') headers['x-request-id'] = requestId;
    if (closing()) headers.Connection = 'close';
    if (res.destroyed) return;
    res.writeHead(answer.status, headers);
    res.end(payload);
    if (options.accessLog)
      process.stderr.write(`block-service: ${req.method} ${url.pathname} ${answer.status} t=${Date.now()}\n`);
  };
}
