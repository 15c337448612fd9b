/**
 * The load-test driver behind `strangler loadtest ROUTE`: the same load
 * (autocannon's programmatic API) at a route's legacy target, its service
 * target and through the proxy, one target after another, so a team sees
 * what turning a function call into a network hop costs before a flip.
 */
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import autocannon from 'autocannon';
import { type Config, configuredRoute, type RouteConfig, upstreamUrls } from '../core/config.js';
import { StranglerError } from '../core/errors.js';
import { parseHostPort, reachableHost, urlHost } from '../core/host-port.js';
import type { KeepAliveStallFinding } from '../core/keepalive-stall.js';
import type { Mode } from '../core/types.js';
import {
  LOADTEST_TARGETS,
  type LoadtestRatio,
  type LoadtestResult,
  type LoadtestTarget,
  type LoadtestTargetResult,
} from './loadtest-result.js';
import type { Store } from '../store/types.js';
import { readStallFindings } from './findings.js';
import { probeable, probeKeepAliveStall } from './stall-probe.js';

export interface LoadtestProgress {
  target: LoadtestTarget;
  /** 1-based position of this target in the run, and how many targets there are. */
  index: number;
  of: number;
  elapsedS: number;
  durationS: number;
  responses: number;
  done: boolean;
}

export interface LoadtestOptions {
  config: Readonly<Config>;
  route: string;
  targets?: readonly LoadtestTarget[];
  connections?: number;
  durationS?: number;
  /** Overall requests/s cap; undefined or null for as fast as the target answers. */
  rate?: number | null;
  method?: string;
  /** Request path; derived from the route's match.path when absent (see derivePath). */
  path?: string;
  body?: Buffer;
  /** When given, the route's runtime mode is read from it and the result is saved to store.results. */
  store?: Store;
  onProgress?: (p: LoadtestProgress) => void;
  signal?: AbortSignal;
}

/**
 * A concrete path for a route pattern: every `:param` (with or without a
 * find-my-way regex suffix such as `:id(^\d+)`) becomes `1`, and a trailing
 * `*` becomes `1`, so `/api/block/*` is `/api/block/1` and
 * `/api/users/:user/posts` is `/api/users/1/posts`. Pass --path when the route
 * needs something else (a real id, a query string).
 */
export function derivePath(pattern: string): string {
  return pattern.replace(/:[A-Za-z0-9_]+(\([^)]*\))?/g, '1').replace(/\*$/, '1');
}

/** GET when the route accepts it (or any method), else the first method it lists. */
export function defaultMethod(route: RouteConfig): string {
  const methods = route.match.methods;
  if (!methods || methods.includes('GET')) return 'GET';
  return methods[0];
}

/** The base URL a proxy listening on `listen` answers on (a wildcard address is reached via loopback). */
export function proxyBaseUrl(listen: string): string {
  const { host, port } = parseHostPort(listen, 'listen');
  return `http://${urlHost(reachableHost(host))}:${port}`;
}

/** Which direct target the proxy serves in `mode` (a canary counts as the side with the larger share). */
export function directTargetFor(mode: Mode, weight: number): 'legacy' | 'service' {
  if (mode === 'service') return 'service';
  if (mode === 'canary') return weight >= 50 ? 'service' : 'legacy';
  return 'legacy';
}

/** Parse `--targets legacy,service` naming the bad entry. */
export function parseTargets(list: string): LoadtestTarget[] {
  const out: LoadtestTarget[] = [];
  for (const raw of list.split(',')) {
    const t = raw.trim();
    if (!t) continue;
    if (!(LOADTEST_TARGETS as readonly string[]).includes(t))
      throw new StranglerError(
        'STRANGLER_E_USAGE',
        `--targets: unknown target "${t}": expected a comma-separated list of ${LOADTEST_TARGETS.join(', ')}`,
        { details: { field: 'targets', value: t } },
      );
    if (!out.includes(t as LoadtestTarget)) out.push(t as LoadtestTarget);
  }
  if (out.length === 0) throw new StranglerError('STRANGLER_E_USAGE', '--targets: name at least one target');
  return out;
}

/** Resolve when something accepts a TCP connection at the URL's host:port; reject with the socket error otherwise. */
function tcpProbe(url: string, timeoutMs: number): Promise<void> {
  const u = new URL(url);
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    const timer = setTimeout(() => sock.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.destroy();
      resolve();
    });
    sock.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

const WHERE: Record<LoadtestTarget, string> = {
  legacy: 'the legacy upstream (config legacy)',
  service: 'the service upstream (config services)',
  proxy:
    'the strangler proxy (config listen); start it with `strangler serve` or leave proxy out of --targets',
};

/** Fail fast, naming the target, rather than report a run of connection errors as a measurement. */
export async function checkReachable(target: LoadtestTarget, url: string, timeoutMs = 2000): Promise<void> {
  try {
    await tcpProbe(url, timeoutMs);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new StranglerError(
      'STRANGLER_E_TARGET_UNREACHABLE',
      `${target} at ${url} is not reachable (${e.code ?? e.message}): ${WHERE[target]}`,
      { cause: err, details: { target, url } },
    );
  }
}

interface Plan {
  route: RouteConfig;
  urls: Record<LoadtestTarget, string>;
}

function planFor(config: Readonly<Config>, routeId: string): Plan {
  const route = configuredRoute(config, routeId);
  if (route.kind === 'function')
    throw new StranglerError(
      'STRANGLER_E_USAGE',
      `"${routeId}" is an extraction point (kind: function): its calls come from inside the monolith, not from the listener; load the HTTP routes that reach it`,
      { details: { route: routeId } },
    );
  const service = config.services[route.service];
  return {
    route,
    urls: {
      legacy: upstreamUrls(config.legacy)[0],
      service: upstreamUrls(service)[0],
      proxy: proxyBaseUrl(config.listen),
    },
  };
}

function joinUrl(base: string, path: string): string {
  return base.replace(/\/+$/, '') + path;
}

function summarise(target: LoadtestTarget, url: string, r: autocannon.Result): LoadtestTargetResult {
  const durationS = r.duration > 0 ? r.duration : 1;
  const non2xxByStatus: Record<string, number> = {};
  for (const [code, s] of Object.entries(r.statusCodeStats ?? {})) {
    if (!code.startsWith('2') && s?.count) non2xxByStatus[code] = s.count;
  }
  return {
    target,
    url,
    requests: r.requests.total,
    durationS: Math.round(durationS * 1000) / 1000,
    rps: Math.round((r.requests.total / durationS) * 10) / 10,
    latencyMs: {
      mean: r.latency.mean,
      p50: r.latency.p50,
      p90: r.latency.p90,
      p99: r.latency.p99,
      max: r.latency.max,
    },
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    non2xxByStatus,
    bytesPerSec: Math.round(r.throughput.total / durationS),
  };
}

/** `a / b`, or null when either side is missing or b is zero. */
function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (
    a === null ||
    a === undefined ||
    b === null ||
    b === undefined ||
    !Number.isFinite(a) ||
    !Number.isFinite(b)
  )
    return null;
  return b === 0 ? null : a / b;
}

function ratioOf(of: LoadtestTargetResult, over: LoadtestTargetResult): LoadtestRatio {
  const round = (n: number | null) => (n === null ? null : Math.round(n * 1000) / 1000);
  return {
    of: of.target,
    over: over.target,
    rps: round(ratio(of.rps, over.rps)),
    p50: round(ratio(of.latencyMs.p50, over.latencyMs.p50)),
    p90: round(ratio(of.latencyMs.p90, over.latencyMs.p90)),
    p99: round(ratio(of.latencyMs.p99, over.latencyMs.p99)),
  };
}

async function driveOne(
  target: LoadtestTarget,
  url: string,
  index: number,
  of: number,
  o: Required<Pick<LoadtestOptions, 'connections' | 'durationS'>> & LoadtestOptions & { method: string },
): Promise<LoadtestTargetResult> {
  let responses = 0;
  const started = Date.now();
  const report = (done: boolean) =>
    o.onProgress?.({
      target,
      index,
      of,
      elapsedS: Math.min(o.durationS, (Date.now() - started) / 1000),
      durationS: o.durationS,
      responses,
      done,
    });
  report(false);
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (o.body && o.body.length > 0)
      headers['content-type'] = looksLikeJson(o.body) ? 'application/json' : 'text/plain';
    const instance = autocannon(
      {
        url,
        connections: o.connections,
        duration: o.durationS,
        overallRate: o.rate ?? undefined,
        method: o.method as autocannon.Request['method'],
        body: o.body && o.body.length > 0 ? o.body : undefined,
        headers,
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on('response', () => {
      responses++;
    });
    const tick = setInterval(() => report(false), 250);
    instance.once('done', () => clearInterval(tick));
    // autocannon calls back with the partial result when stopped, so an abort still yields figures.
    const onAbort = () => instance.stop();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    instance.once('done', () => o.signal?.removeEventListener('abort', onAbort));
  });
  report(true);
  return summarise(target, url, result);
}

function looksLikeJson(b: Buffer): boolean {
  try {
    JSON.parse(b.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

/** Read --body FILE, naming the file when it cannot be read. */
export async function readBodyFile(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new StranglerError('STRANGLER_E_USAGE', `--body: cannot read ${file}: ${(err as Error).message}`, {
      cause: err,
      details: { field: 'body', file },
    });
  }
}

/**
 * Drive each target in turn with the same load and return the side-by-side
 * result; with `store`, read the route's runtime mode from it and save the
 * result as results('loadtest', route). Every target is probed before any
 * load is sent, so an unreachable proxy is reported at once and clearly.
 */
export async function runLoadtest(opts: LoadtestOptions): Promise<LoadtestResult> {
  const plan = planFor(opts.config, opts.route);
  const targets = opts.targets ?? LOADTEST_TARGETS;
  const connections = opts.connections ?? 50;
  const durationS = opts.durationS ?? 30;
  if (!Number.isInteger(connections) || connections < 1)
    throw new StranglerError(
      'STRANGLER_E_USAGE',
      `--connections: expected a positive integer, got ${connections}`,
      {
        details: { field: 'connections' },
      },
    );
  if (!(durationS > 0))
    throw new StranglerError(
      'STRANGLER_E_USAGE',
      `--duration: expected a positive duration, got ${durationS}`,
      {
        details: { field: 'duration' },
      },
    );
  if (opts.rate !== undefined && opts.rate !== null && !(opts.rate >= 1))
    throw new StranglerError('STRANGLER_E_USAGE', `--rate: expected at least 1 request/s, got ${opts.rate}`, {
      details: { field: 'rate' },
    });
  const method = (opts.method ?? defaultMethod(plan.route)).toUpperCase();
  if (!/^[A-Z]+$/.test(method))
    throw new StranglerError(
      'STRANGLER_E_USAGE',
      `--method: expected an HTTP method name, got "${opts.method}"`,
      {
        details: { field: 'method' },
      },
    );
  const path = opts.path ?? derivePath(plan.route.match.path);
  if (!path.startsWith('/'))
    throw new StranglerError('STRANGLER_E_USAGE', `--path: expected a path starting with /, got "${path}"`, {
      details: { field: 'path' },
    });

  const state = opts.store ? await opts.store.routes.get(plan.route.id) : undefined;
  const mode = state?.mode ?? plan.route.mode;
  const weight = state?.weight ?? plan.route.weight;

  for (const t of targets) await checkReachable(t, plan.urls[t]);

  const startedAt = new Date().toISOString();
  const results: LoadtestTargetResult[] = [];
  for (const [i, t] of targets.entries()) {
    if (opts.signal?.aborted) break;
    results.push(
      await driveOne(t, joinUrl(plan.urls[t], path), i + 1, targets.length, {
        ...opts,
        connections,
        durationS,
        method,
      }),
    );
  }
  const by = (t: LoadtestTarget) => results.find((r) => r.target === t);
  const directTarget = directTargetFor(mode, weight);
  const ratios: LoadtestRatio[] = [];
  const legacy = by('legacy');
  const service = by('service');
  const proxy = by('proxy');
  const direct = by(directTarget);
  if (service && legacy) ratios.push(ratioOf(service, legacy));
  if (proxy && direct) ratios.push(ratioOf(proxy, direct));

  const findings = await stallFindingsFor(opts, plan, results, path, method);
  const result: LoadtestResult = {
    route: plan.route.id,
    method,
    path,
    connections,
    durationS,
    rate: opts.rate ?? null,
    bodyBytes: opts.body?.length ?? 0,
    mode,
    directTarget,
    startedAt,
    finishedAt: new Date().toISOString(),
    targets: results,
    ratios,
    ...(findings.length ? { findings } : {}),
  };
  if (opts.store) await opts.store.results.put('loadtest', plan.route.id, result);
  return result;
}

/**
 * Keep-alive stalls to report with the run: a probe of each direct target
 * measured (fresh evidence), then what the proxies found for other origins.
 */
async function stallFindingsFor(
  opts: LoadtestOptions,
  plan: Plan,
  results: readonly LoadtestTargetResult[],
  path: string,
  method: string,
): Promise<KeepAliveStallFinding[]> {
  const probed = new Map<string, KeepAliveStallFinding>();
  if (probeable(method, opts.body?.length ?? 0)) {
    for (const t of ['legacy', 'service'] as const) {
      if (!results.some((r) => r.target === t) || opts.signal?.aborted) continue;
      const upstream = t === 'legacy' ? 'legacy' : plan.route.service;
      const f = await probeKeepAliveStall(upstream, joinUrl(plan.urls[t], path), method as 'GET' | 'HEAD');
      if (f) probed.set(f.origin, f);
    }
  }
  const fromProxies = opts.store ? await readStallFindings(opts.store, opts.config) : [];
  return [...probed.values(), ...fromProxies.filter((f) => !probed.has(f.origin))].filter((f) => f.stall);
}
