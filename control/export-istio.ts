/**
 * Hand the route table to a service mesh: Istio VirtualService and
 * DestinationRule YAML for what translates (path/method matches, weights,
 * mirror with mirrorPercentage, timeouts, retries, outlier detection from the
 * failover config), using the route modes the store holds now. What has no
 * mesh equivalent (response diffing, noise learning, failover to legacy,
 * sticky canaries, gates and the guard) is written as YAML comments next to
 * the route it concerns, so nobody assumes the mesh does it.
 */
import { Document } from 'yaml';

// Repeated destinations stay spelled out: anchors and aliases confuse people
// and some Kubernetes tooling.
const NO_ALIASES = { aliasDuplicateObjects: false } as const;
import { type Config, type RouteConfig, type UpstreamConfig, upstreamUrls } from '../core/config.js';
import { StranglerError } from '../core/errors.js';
import { isResendable } from '../core/resend.js';
import type { RouteState } from '../core/types.js';
import { weightOf } from './state-machine.js';

export interface MeshExportOptions {
  namespace?: string;
  /** Named in the header comment, e.g. the config file. */
  source?: string;
  /** Fixed time for the header comment (tests); default now. */
  now?: Date;
}

interface Destination {
  host: string;
  port: { number: number };
}

/** Istio durations: seconds with a fraction ("0.25s") parse everywhere Istio takes a duration. */
export const meshDuration = (ms: number): string => `${Math.round(ms) / 1000}s`;

function destinationOf(what: string, u: UpstreamConfig): { dest: Destination; notes: string[] } {
  const urls = upstreamUrls(u).map((s) => new URL(s));
  const first = urls[0];
  const port = first.port ? Number(first.port) : first.protocol === 'https:' ? 443 : 80;
  const notes: string[] = [];
  if (urls.length > 1)
    notes.push(
      `${what}: only ${first.host} is exported; in a mesh one Service fronts all replicas (${urls.length} URLs configured)`,
    );
  if (/^(localhost|127\.|\[::1\]|::1)/.test(first.hostname))
    notes.push(
      `${what}: ${first.hostname} is a loopback address; replace it with the Kubernetes Service name`,
    );
  return { dest: { host: first.hostname, port: { number: port } }, notes };
}

const escapeRegex = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');

/** A route's path pattern as an Istio StringMatch: `/a/*` → prefix, `:param` → regex, else exact. */
export function uriMatch(pattern: string): { exact: string } | { prefix: string } | { regex: string } {
  if (pattern.endsWith('*')) {
    const head = pattern.slice(0, -1);
    if (!head.includes(':')) return { prefix: head };
  }
  if (pattern.includes(':') || pattern.endsWith('*')) {
    let re = '';
    const parts = pattern.split(/(:[A-Za-z0-9_]+(?:\([^)]*\))?)/);
    for (const part of parts) {
      if (part.startsWith(':')) {
        const custom = /\((.*)\)$/.exec(part);
        re += custom ? `(${custom[1].replace(/^\^|\$$/g, '')})` : '[^/]+';
      } else re += escapeRegex(part).replace(/\*$/, '.*');
    }
    return { regex: re };
  }
  return { exact: pattern };
}

/** Istio evaluates http routes in order, first match wins; the proxy prefers the most specific pattern. */
function specificity(r: RouteConfig): [number, number] {
  const m = uriMatch(r.match.path);
  const rank = 'exact' in m ? 0 : 'regex' in m ? 1 : 2;
  return [rank, -r.match.path.length];
}

function routeNotes(r: RouteConfig, mode: RouteState['mode']): string[] {
  const notes: string[] = [];
  const mirroring = mode === 'shadow' || ((mode === 'canary' || mode === 'service') && r.shadow.reverse);
  if (mirroring) {
    notes.push(
      'no mesh equivalent: response diffing — Istio discards mirrored responses, so there is no match rate and no gate evidence',
    );
    if (r.shadow.noiseSampleRate > 0)
      notes.push(
        'no mesh equivalent: noise learning (asking legacy twice to learn which fields differ anyway)',
      );
    notes.push(
      `not translated: shadow limits — the mesh mirrors every method (proxy: ${r.shadow.methods.join(', ')} only) with no body cap or header redaction`,
    );
  }
  if ((mode === 'canary' || mode === 'service') && r.failover.enabled)
    notes.push(
      'no mesh equivalent: failover to legacy — outlier detection ejects failing service endpoints but never resends a request to legacy',
    );
  if (mode === 'canary' && r.sticky)
    notes.push(`no mesh equivalent: sticky canary by ${r.sticky} — mesh weights choose per request`);
  if (r.allowTargetHeader) notes.push('not translated: the x-strangler-target test header');
  notes.push(...rateLimitNotes(r));
  notes.push(
    'no mesh equivalent: flip gates and the SLO guard (rollback) — keep them in strangler or your CD tool',
  );
  return notes;
}

/**
 * A VirtualService has no rate limits. Envoy's local rate limit filter (an
 * EnvoyFilter adding envoy.filters.http.local_ratelimit) is the nearest
 * equivalent, but it is a token bucket per pod, not one limit for the fleet;
 * a fleet-wide limit needs Envoy's global rate limit service. Neither can
 * send the excess to another destination.
 */
function rateLimitNotes(r: RouteConfig): string[] {
  const rl = r.rateLimit;
  if (!rl) return [];
  const limits = (['service', 'legacy'] as const)
    .filter((t) => rl[t])
    .map((t) => `${t} ${rl[t]}${rl.burst ? ` +${rl.burst}` : ''}`)
    .join(', ');
  const notes = [
    `not translated: rateLimit (${limits}, key ${rl.key}) — Istio has no per-route limit in a VirtualService; the nearest is an EnvoyFilter with envoy.filters.http.local_ratelimit (token bucket per pod: divide the rate by the replica count) or Envoy's global rate limit service for one fleet-wide limit`,
  ];
  if (rl.over === 'legacy')
    notes.push(
      'no mesh equivalent: rateLimit over: legacy — a mesh rate limit answers 429, it never sends the excess to legacy',
    );
  return notes;
}

/** The request a mesh retry policy must assume: unsafe, no Idempotency-Key. */
const RISKIEST_REQUEST = { method: 'POST', headers: {} };

function retriesFor(r: RouteConfig) {
  // Failures where the request never reached the service are always retried.
  // A mesh retry policy cannot tell one request from another, so retries
  // after the service may have acted follow the may-this-be-sent-again rule
  // (core/resend.ts) for the route's riskiest request: a POST without an
  // Idempotency-Key, resendable only on a route declared idempotent.
  const on = ['connect-failure', 'refused-stream'];
  if (isResendable(RISKIEST_REQUEST, r)) on.push('reset', r.failover.on5xx ? '5xx' : 'gateway-error');
  return {
    attempts: r.failover.enabled ? 1 : 0,
    perTryTimeout: meshDuration(r.failover.timeoutMs),
    retryOn: on.join(','),
  };
}

/** One YAML stream: the VirtualService, then a DestinationRule per upstream host. */
export function exportIstio(
  config: Readonly<Config>,
  states: RouteState[],
  opts: MeshExportOptions = {},
): string {
  const namespace = opts.namespace ?? 'default';
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace))
    throw new StranglerError(
      'STRANGLER_E_USAGE',
      `--namespace: "${namespace}" is not a Kubernetes namespace name`,
    );
  const byId = new Map(states.map((s) => [s.id, s]));
  const legacy = destinationOf('legacy', config.legacy);
  const services = new Map(
    Object.entries(config.services).map(([name, u]) => [name, destinationOf(`service ${name}`, u)]),
  );
  const header: string[] = [
    ` strangler export istio — ${(opts.now ?? new Date()).toISOString()}${opts.source ? ` from ${opts.source}` : ''}`,
    " Route modes and weights are the store's current state, not the config's seeds.",
    ...legacy.notes.map((n) => ` NOTE ${n}`),
    ...[...services.values()].flatMap((s) => s.notes.map((n) => ` NOTE ${n}`)),
  ];

  const hosts = [legacy.dest.host, ...[...services.values()].map((s) => s.dest.host)];
  const shared = [...new Set(hosts.filter((h, i) => hosts.indexOf(h) !== i))];
  if (shared.length)
    header.push(
      ` NOTE upstreams share host(s) ${shared.join(', ')}: Istio tells destinations apart by host, so give each its own Service`,
    );

  const routes = [...config.routes].sort((a, b) => {
    const [ra, la] = specificity(a);
    const [rb, lb] = specificity(b);
    return ra - rb || la - lb;
  });
  const http: Record<string, unknown>[] = [];
  const notesByIndex: string[][] = [];
  for (const r of routes) {
    if (r.kind === 'function') {
      // The monolith calls the service itself in a mesh: nothing to route at the edge.
      header.push(
        ` NOTE not translated: extraction point ${r.id} (kind: function) — in a mesh the monolith's client calls ${r.service}${r.match.path} directly; its modes stay with strangler's client`,
      );
      continue;
    }
    const state = byId.get(r.id);
    const mode = state?.mode ?? r.mode;
    const weight = weightOf(mode, state?.weight ?? r.weight);
    const svc = services.get(r.service)!.dest;
    const match: Record<string, unknown> = { uri: uriMatch(r.match.path) };
    if (r.match.methods)
      match.method =
        r.match.methods.length === 1
          ? { exact: r.match.methods[0] }
          : { regex: `^(${r.match.methods.join('|')})$` };
    const route =
      weight === 0
        ? [{ destination: legacy.dest, weight: 100 }]
        : weight === 100
          ? [{ destination: svc, weight: 100 }]
          : [
              { destination: legacy.dest, weight: 100 - weight },
              { destination: svc, weight },
            ];
    const entry: Record<string, unknown> = { name: r.id, match: [match], route };
    const mirrorTo =
      mode === 'shadow'
        ? svc
        : (mode === 'canary' || mode === 'service') && r.shadow.reverse
          ? legacy.dest
          : undefined;
    if (mirrorTo) {
      entry.mirror = mirrorTo;
      entry.mirrorPercentage = { value: Math.round(r.shadow.sampleRate * 100 * 1000) / 1000 };
    }
    const upstream = weight > 0 ? config.services[r.service] : config.legacy;
    entry.timeout = meshDuration(upstream.timeoutMs ?? config.proxy.requestTimeoutMs);
    entry.retries = retriesFor(r);
    http.push(entry);
    notesByIndex.push([
      `route ${r.id}: mode ${mode}${mode === 'canary' ? ` at ${weight}%` : ''} (store version ${state?.version ?? 'unseeded'})`,
      ...routeNotes(r, mode),
    ]);
  }
  // Unmatched requests go to legacy: the monolith is the default route.
  http.push({ name: 'default-legacy', route: [{ destination: legacy.dest, weight: 100 }] });

  const vs = new Document(
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'strangler', namespace, labels: { 'app.kubernetes.io/managed-by': 'strangler' } },
      spec: { hosts: [legacy.dest.host], http },
    },
    NO_ALIASES,
  );
  vs.commentBefore = header.join('\n');
  notesByIndex.forEach((notes, i) => {
    const node = vs.getIn(['spec', 'http', i], true) as { commentBefore?: string };
    node.commentBefore = notes.map((n) => ` ${n}`).join('\n');
  });
  (vs.getIn(['spec', 'http', http.length - 1], true) as { commentBefore?: string }).commentBefore =
    ' unmatched requests go to legacy, as in the proxy';

  const docs = [vs, ...destinationRules(config, legacy.dest, services, namespace)];
  return docs.map((d) => d.toString({ lineWidth: 0 })).join('---\n');
}

function destinationRules(
  config: Readonly<Config>,
  legacy: Destination,
  services: Map<string, { dest: Destination }>,
  namespace: string,
): Document[] {
  const out: Document[] = [];
  const pool = (u: UpstreamConfig) => ({
    tcp: { maxConnections: u.connections ?? config.proxy.connectionsPerUpstream },
    http: { idleTimeout: meshDuration(u.keepAliveTimeoutMs ?? config.proxy.keepAliveTimeoutMs) },
  });
  const legacyDoc = new Document(
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'strangler-legacy', namespace },
      spec: { host: legacy.host, trafficPolicy: { connectionPool: pool(config.legacy) } },
    },
    NO_ALIASES,
  );
  legacyDoc.commentBefore = ' legacy: connection pool only; the proxy never ejects the monolith';
  out.push(legacyDoc);
  for (const [name, { dest }] of services) {
    const users = config.routes.filter((r) => r.service === name && r.failover.enabled);
    const trafficPolicy: Record<string, unknown> = { connectionPool: pool(config.services[name]) };
    const comments = [` service ${name}`];
    if (users.length) {
      const f = users[0].failover;
      // opossum opens on an error *rate* over a rolling window once volume is
      // reached; Envoy ejects after N *consecutive* errors. The nearest
      // equivalent: the number of errors that rate means at the volume threshold.
      const consecutive = Math.max(1, Math.round((f.volumeThreshold * f.errorThresholdPercentage) / 100));
      trafficPolicy.outlierDetection = {
        ...(f.on5xx ? { consecutive5xxErrors: consecutive } : { consecutiveGatewayErrors: consecutive }),
        interval: meshDuration(f.rollingCountTimeoutMs),
        baseEjectionTime: meshDuration(f.resetTimeoutMs),
        maxEjectionPercent: 100,
      };
      comments.push(
        ` outlierDetection approximates the breaker of route ${users[0].id}: ${f.errorThresholdPercentage}% errors over ${f.volumeThreshold}+ requests → ${consecutive} consecutive errors`,
      );
      const differing = users
        .filter((u) => JSON.stringify(u.failover) !== JSON.stringify(f))
        .map((u) => u.id);
      if (differing.length)
        comments.push(
          ` routes ${differing.join(', ')} have other failover settings; a DestinationRule holds one per host`,
        );
    }
    const doc = new Document(
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'DestinationRule',
        metadata: { name: `strangler-${name.toLowerCase().replace(/[^a-z0-9-]/g, '-')}`, namespace },
        spec: { host: dest.host, trafficPolicy },
      },
      NO_ALIASES,
    );
    doc.commentBefore = comments.join('\n');
    out.push(doc);
  }
  return out;
}
