/**
 * Load-test reporters: one side-by-side table of the targets a run measured,
 * with the service/legacy and proxy/direct ratios, in text, md, json or html.
 */
import { stallNotes } from '../findings.js';
import { chartCanvas, escapeHtml, htmlPage } from '../html-page.js';
import type { ReportFormat, ReportOptions, ReportOutput, Reporter } from '../types.js';
import { type Align, fmtBytesPerSec, fmtMs, fmtNum, fmtRatio, mdTable, textTable } from '../table.js';
import type {
  LoadtestRatio,
  LoadtestResult,
  LoadtestTarget,
  LoadtestTargetResult,
} from '../../control/loadtest-result.js';

/** A run whose target answered no 2xx at all measured an outage, not a latency: exit 1 so scripts notice. */
function exitCodeOf(r: LoadtestResult): number {
  return r.targets.some((t) => t.requests - t.non2xx <= 0) ? 1 : 0;
}

function ratioLabel(r: LoadtestRatio): string {
  return `${r.of}/${r.over}`;
}

/** Rows of the side-by-side table: one per figure, one column per target then one per ratio. */
function grid(r: LoadtestResult): { headers: string[]; rows: string[][]; align: Align[] } {
  const headers = ['', ...r.targets.map((t) => t.target), ...r.ratios.map(ratioLabel)];
  const statuses = [...new Set(r.targets.flatMap((t) => Object.keys(t.non2xxByStatus)))].sort();
  const row = (
    label: string,
    cell: (t: LoadtestTargetResult) => string,
    ratioKey?: 'rps' | 'p50' | 'p90' | 'p99',
  ): string[] => [
    label,
    ...r.targets.map(cell),
    ...r.ratios.map((x) => (ratioKey ? fmtRatio(x[ratioKey]) : '')),
  ];
  const rows = [
    row('requests/s', (t) => fmtNum(t.rps), 'rps'),
    row('requests', (t) => fmtNum(t.requests)),
    row('p50', (t) => fmtMs(t.latencyMs.p50), 'p50'),
    row('p90', (t) => fmtMs(t.latencyMs.p90), 'p90'),
    row('p99', (t) => fmtMs(t.latencyMs.p99), 'p99'),
    row('max', (t) => fmtMs(t.latencyMs.max)),
    row('errors', (t) => fmtNum(t.errors)),
    row('timeouts', (t) => fmtNum(t.timeouts)),
    row('non-2xx', (t) => fmtNum(t.non2xx)),
    ...statuses.map((s) => row(`  status ${s}`, (t) => fmtNum(t.non2xxByStatus[s] ?? 0))),
    row('bytes/s', (t) => fmtBytesPerSec(t.bytesPerSec)),
  ];
  return { headers, rows, align: headers.map((_, i) => (i === 0 ? 'left' : 'right')) };
}

function summaryLine(r: LoadtestResult): string {
  const rate = r.rate === null ? 'unlimited rate' : `${r.rate} req/s cap`;
  const body = r.bodyBytes > 0 ? `, ${r.bodyBytes}-byte body` : '';
  return (
    `${r.method} ${r.path}, ${r.connections} connections, ${fmtNum(r.durationS)} s per target, ${rate}${body}; ` +
    `mode ${r.mode}, so the proxy serves ${r.directTarget} ("direct")`
  );
}

/** Which URL each target was measured at (issue 26: the report named the service by role only). */
function targetsLine(r: LoadtestResult): string {
  return `measured: ${r.targets.map((t) => `${t.target} ${t.url}`).join(', ')}`;
}

const READING =
  'Ratios divide the first target by the second: latency above 1.00x is slower, requests/s above 1.00x is faster.';

/** How to read the ratio columns; with one target there are none, and nothing to explain. */
function reading(r: LoadtestResult): string {
  return r.ratios.length > 0 ? `${READING}\n` : '';
}

/** Keep-alive stall notes, one per line, each shaped by `line`; '' when none. */
const notes = (r: LoadtestResult, line: (note: string) => string) =>
  stallNotes(r.findings)
    .map((l) => `${line(l)}\n`)
    .join('');

export const renderLoadtestText: Reporter<LoadtestResult> = (r) => {
  const g = grid(r);
  return {
    output: `loadtest ${r.route}: ${summaryLine(r)}\n${targetsLine(r)}\n${r.startedAt} .. ${r.finishedAt}\n\n${textTable(g.headers, g.rows, g.align)}\n${reading(r)}${notes(r, (l) => l)}`,
    exitCode: exitCodeOf(r),
  };
};

export const renderLoadtestMd: Reporter<LoadtestResult> = (r) => {
  const g = grid(r);
  return {
    output: `# Load test: ${r.route}\n\n${summaryLine(r)}\n\n${targetsLine(r)}\n\n${r.startedAt} .. ${r.finishedAt}\n\n${mdTable(g.headers, g.rows, g.align)}\n${reading(r)}${notes(r, (l) => `\n**${l}**\n`)}`,
    exitCode: exitCodeOf(r),
  };
};

export const renderLoadtestJson: Reporter<LoadtestResult> = (r) => ({
  output: `${JSON.stringify(r, null, 2)}\n`,
  exitCode: exitCodeOf(r),
});

const COLORS: Record<LoadtestTarget, string> = { legacy: '#8c959f', service: '#0969da', proxy: '#bf8700' };

export const renderLoadtestHtml: Reporter<LoadtestResult> = (r, options: ReportOptions = {}) => {
  const g = grid(r);
  const table = `<table><tr>${g.headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>${g.rows
    .map(
      (row) =>
        `<tr>${row.map((c, i) => (i === 0 ? `<th>${escapeHtml(c)}</th>` : `<td class="num">${escapeHtml(c)}</td>`)).join('')}</tr>`,
    )
    .join('')}</table>`;
  const rpsChart = {
    id: 'loadtest-rps',
    config: {
      type: 'bar',
      data: {
        labels: r.targets.map((t) => t.target),
        datasets: [
          {
            label: 'requests/s',
            data: r.targets.map((t) => t.rps),
            backgroundColor: r.targets.map((t) => COLORS[t.target]),
          },
        ],
      },
      options: { plugins: { legend: { display: false } } },
    },
  };
  const latencyChart = {
    id: 'loadtest-latency',
    config: {
      type: 'bar',
      data: {
        labels: ['p50', 'p90', 'p99', 'max'],
        datasets: r.targets.map((t) => ({
          label: t.target,
          data: [t.latencyMs.p50, t.latencyMs.p90, t.latencyMs.p99, t.latencyMs.max],
          backgroundColor: COLORS[t.target],
        })),
      },
      options: { scales: { y: { title: { display: true, text: 'ms' } } } },
    },
  };
  const body = `<p>${escapeHtml(summaryLine(r))}</p>
<p>${escapeHtml(targetsLine(r))}</p>
<p class="muted">${escapeHtml(`${r.startedAt} .. ${r.finishedAt}`)}</p>
${table}
${r.ratios.length > 0 ? `<p class="muted">${escapeHtml(READING)}</p>` : ''}
${notes(r, (l) => `<p><strong>${escapeHtml(l)}</strong></p>`)}
<h2>Requests per second</h2>
${chartCanvas(rpsChart)}
<h2>Latency</h2>
${chartCanvas(latencyChart)}`;
  return {
    output: htmlPage({
      title: options.title ?? `Load test: ${r.route}`,
      body,
      charts: [rpsChart, latencyChart],
      generatedAt: options.now,
    }),
    exitCode: exitCodeOf(r),
  };
};

export const LOADTEST_REPORTERS: Record<ReportFormat, Reporter<LoadtestResult>> = {
  text: renderLoadtestText,
  md: renderLoadtestMd,
  json: renderLoadtestJson,
  html: renderLoadtestHtml,
};

export function renderLoadtest(
  r: LoadtestResult,
  format: ReportFormat,
  options?: ReportOptions,
): ReportOutput {
  return LOADTEST_REPORTERS[format](r, options);
}
