import type { ReplayResult } from '../../control/replay.js';
import type { ReportOptions, ReportOutput } from '../types.js';
import { replayExit, SKIP_WORDS } from './shared.js';

/** XML 1.0 text: markup characters escaped, characters XML cannot carry at all dropped. */
function xml(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(
      /[&<>"']/g,
      (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!,
    );
}

/**
 * JUnit XML as CI systems read it (one testsuite, a testcase per case named by
 * method, URL and case id; failures carry the differing fields and the example
 * pair of the field). The common subset Jenkins, GitLab and GitHub reporters share.
 */
export function renderReplayJunit(r: ReplayResult, _options: ReportOptions = {}): ReportOutput {
  const example = new Map(r.fields.map((f) => [f.field, f.example]));
  const skipped = r.total - r.passed - r.failed - r.errors;
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const attrs = `tests="${r.total}" failures="${r.failed}" errors="${r.errors}" skipped="${skipped}" time="${(r.durationMs / 1000).toFixed(3)}"`;
  out.push(`<testsuites name="strangler replay" ${attrs}>`);
  out.push(`  <testsuite name="${xml(`replay ${r.route}`)}" ${attrs}>`);
  out.push(
    `    <properties><property name="file" value="${xml(r.file)}"/><property name="target" value="${xml(r.target)}"/></properties>`,
  );
  for (const c of r.cases) {
    const open = `    <testcase classname="${xml(`replay.${r.route}`)}" name="${xml(`${c.method} ${c.url} [${c.id}]`)}" time="${(c.durationMs / 1000).toFixed(3)}"`;
    if (c.verdict === 'pass') {
      out.push(`${open}/>`);
      continue;
    }
    out.push(`${open}>`);
    if (c.verdict === 'skipped')
      out.push(`      <skipped message="${xml(SKIP_WORDS[c.reason!] ?? c.reason ?? '')}"/>`);
    else if (c.verdict === 'error')
      out.push(
        `      <error message="${xml(`no answer: ${c.reason}`)}" type="${xml(c.reason ?? 'error')}"/>`,
      );
    else {
      const detail = c.fields.map((f) => {
        const e = example.get(f);
        if (!e) return f;
        const d = e.differences.find((x) => x.field === f);
        return `${f}${d ? `: legacy ${d.legacy ?? '(absent)'}, service ${d.service ?? '(absent)'}` : ''} (example: case ${e.caseId})`;
      });
      out.push(
        `      <failure message="${xml(`differs from legacy: ${c.fields.join(', ')}`)}" type="mismatch">${xml(detail.join('\n'))}</failure>`,
      );
    }
    out.push('    </testcase>');
  }
  out.push('  </testsuite>', '</testsuites>');
  return { output: `${out.join('\n')}\n`, exitCode: replayExit(r) };
}
