/**
 * Progress reporters: the migration at a glance — routes per mode, the share
 * of traffic services serve over time, one row per route, and the planner's
 * next candidates — in text, md, json or html.
 */
import { MODES } from '../../core/types.js';
import { chartCanvas, escapeHtml, htmlPage } from '../html-page.js';
import { type Align, fmtMs, fmtNum, fmtPct, fmtRatio, htmlTable, mdTable, textTable } from '../table.js';
import type { ReportFormat, ReportOptions, ReportOutput, Reporter } from '../types.js';
import type { ProgressData, ProgressRoute, TrafficPoint } from '../../control/progress-data.js';

/**
 * Text and md show the most recent bins that had traffic (and the current one,
 * which may yet), at most this many; json and html carry the whole series.
 */
const RECENT_BINS = 12;

function shownBins(d: ProgressData): TrafficPoint[] {
  return d.traffic.filter((p) => p.legacy + p.service > 0 || p.partial).slice(-RECENT_BINS);
}

function trafficTitle(d: ProgressData): string {
  return `Traffic over time (${shownBins(d).length} of ${d.traffic.length} ${fmtStep(d.stepMs)} bins: those with traffic, and the current one)`;
}

function fmtStep(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

function modeCell(r: ProgressRoute): string {
  return r.mode === 'canary' ? `canary ${r.weight}%` : r.mode;
}

function changeCell(r: ProgressRoute): string {
  if (!r.lastChange.at) return r.lastChange.reason;
  return `${r.lastChange.at} ${r.lastChange.actor}${r.lastChange.reason ? `: ${r.lastChange.reason}` : ''}`;
}

function routeGrid(d: ProgressData): { headers: string[]; rows: string[][]; align: Align[] } {
  const headers = [
    'route',
    'mode',
    'match',
    'compared',
    'legacy req',
    'service req',
    'p99 legacy',
    'p99 service',
    'breaker',
    'loadtest p99 s/l',
    'last change',
  ];
  const rows = d.routes.map((r) => [
    r.id,
    modeCell(r),
    fmtPct(r.matchRate, 2),
    fmtNum(r.compared),
    fmtNum(r.requests.legacy),
    fmtNum(r.requests.service),
    fmtMs(r.p99Ms.legacy),
    fmtMs(r.p99Ms.service),
    r.breaker ? r.breaker.state : '-',
    fmtRatio(r.loadtest?.serviceOverLegacyP99),
    changeCell(r),
  ]);
  const right = new Set([2, 3, 4, 5, 6, 7, 9]);
  return { headers, rows, align: headers.map((_, i) => (right.has(i) ? 'right' : 'left')) };
}

function trafficGrid(d: ProgressData): { headers: string[]; rows: string[][]; align: Align[] } {
  const headers = ['bin start', 'legacy', 'service', 'service share'];
  const rows = shownBins(d).map((p) => {
    const all = p.legacy + p.service;
    return [
      binLabel(p.start, p),
      fmtNum(p.legacy),
      fmtNum(p.service),
      all > 0 ? fmtPct(p.service / all) : '-',
    ];
  });
  return { headers, rows, align: ['left', 'right', 'right', 'right'] };
}

/** The current bin is still filling: say so, or its low counts read as a traffic drop. */
function binLabel(label: string, p: TrafficPoint): string {
  return p.partial ? `${label} (partial)` : label;
}

function hasTraffic(d: ProgressData): boolean {
  return d.totals.legacy + d.totals.service > 0;
}

function modesLine(d: ProgressData): string {
  return `${MODES.map((m) => `${m} ${d.modes[m]}`).join(', ')} (${d.routes.length} routes)`;
}

function totalsLine(d: ProgressData): string {
  const all = d.totals.legacy + d.totals.service;
  if (all === 0) return 'no traffic recorded in this range';
  return `services served ${fmtPct(d.totals.serviceShare)} of ${all} requests (service ${d.totals.service}, legacy ${d.totals.legacy})`;
}

function candidateLines(d: ProgressData): string[] {
  if (!d.plan) return ['no plan saved (run `strangler plan` to save one)'];
  if (d.plan.candidates.length === 0) return [`plan of ${d.plan.at}: every planned module is extracted`];
  return d.plan.candidates.map(
    (c, i) =>
      `${i + 1}. ${c.module}${c.wave !== null ? ` (wave ${c.wave})` : ''}${c.reasons.length ? `: ${c.reasons.join('; ')}` : ''}`,
  );
}

function exitCodeOf(_d: ProgressData): number {
  // A report of the state of things succeeds whatever that state is; gates and the guard judge it.
  return 0;
}

export const renderProgressText: Reporter<ProgressData> = (d) => {
  const rg = routeGrid(d);
  const tg = trafficGrid(d);
  const out = [
    `Migration progress, generated ${d.generatedAt}; traffic since ${d.since} in ${fmtStep(d.stepMs)} bins`,
    '',
    `Routes per mode: ${modesLine(d)}`,
    `Traffic: ${totalsLine(d)}`,
    '',
    textTable(rg.headers, rg.rows, rg.align),
    `${trafficTitle(d)}:`,
    textTable(tg.headers, tg.rows, tg.align),
    d.plan ? `Next candidates (plan of ${d.plan.at}):` : 'Next candidates:',
    ...candidateLines(d).map((l) => `  ${l}`),
    '',
  ];
  return { output: out.join('\n'), exitCode: exitCodeOf(d) };
};

export const renderProgressMd: Reporter<ProgressData> = (d) => {
  const rg = routeGrid(d);
  const tg = trafficGrid(d);
  const out = [
    '# Migration progress',
    '',
    `Generated ${d.generatedAt}; traffic since ${d.since} in ${fmtStep(d.stepMs)} bins.`,
    '',
    `- Routes per mode: ${modesLine(d)}`,
    `- Traffic: ${totalsLine(d)}`,
    '',
    '## Routes',
    '',
    mdTable(rg.headers, rg.rows, rg.align),
    `## ${trafficTitle(d)}`,
    '',
    mdTable(tg.headers, tg.rows, tg.align),
    '## Next candidates',
    '',
    ...(d.plan ? candidateLines(d) : candidateLines(d).map((l) => `_${l}_`)),
    '',
  ];
  return { output: out.join('\n'), exitCode: exitCodeOf(d) };
};

export const renderProgressJson: Reporter<ProgressData> = (d) => ({
  output: `${JSON.stringify(d, null, 2)}\n`,
  exitCode: exitCodeOf(d),
});

const MODE_COLORS = { legacy: '#8c959f', shadow: '#8250df', canary: '#bf8700', service: '#0969da' };

export const renderProgressHtml: Reporter<ProgressData> = (d, options: ReportOptions = {}) => {
  const rg = routeGrid(d);
  const table = htmlTable(rg.headers, rg.rows, rg.align);
  const modesChart = {
    id: 'progress-modes',
    empty: d.routes.length === 0,
    height: 60,
    config: {
      type: 'bar',
      data: {
        labels: [...MODES],
        datasets: [
          {
            label: 'routes',
            data: MODES.map((m) => d.modes[m]),
            backgroundColor: MODES.map((m) => MODE_COLORS[m]),
          },
        ],
      },
      options: {
        indexAxis: 'y',
        plugins: { legend: { display: false } },
        scales: { x: { ticks: { precision: 0 } } },
      },
    },
  };
  const labels = d.traffic.map((p) => binLabel(p.start.slice(0, 16).replace('T', ' '), p));
  const trafficChart = {
    id: 'progress-traffic',
    empty: !hasTraffic(d),
    config: {
      type: 'line',
      data: {
        labels,
        datasets: [
          {
            label: 'service',
            data: d.traffic.map((p) => p.service),
            borderColor: MODE_COLORS.service,
            backgroundColor: 'rgba(9,105,218,0.35)',
            fill: true,
          },
          {
            label: 'legacy',
            data: d.traffic.map((p) => p.legacy),
            borderColor: MODE_COLORS.legacy,
            backgroundColor: 'rgba(140,149,159,0.35)',
            fill: true,
          },
        ],
      },
      options: { scales: { y: { stacked: true, title: { display: true, text: 'requests' } } } },
    },
  };
  const shareChart = {
    id: 'progress-share',
    empty: !hasTraffic(d),
    height: 80,
    config: {
      type: 'line',
      data: {
        labels,
        datasets: [
          {
            label: 'service share %',
            data: d.traffic.map((p) =>
              p.legacy + p.service > 0 ? Math.round((p.service / (p.legacy + p.service)) * 1000) / 10 : null,
            ),
            borderColor: MODE_COLORS.service,
            spanGaps: true,
          },
        ],
      },
      options: { scales: { y: { min: 0, max: 100 } } },
    },
  };
  const candidates = candidateLines(d);
  const body = `<p class="muted">${escapeHtml(`traffic since ${d.since} in ${fmtStep(d.stepMs)} bins`)}</p>
<ul><li>Routes per mode: ${escapeHtml(modesLine(d))}</li><li>Traffic: ${escapeHtml(totalsLine(d))}</li></ul>
${chartCanvas(modesChart)}
<h2>Routes</h2>
${table}
<h2>Traffic served by services vs legacy</h2>
${chartCanvas(trafficChart)}
${chartCanvas(shareChart)}
<h2>Next candidates</h2>
${d.plan ? `<ol>${d.plan.candidates.map((_, i) => `<li>${escapeHtml(candidates[i].replace(/^\d+\. /, ''))}</li>`).join('')}</ol>` : ''}
${!d.plan || d.plan.candidates.length === 0 ? `<p class="muted">${escapeHtml(candidates[0])}</p>` : ''}`;
  return {
    output: htmlPage({
      title: options.title ?? 'Migration progress',
      body,
      charts: [modesChart, trafficChart, shareChart],
      generatedAt: options.now ?? new Date(d.generatedAt),
    }),
    exitCode: exitCodeOf(d),
  };
};

export const PROGRESS_REPORTERS: Record<ReportFormat, Reporter<ProgressData>> = {
  text: renderProgressText,
  md: renderProgressMd,
  json: renderProgressJson,
  html: renderProgressHtml,
};

export function renderProgress(d: ProgressData, format: ReportFormat, options?: ReportOptions): ReportOutput {
  return PROGRESS_REPORTERS[format](d, options);
}
