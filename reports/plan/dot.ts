/** The plan as Graphviz DOT: one cluster per wave, nodes coloured by wave, suggested cuts dashed red. */
import type { Plan } from './types.js';
import type { ReportOptions, ReportOutput } from '../types.js';
import { drawnEdges, waveColour } from './shared.js';

const q = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

export function renderPlanDot(plan: Plan, _options: ReportOptions = {}): ReportOutput {
  const out: string[] = [
    'digraph plan {',
    '  rankdir=BT;',
    '  node [shape=box, style="rounded,filled", fontname="Helvetica"];',
  ];
  const byName = new Map(plan.modules.map((m) => [m.name, m]));
  for (const w of plan.waves) {
    out.push(
      `  subgraph cluster_wave_${w.wave} {`,
      `    label=${q(`wave ${w.wave}${w.shared ? ' (shared)' : ''}`)};`,
    );
    for (const name of w.modules) {
      const m = byName.get(name)!;
      out.push(
        `    ${q(name)} [fillcolor=${q(waveColour(m.wave, m.shared))}, label=${q(`${m.rank}. ${name}`)}];`,
      );
    }
    out.push('  }');
  }
  for (const e of drawnEdges(plan)) {
    const attrs: string[] = [];
    if (e.cut) attrs.push('style=dashed', 'color="#d20f39"', 'label="cut"');
    else if (e.typeOnly) attrs.push('style=dotted', 'color="#9ca0b0"');
    out.push(`  ${q(e.from)} -> ${q(e.to)}${attrs.length ? ` [${attrs.join(', ')}]` : ''};`);
  }
  out.push('}');
  return { output: `${out.join('\n')}\n`, exitCode: 0 };
}
