/**
 * Latency reporters: per route, legacy and service percentiles side by side —
 * over the whole range, from shadow pairs (like for like), and per time bin —
 * in text, md, json or html.
 */
import { chartCanvas, type ChartSpec, escapeHtml, htmlPage } from '../html-page.js';
import { type Align, fmtMs, fmtNum, fmtRatio, htmlTable, mdTable, textTable } from '../table.js';
import type { ReportFormat, ReportOptions, ReportOutput, Reporter } from '../types.js';
import { stallNotes } from '../findings.js';
import type { LatencyData, LatencyRoute, Percentiles } from '../../control/latency-data.js';

/** Text and md show the most recent bins that have traffic; json and html carry the whole series. */
const RECENT_BINS = 12;

const NOTE =
  'Live-traffic percentiles are latency-bucket upper bounds (conservative); shadow percentiles are exact over the stored pairs.';

function pcts(p: Percentiles | null): string[] {
  return p ? [fmtNum(p.requests), fmtMs(p.p50), fmtMs(p.p90), fmtMs(p.p99)] : ['0', '-', '-', '-'];
}

const SIDE_HEADERS = ['n', 'p50', 'p90', 'p99'];

function summaryGrid(r: LatencyRoute): { headers: string[]; rows: string[][]; align: Align[] } {
  const headers = [
    'source',
    ...SIDE_HEADERS.map((h) => `legacy ${h}`),
    ...SIDE_HEADERS.map((h) => `service ${h}`),
  ];
  const rows = [['live traffic', ...pcts(r.overall.legacy), ...pcts(r.overall.service)]];
  if (r.shadow)
    rows.push([`shadow pairs (${r.shadow.pairs})`, ...pcts(r.shadow.legacy), ...pcts(r.shadow.service)]);
  return { headers, rows, align: headers.map((_, i) => (i === 0 ? 'left' : 'right')) };
}

function seriesGrid(r: LatencyRoute): {
  headers: string[];
  rows: string[][];
  align: Align[];
  shown: number;
  total: number;
} {
  const withData = r.series.filter((p) => p.legacy || p.service);
  const shown = withData.slice(-RECENT_BINS);
  const headers = [
    'bin start',
    ...SIDE_HEADERS.map((h) => `legacy ${h}`),
    ...SIDE_HEADERS.map((h) => `service ${h}`),
  ];
  const rows = shown.map((p) => [p.start, ...pcts(p.legacy), ...pcts(p.service)]);
  return {
    headers,
    rows,
    align: headers.map((_, i) => (i === 0 ? 'left' : 'right')),
    shown: shown.length,
    total: withData.length,
  };
}

function ratioLine(r: LatencyRoute): string {
  if (r.p99RatioSource === null) return 'p99 service/legacy: - (no traffic on both sides yet)';
  return `p99 service/legacy: ${fmtRatio(r.p99Ratio)} (from ${r.p99RatioSource === 'shadow' ? 'shadow pairs' : 'live traffic'})`;
}

function header(d: LatencyData): string {
  return `generated ${d.generatedAt}; since ${d.since}; bins of ${d.stepMs / 1000} s`;
}

export const renderLatencyText: Reporter<LatencyData> = (d) => {
  const parts = [`Latency per route and target, ${header(d)}`, ''];
  if (d.routes.length === 0) parts.push('no routes', '');
  for (const r of d.routes) {
    const s = summaryGrid(r);
    const t = seriesGrid(r);
    parts.push(`${r.id} (${r.mode})  ${ratioLine(r)}`, textTable(s.headers, s.rows, s.align));
    if (t.total > 0)
      parts.push(
        `over time (last ${t.shown} of ${t.total} bins with traffic):`,
        textTable(t.headers, t.rows, t.align),
      );
    else parts.push('over time: no traffic recorded in this range', '');
  }
  parts.push(...stallNotes(d.findings), NOTE, '');
  return { output: parts.join('\n'), exitCode: 0 };
};

export const renderLatencyMd: Reporter<LatencyData> = (d) => {
  const parts = ['# Latency', '', `${header(d)[0].toUpperCase()}${header(d).slice(1)}.`, ''];
  if (d.routes.length === 0) parts.push('_no routes_', '');
  for (const r of d.routes) {
    const s = summaryGrid(r);
    const t = seriesGrid(r);
    parts.push(`## ${r.id} (${r.mode})`, '', ratioLine(r), '', mdTable(s.headers, s.rows, s.align));
    if (t.total > 0)
      parts.push(
        `Over time (last ${t.shown} of ${t.total} bins with traffic):`,
        '',
        mdTable(t.headers, t.rows, t.align),
      );
    else parts.push('_No traffic recorded in this range._', '');
  }
  parts.push(...stallNotes(d.findings).flatMap((l) => [`**${l}**`, '']), `_${NOTE}_`, '');
  return { output: parts.join('\n'), exitCode: 0 };
};

export const renderLatencyJson: Reporter<LatencyData> = (d) => ({
  output: `${JSON.stringify(d, null, 2)}\n`,
  exitCode: 0,
});

function routeChart(r: LatencyRoute, index: number): ChartSpec {
  const labels = r.series.map((p) => p.start.slice(0, 16).replace('T', ' '));
  const line = (label: string, data: Array<number | null>, color: string, dash?: number[]) => ({
    label,
    data,
    borderColor: color,
    backgroundColor: color,
    borderDash: dash,
    spanGaps: true,
  });
  return {
    id: `latency-${index}`,
    empty: r.series.every((p) => !p.legacy && !p.service),
    config: {
      type: 'line',
      data: {
        labels,
        datasets: [
          line(
            'legacy p50',
            r.series.map((p) => p.legacy?.p50 ?? null),
            '#8c959f',
            [4, 3],
          ),
          line(
            'legacy p99',
            r.series.map((p) => p.legacy?.p99 ?? null),
            '#57606a',
          ),
          line(
            'service p50',
            r.series.map((p) => p.service?.p50 ?? null),
            '#54aeff',
            [4, 3],
          ),
          line(
            'service p99',
            r.series.map((p) => p.service?.p99 ?? null),
            '#0969da',
          ),
        ],
      },
      options: { scales: { y: { title: { display: true, text: 'ms' } } } },
    },
  };
}

export const renderLatencyHtml: Reporter<LatencyData> = (d, options: ReportOptions = {}) => {
  const charts: ChartSpec[] = [];
  const sections = d.routes.map((r, i) => {
    const s = summaryGrid(r);
    const chart = routeChart(r, i);
    charts.push(chart);
    const table = htmlTable(s.headers, s.rows, s.align);
    return `<h2>${escapeHtml(`${r.id} (${r.mode})`)}</h2>
<p>${escapeHtml(ratioLine(r))}</p>
${table}
${chartCanvas(chart)}`;
  });
  // htmlPage prints the generated line itself: only the range here, so the page says it once.
  const body = `<p class="muted">${escapeHtml(`since ${d.since}; bins of ${d.stepMs / 1000} s`)}</p>
${sections.join('\n') || '<p>no routes</p>'}
${stallNotes(d.findings)
  .map((l) => `<p><strong>${escapeHtml(l)}</strong></p>\n`)
  .join('')}<p class="muted">${escapeHtml(NOTE)}</p>`;
  return {
    output: htmlPage({
      title: options.title ?? 'Latency',
      body,
      charts,
      generatedAt: options.now ?? new Date(d.generatedAt),
    }),
    exitCode: 0,
  };
};

export const LATENCY_REPORTERS: Record<ReportFormat, Reporter<LatencyData>> = {
  text: renderLatencyText,
  md: renderLatencyMd,
  json: renderLatencyJson,
  html: renderLatencyHtml,
};

export function renderLatency(d: LatencyData, format: ReportFormat, options?: ReportOptions): ReportOutput {
  return LATENCY_REPORTERS[format](d, options);
}
