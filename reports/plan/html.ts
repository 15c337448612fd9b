/**
 * The plan as one self-contained HTML page (reports/html-page.ts), readable
 * at thousands of modules: capabilities are the nodes (their modules folded
 * in), drawn in rows by capability wave that wrap to the page width, so no
 * wave needs sideways scrolling; then the ranked candidates with every reason
 * in full (cells wrap, nothing is clipped), the shared libraries, and the
 * module view (waves, cycles, cuts) folded in <details>.
 */
import type { Plan, PlanCandidate } from './types.js';
import { escapeHtml, htmlPage } from '../html-page.js';
import type { ReportOptions, ReportOutput } from '../types.js';
import { WAVE_COLOURS, SHARED_COLOUR, where } from './shared.js';
import { candidateSummary, extractFirst, importsByFile } from './text.js';

/** Drawing width in SVG units; the SVG scales to its container (never wider than the page). */
const WIDTH = 1040;
const BOX_W = 160;
const BOX_H = 34;
const GAP = 12;
const LABEL_W = 70;
const PER_ROW = Math.floor((WIDTH - LABEL_W + GAP) / (BOX_W + GAP));
/** Capabilities drawn; the tables list every one. */
const MAX_DRAWN = 120;
/** Modules listed per wave and cycle in the module view before "and N more". */
const MAX_LISTED = 40;

const PAGE_CSS = `<style>
.plan table{table-layout:fixed;width:100%}
.plan td,.plan th{overflow-wrap:anywhere;word-break:break-word}
.plan ul.reasons{margin:0;padding-left:1.1rem}
.plan svg{width:100%;height:auto;display:block}
.plan .callout{background:#f0f7ff;border:1px solid #b6d4fe;padding:.5rem .75rem;border-radius:6px}
.plan details{margin:.5rem 0}.plan pre{white-space:pre-wrap;overflow-wrap:anywhere}
</style>`;

/** Waves of capabilities: wave 1 depends on no other capability; a cycle shares the wave where it is broken. */
export function capabilityWaves(candidates: PlanCandidate[]): Map<string, number> {
  const wave = new Map<string, number>();
  const names = new Set(candidates.map((c) => c.name));
  const pending = new Set(candidates.map((c) => c.name));
  const deps = new Map(candidates.map((c) => [c.name, c.dependsOn.filter((d) => names.has(d))]));
  while (pending.size > 0) {
    let progressed = false;
    for (const n of [...pending]) {
      const ds = deps.get(n)!;
      if (ds.every((d) => wave.has(d))) {
        wave.set(n, 1 + Math.max(0, ...ds.map((d) => wave.get(d)!)));
        pending.delete(n);
        progressed = true;
      }
    }
    if (!progressed) {
      // a cycle: place its member with the fewest unplaced dependencies, after what is placed
      const n = [...pending].sort(
        (a, b) =>
          deps.get(a)!.filter((d) => !wave.has(d)).length - deps.get(b)!.filter((d) => !wave.has(d)).length,
      )[0];
      wave.set(
        n,
        1 +
          Math.max(
            0,
            ...deps
              .get(n)!
              .filter((d) => wave.has(d))
              .map((d) => wave.get(d)!),
          ),
      );
      pending.delete(n);
    }
  }
  return wave;
}

function capabilityMap(plan: Plan): string {
  const drawn = plan.candidates.slice(0, MAX_DRAWN);
  const waves = capabilityWaves(drawn);
  const byWave = new Map<number, PlanCandidate[]>();
  for (const c of drawn) {
    const w = waves.get(c.name)!;
    byWave.set(w, [...(byWave.get(w) ?? []), c]);
  }
  const pos = new Map<string, { x: number; y: number }>();
  const parts: string[] = [];
  let y = 10;
  const rows: string[] = [];
  for (const w of [...byWave.keys()].sort((a, b) => a - b)) {
    const list = byWave.get(w)!.sort((a, b) => a.rank - b.rank);
    rows.push(`<text x="0" y="${y + BOX_H / 2 + 4}" fill="#57606a">wave ${w}</text>`);
    list.forEach((c, i) => {
      const col = i % PER_ROW;
      const line = Math.floor(i / PER_ROW);
      pos.set(c.name, { x: LABEL_W + col * (BOX_W + GAP), y: y + line * (BOX_H + GAP) });
    });
    y += Math.ceil(list.length / PER_ROW) * (BOX_H + GAP) + 18;
  }
  const height = y;
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui,sans-serif" font-size="11" role="img" aria-label="capabilities by wave">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#8c959f"/></marker></defs>',
    ...rows,
  );
  for (const c of drawn)
    for (const d of c.dependsOn) {
      const a = pos.get(c.name);
      const b = pos.get(d);
      if (!a || !b) continue;
      parts.push(
        `<path d="M ${a.x + BOX_W / 2} ${a.y} L ${b.x + BOX_W / 2} ${b.y + BOX_H}" stroke="#8c959f" stroke-opacity="0.5" fill="none" marker-end="url(#arrow)" class="edge"><title>${escapeHtml(`${c.name} depends on ${d}`)}</title></path>`,
      );
    }
  for (const c of drawn) {
    const p = pos.get(c.name)!;
    const label = c.name.length > 24 ? `…${c.name.slice(-23)}` : c.name;
    const fill = WAVE_COLOURS[(waves.get(c.name)! - 1) % WAVE_COLOURS.length];
    parts.push(
      `<g class="capability"><title>${escapeHtml(`${c.rank}. ${c.name} (score ${c.score}): ${candidateSummary(c)}; ${c.modules.length} modules`)}</title><rect x="${p.x}" y="${p.y}" width="${BOX_W}" height="${BOX_H}" rx="6" fill="${fill}" stroke="#57606a"/><text x="${p.x + BOX_W / 2}" y="${p.y + 14}" text-anchor="middle">${escapeHtml(`${c.rank}. ${label}`)}</text><text x="${p.x + BOX_W / 2}" y="${p.y + 27}" text-anchor="middle" fill="#57606a">${escapeHtml(`${c.modules.length} mod · ${c.tables.owns.length} tbl · ${c.routes.length} rt`)}</text></g>`,
    );
  }
  parts.push('</svg>');
  return parts.join('\n');
}

const listed = (names: string[]): string =>
  escapeHtml(
    names.length <= MAX_LISTED
      ? names.join(', ')
      : `${names.slice(0, MAX_LISTED).join(', ')} and ${names.length - MAX_LISTED} more`,
  );

export function renderPlanHtml(plan: Plan, options: ReportOptions = {}): ReportOutput {
  const body: string[] = [PAGE_CSS, '<div class="plan">'];
  body.push(
    `<p>${plan.modules.length} modules, ${plan.imports.length} imports, ${plan.cycles.length} cycles; ${plan.candidates.length} capabilities, ${plan.libraries.length} shared libraries. Root: <code>${escapeHtml(plan.root)}</code></p>`,
  );
  const first = extractFirst(plan);
  if (first)
    body.push(
      `<p class="callout"><strong>Extract first: ${escapeHtml(first.name)}</strong> ${escapeHtml(first.detail)}</p>`,
    );
  if (plan.candidates.length > 0) {
    body.push('<h2>Capabilities by wave</h2>');
    body.push(capabilityMap(plan));
    body.push(
      `<p class="muted">Wave 1 depends on no other capability; arrows point from a capability to one it imports. Each box: rank, name, modules · tables owned · routes.${plan.candidates.length > MAX_DRAWN ? ` The ${MAX_DRAWN} best-ranked of ${plan.candidates.length} are drawn; the table lists all.` : ''}</p>`,
    );
    body.push(
      '<h2>Capabilities, in recommended order</h2><table class="candidates"><colgroup><col style="width:3rem"><col style="width:22%"><col style="width:4.5rem"><col></colgroup><tr><th>#</th><th>capability</th><th>score</th><th>reasons</th></tr>',
    );
    for (const c of plan.candidates)
      body.push(
        `<tr><td class="num">${c.rank}</td><td><code>${escapeHtml(c.name)}</code><br><span class="muted">${escapeHtml(`${c.source}, ${c.modules.length} modules, ${c.loc} lines`)}</span>${c.tables.owns.length > 0 ? `<br><span class="muted">owns ${escapeHtml(c.tables.owns.join(', '))}</span>` : ''}</td><td class="num">${c.score}</td><td><ul class="reasons">${c.reasons.map((r) => `<li class="reason">${escapeHtml(r)}</li>`).join('')}</ul></td></tr>`,
      );
    body.push('</table>');
  }
  if (plan.libraries.length > 0) {
    body.push(
      `<h2>Shared libraries</h2><p>Copy or package them, don't extract them.</p><table class="libraries"><colgroup><col style="width:25%"><col style="width:5rem"><col></colgroup><tr><th>library</th><th>importers</th><th>why</th></tr>`,
    );
    for (const l of plan.libraries)
      body.push(
        `<tr><td><code>${escapeHtml(l.name)}</code></td><td class="num">${l.importers.length}</td><td class="reason">${escapeHtml(l.reason)}</td></tr>`,
      );
    body.push('</table>');
  }
  body.push('<h2>Module view</h2>');
  body.push(
    `<details><summary>Module waves (${plan.waves.length})</summary><ul>${plan.waves.map((w) => `<li style="border-left:6px solid ${w.shared ? SHARED_COLOUR : WAVE_COLOURS[(w.wave - 1) % WAVE_COLOURS.length]};padding-left:.4rem">wave ${w.wave}${w.shared ? ' (shared)' : ''}, ${w.modules.length} modules: ${listed(w.modules)}</li>`).join('')}</ul></details>`,
  );
  if (plan.cycles.length > 0)
    body.push(
      `<details><summary>Cycles (${plan.cycles.length})</summary>${plan.cycles
        .map(
          (c) =>
            `<p>${c.id}. ${c.modules.length} modules: ${listed(c.modules)}</p><pre>${c.witness.map((imp) => escapeHtml(`${imp.from} -> ${imp.to}  ${where(imp)} (${imp.kind})`)).join('\n')}</pre>`,
        )
        .join('')}</details>`,
    );
  if (plan.cuts.length > 0) {
    body.push(
      `<details><summary>Suggested cuts (${plan.cuts.length})</summary><table><colgroup><col style="width:30%"><col style="width:4rem"><col style="width:30%"><col></colgroup><tr><th>import</th><th>cost</th><th>lines</th><th>suggestion</th></tr>`,
    );
    for (const c of plan.cuts)
      body.push(
        `<tr><td><code>${escapeHtml(`${c.from} -> ${c.to}`)}</code></td><td class="num">${c.cost}</td><td>${importsByFile(c.imports).map(escapeHtml).join('<br>')}</td><td>${escapeHtml(c.suggestion)}</td></tr>`,
      );
    body.push('</table></details>');
  }
  if (plan.notes.length > 0)
    body.push(`<h2>Notes</h2><ul>${plan.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`);
  if (plan.problems.length > 0)
    body.push(
      `<details><summary>Problems (${plan.problems.length})</summary><ul>${plan.problems.map((p) => `<li>${escapeHtml(`${p.file}:${p.line}: ${p.message}`)}</li>`).join('')}</ul></details>`,
    );
  body.push('</div>');
  return {
    output: htmlPage({
      title: options.title ?? 'Extraction plan',
      body: body.join('\n'),
      generatedAt: options.now,
    }),
    exitCode: 0,
  };
}
