import { type ChartSpec, chartCanvas, escapeHtml as h, htmlPage } from '../html-page.js';
import type { ReportOptions, ReportOutput } from '../types.js';
import { ignoredBy, latencyRows, ms, pct, side, skippedText } from './shared.js';
import type { ShadowReportData, ShadowRouteReport } from './types.js';

const table = (head: string[], rows: string[][]) =>
  `<table><tr>${head.map((c) => `<th>${h(c)}</th>`).join('')}</tr>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</table>`;

function route(r: ShadowRouteReport, i: number, charts: ChartSpec[]): string {
  const ok = r.matchRate !== null && r.matchRate >= 0.999;
  let out = `<h2>${h(r.route)} <span class="muted">${h(r.endpoint)} → ${h(r.service)}</span></h2>`;
  out += `<p>match rate <b class="${ok ? 'ok' : 'bad'}">${h(pct(r.matchRate))}</b> — ${r.matched} of ${r.compared} compared match after noise (${r.exactMatched} exactly). Skipped: ${h(skippedText(r))}. Errors: legacy ${r.errors.legacy}, service ${r.errors.service}. Noise pairs: ${r.noisePairs}.</p>`;
  out += table(
    ['latency (ms)', 'p50', 'p95', 'p99', 'n'],
    latencyRows(r).map(([name, l]) => [h(name), ms(l?.p50), ms(l?.p95), ms(l?.p99), String(l?.n ?? 0)]),
  );
  const id = `latency-${i}`;
  charts.push({
    id,
    height: 80,
    config: {
      type: 'bar',
      data: {
        labels: ['p50', 'p95', 'p99'],
        datasets: latencyRows(r).map(([name, l], k) => ({
          label: name,
          backgroundColor: k === 0 ? '#8c959f' : '#0969da',
          data: l ? [l.p50, l.p95, l.p99] : [],
        })),
      },
      options: { scales: { y: { title: { display: true, text: 'ms' }, beginAtZero: true } } },
    },
  });
  out += chartCanvas(charts[charts.length - 1]);
  out += '<h3>Differing fields</h3>';
  out +=
    r.differing.length === 0
      ? '<p>None.</p>'
      : table(
          ['field', 'count', 'rate', 'kind', 'legacy', 'service', 'request'],
          r.differing.map((f) => [
            `<code>${h(f.field)}</code>`,
            String(f.diffs),
            pct(f.diffRate),
            h(f.example?.kind ?? ''),
            f.example ? `<code>${h(side(f.example.legacy, 200))}</code>` : '',
            f.example ? `<code>${h(side(f.example.service, 200))}</code>` : '',
            f.example ? `<code>${h(f.example.url)}</code>` : '',
          ]),
        );
  if (r.moreDiffering > 0) out += `<p class="muted">… and ${r.moreDiffering} more.</p>`;
  if (r.noise.length > 0)
    out +=
      '<h3>Noise fields</h3>' +
      table(
        ['field', 'diffs vs service', 'noisy legacy pairs', 'noise rate'],
        r.noise.map((f) => [
          `<code>${h(f.field)}</code>`,
          String(f.diffs),
          String(f.noise),
          pct(f.noiseRate),
        ]),
      );
  const ignored = ignoredBy(r, (f) => `<code>${h(f)}</code>`);
  if (ignored) out += `<p class="muted">Ignored by config: ${ignored}</p>`;
  return out;
}

/** One self-contained page (Chart.js inlined) with a latency chart per route. */
export function renderShadowHtml(data: ShadowReportData, options: ReportOptions = {}): ReportOutput {
  const charts: ChartSpec[] = [];
  const body = data.routes.length
    ? data.routes.map((r, i) => route(r, i, charts)).join('\n')
    : '<p>No routes.</p>';
  return {
    output: htmlPage({
      title: options.title ?? 'Shadow comparison',
      body: `<p class="muted">generated ${h(data.generatedAt)}</p>${body}`,
      charts,
    }),
    exitCode: 0,
  };
}
