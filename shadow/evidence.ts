/**
 * From stored evidence to what a report or a gate needs: the match rate after
 * noise, the fields that really differ (with an example pair each), the noise
 * fields, skipped counts, and legacy-vs-service latency percentiles from the
 * same paired requests. Pure: the CLI reads the store and calls this.
 */
import type { RouteConfig } from '../core/config.js';
import { nearestRank } from '../core/quantile.js';
import type { ShadowEvidence, ShadowSample } from '../store/types.js';
import { type FieldVerdict, summariseMatches } from './noise.js';
import { generaliseJsonPath, parseField } from './paths.js';

export interface LatencySummary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
}

export interface FieldReport extends FieldVerdict {
  /** The newest stored sample showing this field (see exampleSamples), if the store still holds one. */
  example?: { url: string; path: string; kind: string; legacy?: unknown; service?: unknown };
}

export interface ShadowRouteReport {
  route: string;
  service: string;
  /** `GET /api/block/:user` style: methods and pattern. */
  endpoint: string;
  compared: number;
  matched: number;
  exactMatched: number;
  matchRate: number | null;
  skipped: Record<string, number>;
  skippedTotal: number;
  errors: { legacy: number; service: number };
  noisePairs: number;
  /** Real differences, most frequent first, at most `topFields`. */
  differing: FieldReport[];
  /** Real differing fields beyond `topFields`. */
  moreDiffering: number;
  noise: FieldReport[];
  /** Fields seen differing that the config's `shadow.ignore` drops. */
  ignored: FieldReport[];
  /** The config's `shadow.ignore` patterns: in force whether or not evidence has matched them yet (e.g. after a reset). */
  ignorePatterns: string[];
  latency: { legacy: LatencySummary | null; service: LatencySummary | null };
  samples: number;
}

export interface ShadowReportData {
  generatedAt: string;
  routes: ShadowRouteReport[];
}

export function summariseLatency(xs: readonly number[]): LatencySummary | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, p50: nearestRank(s, 0.5)!, p95: nearestRank(s, 0.95)!, p99: nearestRank(s, 0.99)! };
}

/** The counting key a stored concrete path belongs to. */
export function fieldOfPath(path: string): string {
  if (!path.startsWith('$')) return path;
  const segs = parseField(path);
  return segs ? generaliseJsonPath(segs) : path;
}

export interface FieldExample {
  sample: ShadowSample;
  /** The sample's difference on this field. */
  difference: ShadowSample['differences'][number];
}

/**
 * The example of each differing field: the store's newest sample of that
 * field (fieldExamples), else the newest sample in the ring showing it
 * (evidence stored before per-field examples existed).
 */
export function exampleSamples(
  ev: Pick<ShadowEvidence, 'samples' | 'fieldExamples'>,
): Map<string, FieldExample> {
  const out = new Map<string, FieldExample>();
  for (const [field, sample] of Object.entries(ev.fieldExamples ?? {})) {
    const difference = sample.differences.find((d) => fieldOfPath(d.path) === field);
    if (difference) out.set(field, { sample, difference });
  }
  // Newest sample wins: walk from the end.
  for (let i = ev.samples.length - 1; i >= 0; i--) {
    const sample = ev.samples[i];
    for (const difference of sample.differences) {
      const f = fieldOfPath(difference.path);
      if (!out.has(f)) out.set(f, { sample, difference });
    }
  }
  return out;
}

function examplesByField(ev: ShadowEvidence): Map<string, FieldReport['example']> {
  const out = new Map<string, FieldReport['example']>();
  for (const [f, { sample: s, difference: d }] of exampleSamples(ev))
    out.set(f, {
      url: `${s.request.method} ${s.request.url}`,
      path: d.path,
      kind: d.kind,
      ...(d.legacy !== undefined ? { legacy: d.legacy } : {}),
      ...(d.service !== undefined ? { service: d.service } : {}),
    });
  return out;
}

export function summariseRoute(ev: ShadowEvidence, route: RouteConfig, topFields = 10): ShadowRouteReport {
  const m = summariseMatches(ev, route.shadow);
  const ex = examplesByField(ev);
  const withExample = (f: FieldVerdict): FieldReport => {
    const e = ex.get(f.field);
    return e ? { ...f, example: e } : { ...f };
  };
  // Real fields only count if they actually differed against the service.
  const real = m.fields.filter((f) => f.verdict === 'real' && f.diffs > 0);
  const methods = route.match.methods?.join(',') ?? 'ANY';
  return {
    route: route.id,
    service: route.service,
    endpoint: `${methods} ${route.match.path}`,
    compared: ev.compared,
    matched: m.matched,
    exactMatched: m.exactMatched,
    matchRate: m.matchRate,
    skipped: Object.fromEntries(Object.entries(ev.skipped).sort(([a], [b]) => (a < b ? -1 : 1))),
    skippedTotal: Object.values(ev.skipped).reduce((a, b) => a + b, 0),
    errors: ev.errors,
    noisePairs: ev.noisePairs,
    differing: real.slice(0, topFields).map(withExample),
    moreDiffering: Math.max(0, real.length - topFields),
    noise: m.fields.filter((f) => f.verdict === 'noise').map(withExample),
    ignored: m.fields.filter((f) => f.verdict === 'ignored').map(withExample),
    ignorePatterns: [...route.shadow.ignore],
    latency: { legacy: summariseLatency(ev.latency.legacy), service: summariseLatency(ev.latency.service) },
    samples: ev.samples.length,
  };
}
