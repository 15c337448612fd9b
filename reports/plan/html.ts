/**
 * The plan as one self-contained HTML page (reports/html-page.ts): the order
 * with reasons, an inline SVG of the layered graph (a row per wave, suggested
 * cuts dashed), cycles with their witness imports, cuts and notes.
 */
import type { Plan } from './types.js';
import { escapeHtml, htmlPage } from '../html-page.js';
import type { ReportOptions, ReportOutput } from '../types.js';
import { drawnEdges, waveColour, where } from './shared.js';

/** Beyond this many modules a drawing is unreadable; the tables still list everything. */
const MAX_DRAWN = 400;
const BOX_W = 150;
const BOX_H = 28;
const GAP_X = 20;
const ROW_H = 90;

function layeredSvg(plan: Plan): string {
  const pos = new Map<string, { x: number; y: number }>();
  const widest = Math.max(...plan.waves.map((w) => w.modules.length));
  const width = widest * (BOX_W + GAP_X) + GAP_X + 90;
  plan.waves.forEach((w, row) => {
    const rowWidth = w.modules.length * (BOX_W + GAP_X) - GAP_X;
    const x0 = 90 + (width - 90 - rowWidth) / 2;
    w.modules.forEach((name, i) => {
      pos.set(name, { x: x0 + i * (BOX_W + GAP_X), y: 20 + row * ROW_H });
    });
  });
  const height = plan.waves.length * ROW_H + 10;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui,sans-serif" font-size="11">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#57606a"/></marker></defs>',
  ];
  plan.waves.forEach((w, row) => {
    parts.push(
      `<text x="4" y="${20 + row * ROW_H + BOX_H / 2 + 4}" fill="#57606a">wave ${w.wave}${w.shared ? ' (shared)' : ''}</text>`,
    );
  });
  for (const e of drawnEdges(plan)) {
    const a = pos.get(e.from);
    const b = pos.get(e.to);
    if (!a || !b) continue;
    const down = b.y > a.y;
    const same = a.y === b.y;
    const x1 = a.x + BOX_W / 2;
    const y1 = same ? a.y : down ? a.y + BOX_H : a.y;
    const x2 = b.x + BOX_W / 2;
    const y2 = same ? b.y : down ? b.y : b.y + BOX_H;
    const style = e.cut
      ? 'stroke="#cf222e" stroke-dasharray="6 4" stroke-width="1.6"'
      : e.typeOnly
        ? 'stroke="#8c959f" stroke-dasharray="2 3"'
        : 'stroke="#57606a"';
    const path = same
      ? `M ${x1} ${y1} C ${x1} ${y1 - 30}, ${x2} ${y2 - 30}, ${x2} ${y2}`
      : `M ${x1} ${y1} L ${x2} ${y2}`;
    parts.push(
      `<path d="${path}" fill="none" ${style} marker-end="url(#arrow)" class="${e.cut ? 'cut' : 'edge'}"><title>${escapeHtml(`${e.from} imports ${e.to}${e.cut ? ' (suggested cut)' : ''}`)}</title></path>`,
    );
  }
  for (const m of plan.modules) {
    const p = pos.get(m.name)!;
    const shortName = m.name.length > 24 ? `…${m.name.slice(-23)}` : m.name;
    parts.push(
      `<g><title>${escapeHtml(`${m.rank}. ${m.name} (wave ${m.wave}, score ${m.score})`)}</title><rect x="${p.x}" y="${p.y}" width="${BOX_W}" height="${BOX_H}" rx="6" fill="${waveColour(m.wave, m.shared)}" stroke="#57606a"/><text x="${p.x + BOX_W / 2}" y="${p.y + BOX_H / 2 + 4}" text-anchor="middle">${escapeHtml(`${m.rank}. ${shortName}`)}</text></g>`,
    );
  }
  parts.push('</svg>');
  return parts.join('\n');
}

export function renderPlanHtml(plan: Plan, options: ReportOptions = {}): ReportOutput {
  const body: string[] = [];
  const first = plan.modules.find((m) => !m.shared);
  body.push(
    `<p>${plan.modules.length} modules, ${plan.imports.length} imports, ${plan.cycles.length} cycles, ${plan.waves.length} waves. Root: <code>${escapeHtml(plan.root)}</code></p>`,
  );
  if (first)
    body.push(
      `<p><strong>Extract first: ${escapeHtml(first.name)}</strong> (wave ${first.wave}, score ${first.score})</p>`,
    );
  body.push('<h2>Layered graph</h2>');
  body.push(
    plan.modules.length <= MAX_DRAWN
      ? `<div style="overflow:auto">${layeredSvg(plan)}</div><p class="muted">Wave 1 on top; arrows point from importer to imported; red dashed edges are the suggested cuts, dotted ones type-only imports.</p>`
      : `<p class="muted">${plan.modules.length} modules: too many to draw (limit ${MAX_DRAWN}); use --format dot.</p>`,
  );
  body.push(
    '<h2>Recommended order</h2><table><tr><th>#</th><th>module</th><th>wave</th><th>score</th><th>reasons</th></tr>',
  );
  for (const m of plan.modules)
    body.push(
      `<tr><td class="num">${m.rank}</td><td><code>${escapeHtml(m.name)}</code>${m.file ? `<br><span class="muted">${escapeHtml(m.file)}</span>` : ''}</td><td class="num">${m.wave}${m.shared ? ' (shared)' : ''}</td><td class="num">${m.score}</td><td><ul>${m.reasons.map((r) => `<li>${escapeHtml(r)}</li>`).join('')}</ul></td></tr>`,
    );
  body.push('</table>');
  if (plan.cycles.length > 0) {
    body.push('<h2>Cycles</h2>');
    for (const c of plan.cycles)
      body.push(
        `<p>${escapeHtml(c.modules.join(', '))}</p><pre>${c.witness.map((imp) => escapeHtml(`${imp.from} -> ${imp.to}  ${where(imp)} (${imp.kind})`)).join('\n')}</pre>`,
      );
  }
  if (plan.cuts.length > 0) {
    body.push(
      '<h2>Suggested cuts</h2><table><tr><th>import</th><th>cost</th><th>lines</th><th>suggestion</th></tr>',
    );
    for (const c of plan.cuts)
      body.push(
        `<tr><td><code>${escapeHtml(`${c.from} -> ${c.to}`)}</code></td><td class="num">${c.cost}</td><td>${c.imports.map((imp) => escapeHtml(`${where(imp)} (${imp.kind})`)).join('<br>')}</td><td>${escapeHtml(c.suggestion)}</td></tr>`,
      );
    body.push('</table>');
  }
  if (plan.notes.length > 0)
    body.push(`<h2>Notes</h2><ul>${plan.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`);
  if (plan.problems.length > 0)
    body.push(
      `<h2>Problems</h2><ul>${plan.problems.map((p) => `<li>${escapeHtml(`${p.file}:${p.line}: ${p.message}`)}</li>`).join('')}</ul>`,
    );
  return {
    output: htmlPage({
      title: options.title ?? 'Extraction plan',
      body: body.join('\n'),
      generatedAt: options.now,
    }),
    exitCode: 0,
  };
}
