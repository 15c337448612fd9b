/**
 * The config file: YAML, validated once at the edge with a schema (zod), with
 * path-precise messages that name the file and the bad field, then frozen — in
 * the manner of fastify's lib/initial-config-validation.js. Everything past this
 * module trusts the Config type.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { DURATION_PATTERN } from './duration.js';
import { StranglerError, unknownRouteError } from './errors.js';
import { checkRouteKind, ROUTE_KINDS, withPointMatch } from './extraction-point.js';
import { MODES } from './types.js';

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected HOST:PORT, e.g. 127.0.0.1:8080');

const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' });

/** An upstream: one base URL or several (round-robin). */
const upstream = z
  .object({
    url: httpUrl.optional(),
    urls: z.array(httpUrl).min(1).optional(),
    /** Response headers timeout for this upstream. */
    timeoutMs: z.number().int().positive().optional(),
    /**
     * Idle pooled sockets are closed after this long: keep it below the
     * upstream's own keep-alive timeout (Python's http.server: none; Node: 5 s;
     * nginx: 75 s) so a stale socket never becomes a client-visible reset.
     */
    keepAliveTimeoutMs: z.number().int().positive().optional(),
    connections: z.number().int().positive().optional(),
    /**
     * Path the readiness probe asks at start (`/readyz` stays not-ready until
     * every upstream answered it once with a status below 500).
     */
    probePath: z.string().startsWith('/', 'a probe path starts with /').optional(),
    /**
     * false: one connection per request (`Connection: close`). For servers
     * that stall on kept-alive connections: Python's http.server, Django's
     * runserver and other stacks that write head and body separately with
     * Nagle on wait ~40 ms per reused-connection answer for a delayed ACK.
     */
    reuseConnections: z.boolean().default(true),
    /** Close a pooled connection after this many requests (1 is the same as reuseConnections: false). */
    maxRequestsPerConnection: z.number().int().positive().optional(),
  })
  .strict()
  .refine((u) => Boolean(u.url) !== Boolean(u.urls), { message: 'give exactly one of url or urls' })
  .refine((u) => u.reuseConnections || u.maxRequestsPerConnection === undefined, {
    message: 'give reuseConnections: false or maxRequestsPerConnection, not both',
    path: ['maxRequestsPerConnection'],
  });

const methodName = z
  .string()
  .regex(/^[A-Za-z]+$/, 'expected an HTTP method name')
  .transform((m) => m.toUpperCase());

const failover = z
  .object({
    enabled: z.boolean().default(true),
    timeoutMs: z.number().int().positive().default(2000),
    errorThresholdPercentage: z.number().min(1).max(100).default(50),
    resetTimeoutMs: z.number().int().positive().default(10_000),
    /** Requests in the rolling window before the breaker may open (opossum's default 0 trips on one failure). */
    volumeThreshold: z.number().int().min(0).default(20),
    rollingCountTimeoutMs: z.number().int().positive().default(10_000),
    /** Trial requests let through while half-open. */
    halfOpenMaxRequests: z.number().int().positive().default(3),
    on5xx: z.boolean().default(true),
    /** Bodies of resendable requests are buffered up to this many bytes. */
    maxBufferBytes: z
      .number()
      .int()
      .min(0)
      .default(1024 * 1024),
  })
  .strict();

const duration = z.union([
  z.number().int().positive(),
  z.string().regex(DURATION_PATTERN, 'expected a duration such as 500ms, 30s, 2m, 90d'),
]);

/**
 * Recording shadowed exchanges as replayable cases (shadow/recording.ts,
 * docs/replay.md): off by default, bounded by count, bytes and age, redacted
 * before anything is stored.
 */
const record = z
  .object({
    enabled: z.boolean().default(false),
    /** Fraction (0..1) of compared exchanges kept as cases. */
    sampleRate: z.number().min(0).max(1).default(1),
    /** Newest cases kept per route; older ones are dropped as new ones arrive. */
    maxCases: z.number().int().positive().default(1000),
    /** Bytes of stored cases per route (newest kept). */
    maxBytes: z
      .number()
      .int()
      .positive()
      .default(16 * 1024 * 1024),
    /** Cases older than this are dropped. */
    maxAge: duration.default('7d'),
    redact: z
      .object({
        /** Request/response header names redacted besides the built-in credential headers and shadow.redact. */
        headers: z.array(z.string().min(1)).default([]),
        /** JSON paths redacted in request and response bodies: $.user.email, $.items[*].token */
        json: z.array(z.string().startsWith('$', 'a JSON path starts with $')).default([]),
      })
      .strict()
      .prefault({}),
  })
  .strict();

const shadow = z
  .object({
    /** Fraction (0..1) of eligible requests mirrored. */
    sampleRate: z.number().min(0).max(1).default(1),
    timeoutMs: z.number().int().positive().default(5000),
    /** Methods mirrored; safe methods only unless listed here explicitly. */
    methods: z.array(methodName).default(['GET', 'HEAD', 'OPTIONS']),
    maxBodyBytes: z
      .number()
      .int()
      .min(0)
      .default(1024 * 1024),
    /** Fraction of shadowed requests for which legacy is asked twice, to learn noise. */
    noiseSampleRate: z.number().min(0).max(1).default(0.1),
    /** JSON paths dropped before counting, wildcards allowed: $.items[*].updated_at */
    ignore: z.array(z.string()).default([]),
    /** Response headers compared besides content-type. */
    compareHeaders: z.array(z.string()).default([]),
    /** Headers redacted from anything stored. */
    redact: z.array(z.string()).default(['authorization', 'cookie', 'set-cookie']),
    ignoreArrayOrder: z.boolean().default(false),
    /** In canary/service modes, mirror the service-served request to legacy. */
    reverse: z.boolean().default(false),
    /** A field is a real difference only if its service diff rate exceeds its noise rate by both margins. */
    noiseRelativeThreshold: z.number().min(0).default(2),
    noiseAbsoluteThreshold: z.number().min(0).max(1).default(0.01),
    sampleRing: z.number().int().positive().default(50),
    record: record.prefault({}),
  })
  .strict();

const gate = z
  .object({
    minCompared: z.number().int().min(0).default(500),
    minMatchRate: z.number().min(0).max(1).default(0.999),
    maxP99Ratio: z.number().positive().default(1.5),
    maxErrorRate: z.number().min(0).max(1).default(0.01),
  })
  .strict();

const slo = z
  .object({
    maxErrorRate: z.number().min(0).max(1).default(0.05),
    maxP99Ms: z.number().positive().default(1000),
    window: duration.default('1m'),
    /** Fewer service requests than this in a window: too little traffic to judge. */
    minRequests: z.number().int().min(1).default(20),
  })
  .strict();

/** `200/s`, `30/m`, `1000/h`: requests per window (see proxy/rate-limit.ts). */
const rate = z.string().regex(/^[1-9]\d*\/(s|m|h)$/, 'expected a rate such as 200/s, 30/m or 1000/h');

const rateLimit = z
  .object({
    /** Requests the service may get for this route (fleet-wide with the Redis store). */
    service: rate.optional(),
    /** Requests legacy may get for this route; over it the client gets 429. */
    legacy: rate.optional(),
    /** Extra requests allowed above the rate, refilled every burst window. */
    burst: z.number().int().min(0).default(0),
    /** One bucket per route, per client address, or per value of a request header. */
    key: z
      .string()
      .regex(/^(route|ip|header:[A-Za-z0-9-]+)$/, 'expected route, ip or header:NAME')
      .default('route'),
    /** Requests over the service limit: answered 429, or sent to legacy (canary and service modes). */
    over: z.enum(['reject', 'legacy']).default('reject'),
  })
  .strict()
  .refine((r) => r.service !== undefined || r.legacy !== undefined, {
    message: 'give a service rate, a legacy rate or both (e.g. service: 200/s)',
  })
  .refine((r) => r.over !== 'legacy' || r.service !== undefined, {
    message: 'over: legacy spills what is over the service rate: give service: N/s',
    path: ['over'],
  });

const sticky = z
  .string()
  .regex(/^(header:[A-Za-z0-9-]+|cookie:[A-Za-z0-9_.-]+|ip)$/, 'expected header:NAME, cookie:NAME or ip');

const route = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'expected letters, digits, _ . -'),
    /** http: matched on the listener; function: an extraction point (core/extraction-point.ts). */
    kind: z.enum(ROUTE_KINDS).default('http'),
    /** kind: function only: the exact path the service serves the call on (POST, JSON). */
    path: z.string().startsWith('/', 'a path starts with /').optional(),
    match: z
      .object({
        path: z
          .string()
          .startsWith('/', 'a path pattern starts with /')
          .refine((p) => !p.slice(0, -1).includes('*'), { message: '* is allowed only at the end' }),
        methods: z.array(methodName).min(1).optional(),
      })
      .strict()
      .optional(),
    service: z.string(),
    module: z.string().optional(),
    mode: z.enum(MODES).default('legacy'),
    weight: z.number().int().min(0).max(100).default(0),
    sticky: sticky.optional(),
    /** Let testers force a side with the x-strangler-target request header. */
    allowTargetHeader: z.boolean().default(false),
    /** Every method of this route is safe to resend (the service and legacy dedupe). */
    idempotent: z.boolean().default(false),
    /**
     * `ignore`: `/api/notes/:id` also matches `/api/notes/3/` (Django URLs end
     * in `/`); `strict`: only the spelling in match.path. The path is forwarded
     * as the client sent it either way (docs/routing.md).
     */
    trailingSlash: z.enum(['ignore', 'strict']).default('ignore'),
    failover: failover.prefault({}),
    shadow: shadow.prefault({}),
    gate: gate.prefault({}),
    slo: slo.prefault({}),
    rateLimit: rateLimit.optional(),
  })
  .strict()
  .superRefine(checkRouteKind)
  .transform(withPointMatch);

export const configSchema = z
  .object({
    listen: hostPort.default('127.0.0.1:8080'),
    admin: z
      .object({
        listen: hostPort.default('127.0.0.1:9901'),
        /** Environment variable holding the bearer token; unset → mutations refused. */
        tokenEnv: z.string().default('STRANGLER_ADMIN_TOKEN'),
      })
      .strict()
      .prefault({}),
    store: z
      .string()
      .regex(/^(sqlite:.+|redis:\/\/.+)$/, 'expected sqlite:PATH or redis://HOST:PORT[/DB]')
      .default('sqlite:.strangler/state.db'),
    audit: z
      .object({
        /** Audit rows kept; older ones are trimmed as new ones arrive (Redis: approximately). */
        maxRows: z.number().int().min(1000).default(1_000_000),
        /** Audit rows older than this are trimmed. */
        maxAge: duration.default('90d'),
      })
      .strict()
      .prefault({}),
    legacy: upstream,
    services: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/), upstream).default({}),
    proxy: z
      .object({
        /** Whole-request deadline towards an upstream (headers). */
        requestTimeoutMs: z.number().int().positive().default(30_000),
        keepAliveTimeoutMs: z.number().int().positive().default(4_000),
        connectionsPerUpstream: z.number().int().positive().default(256),
        /** How often a proxy checks the store for a newer route table. */
        pollIntervalMs: z.number().int().positive().default(250),
        statsFlushMs: z.number().int().positive().default(5_000),
        shadowMaxConcurrent: z.number().int().positive().default(64),
        shadowMaxTotalBytes: z
          .number()
          .int()
          .positive()
          .default(64 * 1024 * 1024),
        /** The canonical request's path rules (docs/routing.md). */
        paths: z
          .object({
            /** `//a///b` is `/a/b` for routing and for every upstream. */
            mergeSlashes: z.boolean().default(true),
            /** `%2F` in a path: `reject` (400) or `pass` (kept encoded, part of one segment). */
            encodedSlashes: z.enum(['reject', 'pass']).default('reject'),
          })
          .strict()
          .prefault({}),
        /**
         * Request bodies held in memory (to resend on failover, or before taking
         * an upstream connection), all requests together. 32 MiB: every parked
         * request also costs the socket read that came with its head (~64 KiB,
         * outside this cap), and with 1,600 of them a 64 MiB cap took the
         * proxy to ~260 MB RSS, over issue 12's 250 MB (bench/edge.ts parked).
         */
        maxBufferedBodyBytes: z
          .number()
          .int()
          .min(0)
          .default(32 * 1024 * 1024),
        /** A request body up to this size is read whole before an upstream connection is taken. */
        requestBufferBytes: z
          .number()
          .int()
          .min(0)
          .default(64 * 1024),
        /** A request body that brings no byte for this long is answered 408. */
        bodyIdleTimeoutMs: z.number().int().positive().default(30_000),
        /** ...and one slower than this on average over each idle-timeout window (0: no minimum rate). */
        bodyMinBytesPerSecond: z.number().int().min(0).default(256),
        /** Time a client has to send a request's headers (slowloris); checked every few seconds. */
        headersTimeoutMs: z.number().int().positive().default(30_000),
        /** An idle keep-alive client connection is closed after this long. */
        clientKeepAliveTimeoutMs: z.number().int().positive().default(5_000),
        /** Open client connections on the data-plane listener; 0: three quarters of the process's file-descriptor limit. */
        maxConnections: z.number().int().min(0).default(0),
      })
      .strict()
      .prefault({}),
    routes: z.array(route).default([]),
    points: z
      .object({
        /** Environment variable holding the bearer token of the /.strangler/points endpoints; unset → they answer 403. */
        tokenEnv: z.string().default('STRANGLER_POINTS_TOKEN'),
      })
      .strict()
      .prefault({}),
    /** What SIGTERM does (proxy/drain.ts): not-ready, keep serving with Connection: close, then close. */
    drain: z
      .object({
        /** How long a stopping proxy keeps serving (not ready, every answer `Connection: close`). */
        delay: duration.default('5s'),
        /** After the delay, in-flight requests get this long before their connections are dropped. */
        timeout: duration.default('10s'),
      })
      .strict()
      .prefault({}),
    /** OpenTelemetry export (proxy/tracing.ts); off unless `otlp` is given. */
    tracing: z
      .object({
        /** OTLP/HTTP endpoint base, e.g. http://127.0.0.1:4318 (spans go to /v1/traces). */
        otlp: httpUrl.optional(),
        serviceName: z.string().min(1).default('strangler'),
        /** Fraction of new traces recorded; a caller's sampled flag is followed. */
        sampleRate: z.number().min(0).max(1).default(1),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    cfg.routes.forEach((r, i) => {
      if (seen.has(r.id))
        ctx.addIssue({ code: 'custom', path: ['routes', i, 'id'], message: `duplicate route id "${r.id}"` });
      seen.add(r.id);
      if (!(r.service in cfg.services))
        ctx.addIssue({
          code: 'custom',
          path: ['routes', i, 'service'],
          message: `unknown service "${r.service}"`,
        });
    });
  });

export type Config = z.output<typeof configSchema>;
export type RouteConfig = Config['routes'][number];

/** The route `id` of the config; an unknown id throws the error naming the known ones. */
export function configuredRoute(config: Readonly<Config>, id: string): RouteConfig {
  const route = config.routes.find((r) => r.id === id);
  if (!route)
    throw unknownRouteError(
      id,
      config.routes.map((r) => r.id),
      'in the config',
    );
  return route;
}
export type UpstreamConfig = Config['legacy'];
export type FailoverConfig = RouteConfig['failover'];
export type ShadowConfig = RouteConfig['shadow'];
export type RecordConfig = ShadowConfig['record'];
export type GateConfig = RouteConfig['gate'];
export type SloConfig = RouteConfig['slo'];
export type RateLimitConfig = NonNullable<RouteConfig['rateLimit']>;

/** `routes[0].match.path` from zod's path array. */
export function formatPath(p: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const seg of p) out += typeof seg === 'number' ? `[${seg}]` : out ? `.${String(seg)}` : String(seg);
  return out || '(root)';
}

/** Upstream base URLs, whether given as url or urls. */
export function upstreamUrls(u: UpstreamConfig): string[] {
  return u.urls ?? [u.url!];
}

/**
 * A base URL's path as a prefix for request targets (`http://h/base/` and
 * `http://h/base` → `/base`, `http://h/` → ''): primaries and shadow copies
 * both put it in front of the canonical target.
 */
export function basePathOf(url: URL): string {
  return url.pathname.replace(/\/+$/, '');
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/** Validate an already-parsed object. `source` names the file in messages. */
export function parseConfig(raw: unknown, source = 'config'): Readonly<Config> {
  const res = configSchema.safeParse(raw ?? {});
  if (!res.success) {
    const lines = res.error.issues.map((i) => `${source}: ${formatPath(i.path)}: ${i.message}`);
    throw new StranglerError('STRANGLER_E_CONFIG', lines.join('\n'), {
      details: { file: source, fields: res.error.issues.map((i) => formatPath(i.path)) },
    });
  }
  const cfg = res.data;
  // A relative sqlite path is relative to the config file, not the cwd, so the
  // CLI and a proxy started elsewhere agree on one store.
  if (cfg.store.startsWith('sqlite:') && source !== 'config') {
    const p = cfg.store.slice('sqlite:'.length);
    if (p !== ':memory:' && !path.isAbsolute(p))
      cfg.store = `sqlite:${path.resolve(path.dirname(source), p)}`;
  }
  return deepFreeze(cfg);
}

/** Read, parse and validate a YAML config file. Throws STRANGLER_E_CONFIG naming file and field. */
export function loadConfig(file: string): Readonly<Config> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    // The first thing a new user meets: say where we looked and how to start.
    const message =
      (err as NodeJS.ErrnoException).code === 'ENOENT'
        ? `no config file at ${file} (commands read ./strangler.yaml unless given --config FILE); ` +
          'start one with: strangler init --legacy http://127.0.0.1:8000'
        : `${file}: cannot read config: ${(err as Error).message}`;
    throw new StranglerError('STRANGLER_E_CONFIG', message, { cause: err, details: { file } });
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = e.linePos?.[0];
    // yaml's first message line ends with its own "at line L, column C:"; the file:L:C prefix says it already.
    const what = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    throw new StranglerError(
      'STRANGLER_E_CONFIG',
      pos
        ? `${file}:${pos.line}:${pos.col}: YAML: ${what}\n${yamlExcerpt(text, pos.line, pos.col)}`
        : `${file}: YAML: ${what}`,
      { details: { file, ...(pos ? { line: pos.line, col: pos.col } : {}) } },
    );
  }
  return parseConfig(doc.toJS(), file);
}

/**
 * The offending line (and the one before it, where an unclosed bracket or a
 * bad indent often really is) with a caret under the column, like a compiler.
 */
export function yamlExcerpt(text: string, line: number, col: number): string {
  const lines = text.split(/\r?\n/);
  const first = Math.max(1, line - 1);
  const width = String(line).length;
  const out: string[] = [];
  for (let n = first; n <= line; n++) out.push(`  ${String(n).padStart(width)} | ${lines[n - 1] ?? ''}`);
  // Keep tabs in the padding so the caret lines up under a tab-indented line.
  const pad = (lines[line - 1] ?? '').slice(0, Math.max(0, col - 1)).replace(/[^\t]/g, ' ');
  out.push(`  ${' '.repeat(width)} | ${pad}^`);
  return out.join('\n');
}
