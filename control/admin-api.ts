/**
 * The admin API: GET /routes, POST /routes/:id/flip, GET /metrics, GET /healthz,
 * GET /readyz, GET /livez, GET /history. Binds 127.0.0.1 unless configured otherwise. Every mutation
 * needs `Authorization: Bearer <token>`, compared in constant time; with no
 * token configured, mutations are refused outright (never open by default).
 * GET never mutates.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import FindMyWay from 'find-my-way';
import type { Config } from '../core/config.js';
import { StranglerError, isStranglerError } from '../core/errors.js';
import { bearerToken } from '../core/header-fields.js';
import { urlHost } from '../core/host-port.js';
import type { Logger } from '../core/log.js';
import type { RouteState } from '../core/types.js';
import { requireIntact } from '../store/integrity.js';
import type { Store } from '../store/types.js';
import { checkAdminHost } from './admin-host.js';
import { type Handler, registerConsoleApi } from './console-api.js';
import { flipRoute } from './flip.js';
import { defaultFlipSteps } from './flip-steps.js';
import { listRouteRows, servedRouteRows } from './routes.js';
import { storeHealth } from './store-health.js';

export interface AdminOptions {
  config: Readonly<Config>;
  store: Store;
  /** Bearer token; undefined → every mutation answers 403. */
  token: string | undefined;
  host: string;
  port: number;
  logger?: Logger;
  /** Prometheus text of the data plane, supplied by whoever runs the proxy. */
  metrics?: () => Promise<{ body: string; contentType: string }>;
  /** Live per-route facts from the data plane (breaker state...). */
  routeExtras?: () => Record<string, Record<string, string>>;
  /** The route states the data plane serves now (its last good table), for /routes while the store is lost. */
  servedStates?: () => RouteState[];
  /** Whether the data plane should get traffic (proxy/readiness.ts); absent → always ready. */
  readiness?: () => { ready: boolean; waiting: string[] };
  /** "config differs from the store (N routes)…" when this process's file differs from the store's definitions (store/live-config.ts). */
  configDrift?: () => string | undefined;
}

export interface AdminServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Hash both sides first so the comparison is constant-time whatever the lengths. */
export function tokenMatches(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: http.IncomingMessage, limit = 64 * 1024): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw new StranglerError('STRANGLER_E_BAD_REQUEST', `body: larger than ${limit} bytes`);
    chunks.push(c as Buffer);
  }
  if (size === 0) return {};
  try {
    const v = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch (err) {
    throw new StranglerError(
      'STRANGLER_E_BAD_REQUEST',
      `body: not a JSON object (${(err as Error).message})`,
    );
  }
}

function authorize(req: http.IncomingMessage, token: string | undefined): void {
  if (!token) throw new StranglerError('STRANGLER_E_ADMIN_DISABLED');
  const given = bearerToken(req.headers.authorization);
  if (given === undefined || !tokenMatches(given, token))
    throw new StranglerError('STRANGLER_E_UNAUTHORIZED');
}

function optionalInt(body: Record<string, unknown>, field: string): number | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw new StranglerError('STRANGLER_E_BAD_REQUEST', `${field}: expected a whole number`, {
      details: { field },
    });
  return v;
}

export async function startAdmin(opts: AdminOptions): Promise<AdminServer> {
  const router = FindMyWay({ ignoreTrailingSlash: true });
  // Every endpoint first checks that it was asked by this listener's own name (DNS
  // rebinding: /routes, /history and /metrics are as readable to a rebound page as the console's).
  const on = (method: 'GET' | 'POST', path: string, h: Handler) =>
    router.on(method, path, (req, res, params) => {
      (async () => {
        checkAdminHost(req);
        await h(req, res, params);
      })().catch((err: unknown) => {
        if (isStranglerError(err)) send(res, err.status, err.toJSON());
        else {
          opts.logger?.error({ err }, 'admin request failed');
          send(res, 500, new StranglerError('STRANGLER_E_INTERNAL').toJSON());
        }
      });
    });

  // 503 while the store is away, lost or failing writes: the proxy still
  // serves its last good table, but nothing can be changed.
  on('GET', '/healthz', async (_req, res) => {
    const health = await storeHealth(opts.store);
    // Informational: the store's definitions are served either way (issue 29).
    const drift = opts.configDrift?.();
    send(res, health.ok ? 200 : 503, drift ? { ...health, config: drift } : health);
  });
  // For load balancers and Kubernetes readinessProbe: 503 until the proxy
  // loaded its table and reached its upstreams, and again once it drains.
  on('GET', '/readyz', async (_req, res) => {
    const state = opts.readiness?.() ?? { ready: true, waiting: [] };
    send(res, state.ready ? 200 : 503, state);
  });
  // livenessProbe: the process answers. Deliberately nothing else: a store or
  // upstream outage must not get every replica restarted at once.
  on('GET', '/livez', async (_req, res) => {
    send(res, 200, { ok: true });
  });
  on('GET', '/routes', async (_req, res) => {
    const extras = opts.routeExtras?.() ?? {};
    // A lost store (emptied, replaced, gone back) answers nothing or older
    // modes: show the table this proxy serves, marked stale, with the reason.
    // (`serve --workers`: the primary serves no table itself; its store rows, still marked stale.)
    const lost = await lostReason(opts.store);
    if (lost !== undefined) {
      const rows = opts.servedStates
        ? servedRouteRows(opts.config, opts.servedStates())
        : await listRouteRows(opts.config, opts.store).catch(() => []);
      send(res, 200, {
        stale: true,
        reason: lost,
        routes: rows.map((r) => ({ ...r, extra: { ...(r.extra ?? {}), ...(extras[r.id] ?? {}) } })),
      });
      return;
    }
    const rows = await listRouteRows(opts.config, opts.store);
    const drift = opts.configDrift?.();
    send(res, 200, {
      routes: rows.map((r) => ({ ...r, extra: { ...(r.extra ?? {}), ...(extras[r.id] ?? {}) } })),
      ...(drift ? { configDrift: drift } : {}),
    });
  });
  on('GET', '/history', async (req, res) => {
    const q = new URL(req.url ?? '/', 'http://admin').searchParams;
    const limit = q.get('limit');
    if (limit !== null && !/^[1-9]\d{0,5}$/.test(limit))
      throw new StranglerError(
        'STRANGLER_E_BAD_REQUEST',
        `limit: expected a whole number 1..999999, got "${limit}"`,
        {
          details: { field: 'limit', value: limit },
        },
      );
    send(res, 200, {
      entries: await opts.store.audit.list({
        route: q.get('route') ?? undefined,
        limit: limit ? Number(limit) : 100,
      }),
    });
  });
  on('GET', '/metrics', async (_req, res) => {
    const m = (await opts.metrics?.()) ?? { body: '', contentType: 'text/plain; version=0.0.4' };
    res.writeHead(200, { 'content-type': m.contentType });
    res.end(m.body);
  });
  on('POST', '/routes/:id/flip', async (req, res, params) => {
    authorize(req, opts.token);
    const body = await readJson(req);
    if (typeof body.mode !== 'string')
      throw new StranglerError(
        'STRANGLER_E_BAD_REQUEST',
        'mode: required, one of legacy|shadow|canary|service',
        {
          details: { field: 'mode' },
        },
      );
    const actor = typeof body.actor === 'string' && body.actor ? `admin:${body.actor}` : 'admin';
    const result = await flipRoute(
      opts.store,
      opts.config,
      {
        route: params.id!,
        mode: body.mode,
        weight: optionalInt(body, 'weight'),
        expectVersion: optionalInt(body, 'expectVersion'),
        reason: typeof body.reason === 'string' ? body.reason : undefined,
        force: body.force === true,
        dryRun: body.dryRun === true,
        actor,
      },
      defaultFlipSteps(),
    );
    // 201 only when a new version was written; a dry run and a flip to the current mode create nothing.
    send(res, result.dryRun || result.unchanged ? 200 : 201, result);
  });

  // The operator console (/ui) and the read endpoints it needs: control/console-api.ts.
  const consoleApi = registerConsoleApi({
    config: opts.config,
    store: opts.store,
    token: opts.token,
    tokenEnv: opts.config.admin.tokenEnv,
    logger: opts.logger,
    metrics: opts.metrics,
    on,
    send,
    authorize: (req) => authorize(req, opts.token),
    readJson: (req) => readJson(req),
  });

  const server = http.createServer((req, res) => {
    router.lookup(req, res);
  });
  router.on(['GET', 'POST', 'PUT', 'DELETE', 'PATCH'], '*', (_req, res) =>
    send(res, 404, new StranglerError('STRANGLER_E_NOT_FOUND', 'no such admin endpoint').toJSON()),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = urlHost(opts.host);
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        consoleApi.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Why the store cannot be trusted now (requireIntact's message), or undefined while it can. */
async function lostReason(store: Store): Promise<string | undefined> {
  try {
    await requireIntact(store);
    return undefined;
  } catch (err) {
    if (isStranglerError(err) && err.code === 'STRANGLER_E_STORE_LOST') return err.message;
    throw err;
  }
}
