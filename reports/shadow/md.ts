import { mdTable } from '../table.js';
import type { ReportOptions, ReportOutput } from '../types.js';
import { ignoredBy, latencyRows, ms, pct, side, skippedText } from './shared.js';
import type { ShadowReportData, ShadowRouteReport } from './types.js';

const code = (s: string) => '`' + s.replace(/`/g, "'") + '`';

function route(r: ShadowRouteReport): string {
  let out = `## ${r.route}\n\n`;
  out += `${code(r.endpoint)} → service ${code(r.service)}\n\n`;
  out += mdTable(
    ['match rate', 'matched', 'exact', 'compared', 'skipped', 'errors (legacy / service)', 'noise pairs'],
    [
      [
        pct(r.matchRate),
        r.matched,
        r.exactMatched,
        r.compared,
        skippedText(r),
        `${r.errors.legacy} / ${r.errors.service}`,
        r.noisePairs,
      ],
    ],
  );
  out += '\n### Latency (paired requests, ms)\n\n';
  out += mdTable(
    ['target', 'p50', 'p95', 'p99', 'n'],
    latencyRows(r).map(([name, l]) => [name, ms(l?.p50), ms(l?.p95), ms(l?.p99), l?.n ?? 0]),
  );
  out += '\n### Differing fields\n\n';
  if (r.differing.length === 0) out += 'None.\n';
  else {
    out += mdTable(
      ['field', 'count', 'rate', 'kind', 'legacy', 'service', 'request'],
      r.differing.map((f) => [
        code(f.field),
        f.diffs,
        pct(f.diffRate),
        f.example?.kind ?? '',
        f.example ? code(side(f.example.legacy, 80)) : '',
        f.example ? code(side(f.example.service, 80)) : '',
        f.example ? code(f.example.url) : '',
      ]),
    );
    if (r.moreDiffering > 0) out += `\n… and ${r.moreDiffering} more.\n`;
  }
  if (r.noise.length > 0) {
    out += '\n### Noise fields\n\n';
    out += mdTable(
      ['field', 'diffs vs service', 'noisy legacy pairs', 'noise rate'],
      r.noise.map((f) => [code(f.field), f.diffs, f.noise, pct(f.noiseRate)]),
    );
  }
  const ignored = ignoredBy(r, code);
  if (ignored) out += `\nIgnored by config: ${ignored}\n`;
  return out;
}

export function renderShadowMd(data: ShadowReportData, options: ReportOptions = {}): ReportOutput {
  const head = `# ${options.title ?? 'Shadow comparison'}\n\nGenerated ${data.generatedAt}.\n\n`;
  return {
    output: head + (data.routes.length ? data.routes.map(route).join('\n') : 'No routes.\n'),
    exitCode: 0,
  };
}
