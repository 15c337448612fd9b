import type { ReplayResult } from '../../control/replay.js';
import { escapeHtml, htmlPage } from '../html-page.js';
import type { ReportOptions, ReportOutput } from '../types.js';
import { ms, replayExit, SKIP_WORDS, skippedTotal } from './shared.js';

/** A self-contained page: the verdict, counts, each differing field with its example pair, the failed cases. */
export function renderReplayHtml(r: ReplayResult, options: ReportOptions = {}): ReportOutput {
  const e = escapeHtml;
  const verdict = r.ok
    ? '<p class="ok" data-testid="verdict"><strong>PASS</strong>: nothing but noise differs</p>'
    : '<p class="bad" data-testid="verdict"><strong>FAIL</strong></p>';
  const counts = `<table><tr><th>cases</th><th>passed</th><th>failed</th><th>errors</th><th>skipped</th><th>time</th></tr>
<tr><td class="num">${r.total}</td><td class="num">${r.passed}</td><td class="num">${r.failed}</td><td class="num">${r.errors}</td><td class="num">${skippedTotal(r)}</td><td class="num">${e(ms(r.durationMs))}</td></tr></table>`;
  const skips = Object.entries(r.skipped)
    .sort()
    .map(([k, n]) => `<li>${n} skipped: ${e(SKIP_WORDS[k] ?? k)}</li>`)
    .join('');
  const fields = r.fields
    .map(
      (f) => `<h3><code>${e(f.field)}</code> — ${f.cases} case${f.cases === 1 ? '' : 's'}</h3>
<p class="muted">example: case ${e(f.example.caseId)}, <code>${e(f.example.method)} ${e(f.example.url)}</code></p>
<table><tr><th>path</th><th>kind</th><th>legacy</th><th>service</th></tr>${f.example.differences
        .map(
          (d) =>
            `<tr><td><code>${e(d.path)}</code></td><td>${e(d.kind)}</td><td><code>${e(d.legacy ?? '')}</code></td><td><code>${e(d.service ?? '')}</code></td></tr>`,
        )
        .join('')}</table>
<table><tr><th>legacy ${f.example.legacy.status}</th><th>service ${f.example.service.status}</th></tr>
<tr><td><pre>${e(f.example.legacy.body)}</pre></td><td><pre>${e(f.example.service.body)}</pre></td></tr></table>`,
    )
    .join('\n');
  const noise = Object.entries(r.noise)
    .sort()
    .map(([f, n]) => `<li><code>${e(f)}</code> (${n})</li>`)
    .join('');
  const body = `<p>${e(r.file)} (route <code>${e(r.route)}</code>) against <code>${e(r.target)}</code>, concurrency ${r.concurrency}</p>
${verdict}${counts}${skips ? `<ul>${skips}</ul>` : ''}
${r.fields.length ? `<h2>Differing fields</h2>${fields}` : ''}
${noise ? `<h2>Tolerated as noise</h2><ul>${noise}</ul>` : ''}`;
  return {
    output: htmlPage({
      title: options.title ?? `strangler replay: ${r.route}`,
      body,
      generatedAt: options.now,
    }),
    exitCode: replayExit(r),
  };
}
