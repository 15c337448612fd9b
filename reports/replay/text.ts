import type { ReplayResult } from '../../control/replay.js';
import type { ReportOptions, ReportOutput } from '../types.js';
import { ms, replayExit, SKIP_WORDS, skippedTotal } from './shared.js';

/** The terminal summary: counts, then per differing field the number of cases and one example pair. */
export function renderReplayText(r: ReplayResult, _options: ReportOptions = {}): ReportOutput {
  const lines: string[] = [];
  const ran = r.passed + r.failed + r.errors;
  lines.push(
    `replay ${r.file} (route ${r.route}) against ${r.target}: ${r.total} cases in ${ms(r.durationMs)}, concurrency ${r.concurrency}`,
  );
  lines.push(
    `  ${r.passed} passed, ${r.failed} failed, ${r.errors} errors, ${skippedTotal(r)} skipped` +
      (ran > 0 ? ` (${((r.durationMs > 0 ? ran / r.durationMs : 0) * 1000).toFixed(0)} cases/s)` : ''),
  );
  for (const [reason, n] of Object.entries(r.skipped).sort())
    lines.push(`  skipped ${n}: ${SKIP_WORDS[reason] ?? reason}`);
  const noise = Object.entries(r.noise).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  if (noise.length) lines.push(`  tolerated as noise: ${noise.map(([f, n]) => `${f} (${n})`).join(', ')}`);
  if (r.fields.length) {
    lines.push('', 'differing fields (not noise):');
    for (const f of r.fields) {
      const e = f.example;
      lines.push(
        `  ${f.field}  in ${f.cases} case${f.cases === 1 ? '' : 's'}; e.g. case ${e.caseId}: ${e.method} ${e.url}`,
      );
      for (const d of e.differences.filter((x) => x.field === f.field).slice(0, 3))
        lines.push(
          `    ${d.path} (${d.kind}): legacy ${d.legacy ?? '(absent)'}  service ${d.service ?? '(absent)'}`,
        );
      lines.push(`    legacy  ${e.legacy.status} ${e.legacy.body.slice(0, 300)}`);
      lines.push(`    service ${e.service.status} ${e.service.body.slice(0, 300)}`);
    }
  }
  const errors = r.cases.filter((c) => c.verdict === 'error');
  if (errors.length) {
    lines.push('', `errors (no answer from ${r.target}):`);
    for (const c of errors.slice(0, 5)) lines.push(`  case ${c.id}: ${c.method} ${c.url}: ${c.reason}`);
    if (errors.length > 5) lines.push(`  … and ${errors.length - 5} more`);
  }
  lines.push(
    '',
    r.ok
      ? 'PASS: nothing but noise differs from the recorded legacy answers'
      : ran === 0
        ? 'FAIL: no case was replayed'
        : `FAIL: ${r.failed + r.errors} case${r.failed + r.errors === 1 ? '' : 's'} differ from the recorded legacy answers or got none`,
  );
  return { output: `${lines.join('\n')}\n`, exitCode: replayExit(r) };
}
