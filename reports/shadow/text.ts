import type { ReportOptions, ReportOutput } from '../types.js';
import { textTable } from '../table.js';
import { ignoredBy, latencyRows, ms, pct, side, skippedText } from './shared.js';
import type { ShadowReportData, ShadowRouteReport } from './types.js';

const indent = (block: string, by: string) => block.trimEnd().replace(/^/gm, by) + '\n';

function route(r: ShadowRouteReport, width: number): string {
  const valueWidth = Math.max(12, Math.floor((width - 40) / 2));
  let out = `route ${r.route}  ${r.endpoint}  → service ${r.service}\n`;
  out += `  match rate  ${pct(r.matchRate)}  (${r.matched} of ${r.compared} compared match after noise; ${r.exactMatched} exactly)\n`;
  out += `  skipped     ${skippedText(r)}\n`;
  out += `  errors      legacy ${r.errors.legacy}, service ${r.errors.service}   noise pairs ${r.noisePairs}\n`;
  out += '\n';
  const lat = textTable(
    ['latency ms', 'p50', 'p95', 'p99', 'n'],
    latencyRows(r).map(([name, l]) => [name, ms(l?.p50), ms(l?.p95), ms(l?.p99), l?.n ?? 0]),
  );
  out += indent(lat, '  ') + '\n';
  if (r.differing.length === 0) out += '  differing fields: none\n';
  else {
    out += '  differing fields\n';
    const rows = r.differing.map((f) => [
      f.field,
      f.diffs,
      pct(f.diffRate),
      f.example?.kind ?? '',
      f.example ? `${side(f.example.legacy, valueWidth)} → ${side(f.example.service, valueWidth)}` : '',
    ]);
    out += indent(textTable(['field', 'count', 'rate', 'kind', 'example legacy → service'], rows), '    ');
    if (r.moreDiffering > 0) out += `    … and ${r.moreDiffering} more\n`;
  }
  if (r.noise.length > 0) {
    out += '  noise fields (differ between two legacy answers)\n';
    const rows = r.noise.map((f) => [f.field, f.diffs, f.noise, pct(f.noiseRate)]);
    out += indent(textTable(['field', 'diffs', 'noisy', 'noise rate'], rows), '    ');
  }
  const ignored = ignoredBy(r);
  if (ignored) out += `  ignored by config: ${ignored}\n`;
  return out;
}

/** Terminal report: one block per route, lines kept within `width` where values allow. */
export function renderShadowText(data: ShadowReportData, options: ReportOptions = {}): ReportOutput {
  const width = options.width ?? 100;
  const head = `${options.title ?? 'Shadow comparison'} (generated ${data.generatedAt})\n\n`;
  if (data.routes.length === 0) return { output: head + 'no routes\n', exitCode: 0 };
  return { output: head + data.routes.map((r) => route(r, width)).join('\n'), exitCode: 0 };
}
