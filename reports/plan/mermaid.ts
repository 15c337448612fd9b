/** The plan as a Mermaid flowchart: a subgraph per wave, classes per wave colour, suggested cuts dashed. */
import type { Plan } from './types.js';
import type { ReportOptions, ReportOutput } from '../types.js';
import { drawnEdges, waveColour } from './shared.js';

export function renderPlanMermaid(plan: Plan, _options: ReportOptions = {}): ReportOutput {
  // Mermaid ids must be plain words: number the modules, show names as labels.
  const ids = new Map(plan.modules.map((m, i) => [m.name, `m${i}`]));
  const label = (s: string): string => s.replace(/"/g, '#quot;');
  const out: string[] = ['flowchart BT'];
  const byName = new Map(plan.modules.map((m) => [m.name, m]));
  for (const w of plan.waves) {
    out.push(`  subgraph wave${w.wave}["wave ${w.wave}${w.shared ? ' (shared)' : ''}"]`);
    for (const name of w.modules)
      out.push(`    ${ids.get(name)}["${label(`${byName.get(name)!.rank}. ${name}`)}"]`);
    out.push('  end');
  }
  for (const e of drawnEdges(plan)) {
    const arrow = e.cut ? '-. cut .->' : e.typeOnly ? '-.->' : '-->';
    out.push(`  ${ids.get(e.from)} ${arrow} ${ids.get(e.to)}`);
  }
  for (const w of plan.waves) {
    out.push(`  classDef w${w.wave} fill:${waveColour(w.wave, w.shared === true)},stroke:#555`);
    out.push(`  class ${w.modules.map((n) => ids.get(n)).join(',')} w${w.wave}`);
  }
  return { output: `${out.join('\n')}\n`, exitCode: 0 };
}
