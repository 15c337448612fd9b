/**
 * The admin endpoints the operator console (console/, served at /ui) needs
 * beyond GET /routes, POST /routes/:id/flip and GET /history. Read endpoints
 * never write; the rollout controls need the bearer token like every other
 * mutation (the console sends it as an Authorization header, never a cookie,
 * so a page on another origin cannot borrow it: no CSRF).
 *
 *   GET  /console/session              is a token configured; is the one sent valid
 *   GET  /console/traffic              unmatched share, failovers by reason, rate limits (from /metrics)
 *   GET  /console/plan                 the latest saved plan
 *   GET  /routes/:id/shadow            match rate after noise, top differing fields with an example pair each,
 *                                      learned noise, configured ignores, paired latency
 *   GET  /routes/:id/series            shadow match rate and paired latency over time; live traffic windows
 *   POST /routes/:id/rollout/:action   pause | resume | abort; `{ dryRun: true }` answers what it would do
 *   GET  /ui, /ui/:file                the console itself (control/console-assets.ts)
 *
 * On a loopback listener each refuses a Host that is not a loopback name, as
 * every admin endpoint does (admin-api.ts's `on`; control/admin-host.ts: DNS rebinding).
 */
import type http from 'node:http';
import type { Config, RouteConfig } from '../core/config.js';
import { StranglerError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Target } from '../core/types.js';
import { exampleSamples, summariseRoute } from '../shadow/evidence.js';
import { bucketQuantile, sumWindows } from '../store/stats-window.js';
import type { ShadowEvidence, ShadowSample, Store } from '../store/types.js';
import {
  type RolloutControl,
  abortRollout,
  checkRolloutControl,
  isActive,
  pauseRollout,
  readRollout,
  resumeRollout,
  parseSteps,
  rolloutStart,
  startRollout,
} from './canary.js';
import { parseDuration } from '../core/duration.js';
import { CONSOLE_HEADERS, loadConsoleAssets } from './console-assets.js';
import { parsePromText, sumBy } from './prom-text.js';
import { ShadowTimeline } from './shadow-timeline.js';

/** An admin endpoint (the admin API's and the console's, on one router). */
export type Handler = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  params: Record<string, string | undefined>,
) => Promise<void>;

export interface ConsoleApiDeps {
  config: Readonly<Config>;
  store: Store;
  token: string | undefined;
  tokenEnv: string;
  logger?: Logger;
  metrics?: () => Promise<{ body: string; contentType: string }>;
  on(method: 'GET' | 'POST', path: string, h: Handler): void;
  send(res: http.ServerResponse, status: number, body: unknown): void;
  /** Throws STRANGLER_E_ADMIN_DISABLED / STRANGLER_E_UNAUTHORIZED. */
  authorize(req: http.IncomingMessage): void;
  readJson(req: http.IncomingMessage): Promise<Record<string, unknown>>;
}

/** Bodies beyond this are cut for the side-by-side view (the store keeps up to route.shadow.maxBodyBytes). */
export const EXAMPLE_BODY_CHARS = 64 * 1024;
/** Live traffic windows shown on the route page. */
const SERIES_SPAN_MS = 60 * 60 * 1000;

function routeOf(config: Readonly<Config>, id: string | undefined): RouteConfig {
  const r = config.routes.find((x) => x.id === id);
  if (!r)
    throw new StranglerError('STRANGLER_E_UNKNOWN_ROUTE', `route: no route "${id}" in the config`, {
      details: { field: 'route', value: id },
    });
  return r;
}

export interface ExamplePair {
  field: string;
  /** The concrete differing path in this sample (`$.items[3].name`, `status`, `header:etag`, `body`). */
  path: string;
  kind: string;
  at: string;
  request: { method: string; url: string };
  primary: 'legacy' | 'service';
  legacy: { status: number; contentType: string; body: string; truncated: boolean };
  service: { status: number; contentType: string; body: string; truncated: boolean };
  /** Every difference of this sample, so the view can mark them all and this one most. */
  differences: ShadowSample['differences'];
}

function side(s: ShadowSample['legacy']) {
  const truncated = s.body.length > EXAMPLE_BODY_CHARS;
  return {
    status: s.status,
    contentType: s.headers['content-type'] ?? '',
    body: truncated ? s.body.slice(0, EXAMPLE_BODY_CHARS) : s.body,
    truncated,
  };
}

/** Each field's example pair (shadow/evidence.ts exampleSamples), with both bodies, for the side-by-side view. */
export function examplePairs(ev: ShadowEvidence, fields: readonly string[]): Record<string, ExamplePair> {
  const all = exampleSamples(ev);
  const out: Record<string, ExamplePair> = {};
  for (const field of fields) {
    const e = all.get(field);
    if (!e) continue;
    const s = e.sample;
    out[field] = {
      field,
      path: e.difference.path,
      kind: e.difference.kind,
      at: s.at,
      request: { method: s.request.method, url: s.request.url },
      primary: s.primary ?? 'legacy',
      legacy: side(s.legacy),
      service: side(s.service),
      differences: s.differences,
    };
  }
  return out;
}

interface LiveWindow {
  start: number;
  target: Target;
  requests: number;
  errors: number;
  failovers: number;
  p50: number | null;
  p99: number | null;
}

async function liveWindows(store: Store, route: string, since: number): Promise<LiveWindow[]> {
  const windows = await store.stats.query({ route, since });
  // Every proxy instance flushes its own window: sum those with the same start and target.
  const groups = new Map<string, typeof windows>();
  for (const w of windows) {
    const k = `${w.start}\0${w.target}`;
    groups.set(k, [...(groups.get(k) ?? []), w]);
  }
  return [...groups.values()]
    .map((ws) => {
      const t = sumWindows(ws);
      return {
        start: ws[0].start,
        target: ws[0].target,
        requests: t.requests,
        errors: t.errors,
        failovers: t.failovers,
        p50: bucketQuantile(t.buckets, 0.5) ?? null,
        p99: bucketQuantile(t.buckets, 0.99) ?? null,
      };
    })
    .sort((a, b) => a.start - b.start || (a.target < b.target ? -1 : 1));
}

/** What the data plane counts only as metrics, summed over the scrape (every worker with --workers). */
export function trafficFromMetrics(text: string) {
  const samples = parsePromText(text);
  const byRoute = sumBy(samples, 'strangler_requests_total', ['route']);
  const total = [...byRoute.values()].reduce((a, b) => a + b, 0);
  const unmatched = byRoute.get('(unmatched)') ?? 0;
  const nested = (name: string, by: [string, string]) => {
    const out: Record<string, Record<string, number>> = {};
    for (const [k, v] of sumBy(samples, name, by)) {
      const [a, b] = k.split('\0');
      out[a] = { ...(out[a] ?? {}), [b]: v };
    }
    return out;
  };
  return {
    requests: { total, unmatched, unmatchedShare: total > 0 ? unmatched / total : null },
    requestsByRoute: Object.fromEntries(byRoute),
    failovers: nested('strangler_failovers_total', ['route', 'reason']),
    rateLimited: nested('strangler_rate_limited_total', ['route', 'action']),
  };
}

export function registerConsoleApi(deps: ConsoleApiDeps): { close(): void } {
  const { config, store, send } = deps;
  // deps.on (admin-api.ts) checks the Host of every admin endpoint first (control/admin-host.ts).
  const on = deps.on;
  const assets = loadConsoleAssets();
  const timeline = new ShadowTimeline(store, config, deps.logger);
  timeline.start();

  on('GET', '/ui', async (_req, res) => {
    assets.serve('index.html', res);
  });
  on('GET', '/ui/:file', async (_req, res, params) => {
    if (assets.serve(params.file ?? '', res)) return;
    res.writeHead(404, { ...CONSOLE_HEADERS, 'content-type': 'text/plain; charset=utf-8' });
    res.end('no such console file\n');
  });

  on('GET', '/console/session', async (req, res) => {
    const configured = Boolean(deps.token);
    let authorized: boolean | null = null;
    if (configured && req.headers.authorization) {
      try {
        deps.authorize(req);
        authorized = true;
      } catch {
        authorized = false;
      }
    }
    send(res, 200, {
      mutations: configured,
      authorized,
      tokenEnv: deps.tokenEnv,
      reason: configured
        ? undefined
        : `read-only: the admin listener has no token (${deps.tokenEnv} was not set when it started), so it refuses every change`,
    });
  });

  on('GET', '/console/traffic', async (_req, res) => {
    let text = '';
    let unavailable: string | undefined;
    try {
      text = (await deps.metrics?.())?.body ?? '';
    } catch (err) {
      // The rest of the console does not depend on these figures: show why they are missing instead.
      deps.logger?.warn({ err }, 'console: /metrics failed');
      unavailable = `metrics unavailable: ${(err as Error).message}`;
    }
    send(res, 200, { ...trafficFromMetrics(text), ...(unavailable ? { unavailable } : {}) });
  });

  on('GET', '/console/plan', async (_req, res) => {
    const latest = await store.results.latest('plan');
    send(res, 200, { plan: latest ?? null });
  });

  on('GET', '/routes/:id/shadow', async (_req, res, params) => {
    const route = routeOf(config, params.id);
    const ev = await store.shadow.evidence(route.id, { fieldExamples: true });
    const report = summariseRoute(ev, route, 10);
    // Examples carry whole bodies: keep them out of the report's per-field `example`.
    const fields = [...report.differing, ...report.noise, ...report.ignored].map((f) => f.field);
    send(res, 200, {
      report,
      ignore: route.shadow.ignore,
      sampleRing: route.shadow.sampleRing,
      examples: examplePairs(ev, fields),
    });
  });

  on('GET', '/routes/:id/series', async (_req, res, params) => {
    const route = routeOf(config, params.id);
    const points = timeline.points(route.id);
    // A console polling faster than the interval sees fresh totals, not a stale point.
    if ((points.at(-1)?.at ?? 0) < Date.now() - 1000) await timeline.sampleAll();
    send(res, 200, {
      shadow: timeline.points(route.id),
      live: await liveWindows(store, route.id, Date.now() - SERIES_SPAN_MS),
      flushMs: config.proxy.statsFlushMs,
    });
  });

  on('POST', '/routes/:id/rollout/:action', async (req, res, params) => {
    deps.authorize(req);
    const action = params.action as RolloutControl | 'start';
    if (!['start', 'pause', 'resume', 'abort'].includes(action))
      throw new StranglerError(
        'STRANGLER_E_NOT_FOUND',
        `rollout action "${action}": expected start, pause, resume or abort`,
      );
    const route = routeOf(config, params.id);
    const body = await deps.readJson(req);
    const reason = typeof body.reason === 'string' && body.reason.trim() ? body.reason.trim() : undefined;
    const actor = typeof body.actor === 'string' && body.actor ? `admin:${body.actor}` : 'admin';
    if (action === 'start') {
      send(res, 200, await startFromConsole(store, config, route, body, { actor, reason }));
      return;
    }
    if (body.dryRun === true) {
      const cur = await readRollout(store, route.id);
      checkRolloutControl(cur, action);
      const state = await store.routes.get(route.id);
      const rollsBack =
        action === 'abort' && isActive(cur) && (state?.mode === 'canary' || state?.mode === 'service');
      send(res, 200, {
        dryRun: true,
        rollout: cur,
        effect:
          action === 'abort'
            ? rollsBack
              ? `stop the rollout and flip ${route.id} back to shadow (legacy answers every request)`
              : `stop the rollout; ${route.id} stays ${state?.mode}`
            : `${action} the rollout at step ${cur.index + 1}/${cur.steps.length}; the route's mode and weight do not change`,
      });
      return;
    }
    const opts = { route: route.id, actor, reason };
    const rollout =
      action === 'pause'
        ? await pauseRollout(store, opts)
        : action === 'resume'
          ? await resumeRollout(store, opts)
          : await abortRollout(store, config, opts);
    send(res, 200, { dryRun: false, rollout });
  });

  return { close: () => timeline.stop() };
}

/**
 * `strangler canary ROUTE --steps … --interval …` from the console: the same
 * checks (steps, interval, route state, no rollout already active) for the
 * dry run, then startRollout. Body: { steps: "5,25,50,100", interval: "2m" }.
 */
async function startFromConsole(
  store: Store,
  config: Readonly<Config>,
  route: RouteConfig,
  body: Record<string, unknown>,
  who: { actor: string; reason?: string },
): Promise<Record<string, unknown>> {
  const stepsText = typeof body.steps === 'string' ? body.steps : '';
  const steps = parseSteps(stepsText);
  const intervalText = typeof body.interval === 'string' ? body.interval.trim() : '';
  let intervalMs: number;
  try {
    intervalMs = parseDuration(intervalText);
  } catch {
    throw new StranglerError(
      'STRANGLER_E_USAGE',
      `interval: expected a duration such as 2m, got "${intervalText}"`,
      {
        details: { field: 'interval', value: intervalText },
      },
    );
  }
  const { steps: ahead } = await rolloutStart(store, config, { route: route.id, steps, intervalMs });
  const cur = await readRollout(store, route.id);
  if (isActive(cur))
    throw new StranglerError(
      'STRANGLER_E_ROLLOUT_STATE',
      `route "${route.id}" already has a ${cur.status} rollout; abort it first`,
      {
        details: { route: route.id, rollout: cur },
      },
    );
  if (body.dryRun === true)
    return {
      dryRun: true,
      rollout: cur,
      effect: `start a rollout of ${route.id} through ${ahead.join('% → ')}%, each step held ${intervalText} before its SLO check; each step is a gated flip applied by the proxy holding the guard lease`,
    };
  const rollout = await startRollout(store, config, { route: route.id, steps, intervalMs, ...who });
  return { dryRun: false, rollout };
}
