/**
 * Shell for self-contained HTML reports: one file, no network. Charts use
 * Chart.js, whose UMD build is read from node_modules and inlined into the page,
 * so the report opens offline and in a sandboxed browser.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
let chartJsSource: string | undefined;

/** The Chart.js UMD bundle text (cached). */
export function chartJs(): string {
  // chart.js's package "exports" does not expose dist/chart.umd.js, so resolve
  // the package entry (in dist/) and take the UMD build beside it.
  chartJsSource ??= readFileSync(
    path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.js'),
    'utf8',
  );
  return chartJsSource;
}

export function escapeHtml(s: unknown): string {
  return String(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** A Chart.js chart: a canvas plus the config that draws it. `config` is Chart.js's own config object. */
export interface ChartSpec {
  id: string;
  config: Record<string, unknown>;
  height?: number;
  /** Nothing to draw: the page says "no data" instead of an empty chart with a made-up −1…1 axis. */
  empty?: boolean;
}

export function chartCanvas(c: ChartSpec): string {
  if (c.empty)
    return `<div class="chart"><p class="muted no-data" id="${escapeHtml(c.id)}">no data</p></div>`;
  return `<div class="chart"><canvas id="${escapeHtml(c.id)}" height="${c.height ?? 120}"></canvas></div>`;
}

/**
 * A whole page. `body` is trusted HTML built with escapeHtml; charts are drawn
 * by an inline script once Chart.js has loaded. JSON is embedded with `<`
 * escaped so no data can close the script element.
 */
export function htmlPage(opts: {
  title: string;
  body: string;
  charts?: ChartSpec[];
  generatedAt?: Date;
}): string {
  const charts = (opts.charts ?? []).filter((c) => !c.empty);
  const chartScript =
    charts.length === 0
      ? ''
      : `<script>${chartJs()}</script>
<script>
const specs = ${JSON.stringify(charts.map((c) => ({ id: c.id, config: c.config }))).replace(/</g, '\\u003c')};
for (const s of specs) { s.config.options = Object.assign({ animation: false, responsive: true }, s.config.options || {}); new Chart(document.getElementById(s.id), s.config); }
</script>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(opts.title)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1b1f24}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#1a7f37}.bad{color:#cf222e}.muted{color:#656d76}code,pre{font:12px ui-monospace,monospace}
pre{background:#f6f8fa;padding:.5rem;overflow:auto;max-height:20rem}.chart{max-width:900px}
</style></head><body>
<h1>${escapeHtml(opts.title)}</h1>
${opts.generatedAt ? `<p class="muted">generated ${escapeHtml(opts.generatedAt.toISOString())}</p>` : ''}
${opts.body}
${chartScript}
</body></html>
`;
}
