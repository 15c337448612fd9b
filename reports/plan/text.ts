/** The plan as plain text: the order with reasons, waves, cycles with witnesses, cuts, notes. */
import type { Plan } from './types.js';
import type { ReportOptions, ReportOutput } from '../types.js';
import { where } from './shared.js';

export function renderPlanText(plan: Plan, _options: ReportOptions = {}): ReportOutput {
  const out: string[] = [];
  const candidates = plan.modules.filter((m) => !m.shared);
  out.push(`Extraction plan for ${plan.root}`);
  out.push(
    `${plan.modules.length} modules, ${plan.imports.length} imports, ${plan.cycles.length} cycle${plan.cycles.length === 1 ? '' : 's'}, ${plan.waves.length} wave${plan.waves.length === 1 ? '' : 's'}`,
  );
  if (candidates.length > 0) {
    const first = candidates[0];
    out.push('', `Extract first: ${first.name} (wave ${first.wave}, score ${first.score})`);
  }
  out.push('', 'Recommended order');
  const width = String(plan.modules.length).length;
  for (const m of plan.modules) {
    out.push(
      `${String(m.rank).padStart(width)}. ${m.name}  wave ${m.wave}${m.shared ? ' (shared)' : ''}, score ${m.score}${m.file ? `  [${m.file}]` : ''}`,
    );
    for (const r of m.reasons) out.push(`${' '.repeat(width + 4)}- ${r}`);
  }
  out.push('', 'Waves');
  for (const w of plan.waves)
    out.push(`  wave ${w.wave}${w.shared ? ' (shared)' : ''}: ${w.modules.join(', ')}`);
  if (plan.cycles.length > 0) {
    out.push('', 'Cycles (one shortest witness each)');
    plan.cycles.forEach((c, i) => {
      out.push(`  ${i + 1}. ${c.modules.length} modules: ${c.modules.join(', ')}`);
      for (const imp of c.witness) out.push(`       ${imp.from} -> ${imp.to}  ${where(imp)} (${imp.kind})`);
    });
  }
  if (plan.cuts.length > 0) {
    out.push('', 'Suggested cuts (change these imports to break every cycle)');
    for (const c of plan.cuts) {
      out.push(`  ${c.from} -> ${c.to}  cost ${c.cost}: ${c.suggestion}`);
      for (const imp of c.imports) out.push(`       ${where(imp)} (${imp.kind})`);
    }
  }
  if (plan.notes.length > 0) {
    out.push('', 'Notes');
    for (const n of plan.notes) out.push(`  - ${n}`);
  }
  if (plan.problems.length > 0) {
    out.push(
      '',
      `Problems (${plan.problems.length} file issue${plan.problems.length === 1 ? '' : 's'}, not fatal)`,
    );
    for (const p of plan.problems) out.push(`  ${p.file}:${p.line}: ${p.message}`);
  }
  return { output: `${out.join('\n')}\n`, exitCode: 0 };
}
