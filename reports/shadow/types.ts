/**
 * The data a shadow report renders. Reporters may not import shadow/ or store/
 * (.dependency-cruiser.cjs), so the shape is declared here; shadow/evidence.ts
 * builds a structurally identical value and the CLI hands it over.
 */
export interface ShadowReportLatency {
  n: number;
  p50: number;
  p95: number;
  p99: number;
}

export interface ShadowReportField {
  field: string;
  diffs: number;
  noise: number;
  diffRate: number;
  noiseRate: number;
  verdict: 'real' | 'noise' | 'ignored';
  example?: { url: string; path: string; kind: string; legacy?: unknown; service?: unknown };
}

export interface ShadowReportRoute {
  route: string;
  service: string;
  endpoint: string;
  compared: number;
  matched: number;
  exactMatched: number;
  matchRate: number | null;
  skipped: Record<string, number>;
  skippedTotal: number;
  errors: { legacy: number; service: number };
  noisePairs: number;
  differing: ShadowReportField[];
  moreDiffering: number;
  noise: ShadowReportField[];
  ignored: ShadowReportField[];
  latency: { legacy: ShadowReportLatency | null; service: ShadowReportLatency | null };
  samples: number;
}

export interface ShadowReportData {
  generatedAt: string;
  routes: ShadowReportRoute[];
}
