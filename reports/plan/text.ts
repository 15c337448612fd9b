/**
 * The plan as plain text: the capabilities in recommended order with their
 * reasons, the shared libraries, then the module view (waves, cycles with
 * witnesses, cuts grouped by file), notes and problems.
 */
import type { ImportRecord, Plan, PlanCandidate } from './types.js';
import type { ReportOptions, ReportOutput } from '../types.js';
import { where } from './shared.js';

/** Names listed per wave before "and N more" (the JSON has them all). */
const WAVE_NAMES = 12;
/** Problems listed before "and N more". */
const PROBLEMS = 50;

const plural = (n: number, word: string, many = `${word}s`): string => `${n} ${n === 1 ? word : many}`;

/** What a candidate is, in a few words: `owns blocks; serves /api/block/*`. */
export function candidateSummary(c: PlanCandidate): string {
  const parts: string[] = [];
  if (c.routes.length > 0)
    parts.push(
      `serves ${c.routes.slice(0, 2).join(', ')}${c.routes.length > 2 ? ` and ${plural(c.routes.length - 2, 'more route')}` : ''}`,
    );
  if (c.tables.owns.length > 0)
    parts.push(
      `owns ${c.tables.owns.slice(0, 3).join(', ')}${c.tables.owns.length > 3 ? ` and ${plural(c.tables.owns.length - 3, 'more table')}` : ''}`,
    );
  if (c.dependsOn.length === 0) parts.push('depends on no other capability');
  return parts.join('; ');
}

/** The "Extract first" line (name, then detail): the first candidate with something to extract, else why there is none. */
export function extractFirst(plan: Plan): { name: string; detail: string } | undefined {
  if (plan.candidates.length === 0) return undefined;
  const first = plan.candidates.find((c) => !c.glue);
  if (!first)
    return {
      name: 'nothing yet',
      detail:
        '— no capability has tables or an entry point of its own in the source (a library, glue or scripts; routes the scan cannot read can be named with --config module: routes)',
    };
  return {
    name: first.name,
    detail: `(score ${first.score}): ${candidateSummary(first) || 'the best score; see its reasons below'}`,
  };
}

/** Import statements grouped by file: `shop/web.py: 3, 9 (top)` — one line per file, not per name. */
export function importsByFile(imports: ImportRecord[]): string[] {
  const byFile = new Map<string, Map<string, Set<number | null>>>();
  for (const imp of imports) {
    const file = imp.file ?? '(graph input)';
    const kinds = byFile.get(file) ?? new Map<string, Set<number | null>>();
    const lines = kinds.get(imp.kind) ?? new Set<number | null>();
    lines.add(imp.line);
    kinds.set(imp.kind, lines);
    byFile.set(file, kinds);
  }
  const out: string[] = [];
  for (const [file, kinds] of byFile)
    out.push(
      `${file}: ${[...kinds]
        .map(([kind, lines]) => `${[...lines].map((l) => l ?? '?').join(', ')} (${kind})`)
        .join('; ')}`,
    );
  return out;
}

export function renderPlanText(plan: Plan, _options: ReportOptions = {}): ReportOutput {
  const out: string[] = [];
  out.push(`Extraction plan for ${plan.root}`);
  out.push(
    `${plural(plan.modules.length, 'module')}, ${plural(plan.imports.length, 'import')}, ${plural(plan.cycles.length, 'cycle')}; ${plural(plan.candidates.length, 'capability', 'capabilities')}, ${plural(plan.libraries.filter((l) => !l.dataLayer).length, 'shared library', 'shared libraries')}${plan.libraries.some((l) => l.dataLayer) ? `, ${plural(plan.libraries.filter((l) => l.dataLayer).length, 'data layer')}` : ''}`,
  );
  const first = extractFirst(plan);
  if (first) out.push('', `Extract first: ${first.name} ${first.detail}`);
  if (plan.candidates.length > 0) {
    out.push('', 'Capabilities, in recommended order');
    const width = String(plan.candidates.length).length;
    const pad = ' '.repeat(width + 4);
    for (const c of plan.candidates) {
      out.push(
        `${String(c.rank).padStart(width)}. ${c.name}  score ${c.score}  [${c.source}, ${plural(c.modules.length, 'module')}, ${c.loc} lines]`,
      );
      for (const r of c.reasons) out.push(`${pad}- ${r}`);
    }
  }
  const layers = plan.libraries.filter((l) => l.dataLayer);
  if (layers.length > 0) {
    out.push('', 'Data layer (its tables belong to the capabilities that use them through it)');
    for (const l of layers) out.push(`  ${l.name}: ${l.reason.replace(/^data layer — /, '')}`);
  }
  if (plan.libraries.length > layers.length) {
    out.push('', "Shared libraries (copy or package them, don't extract them)");
    for (const l of plan.libraries.filter((x) => !x.dataLayer))
      out.push(
        `  ${l.name}: ${l.reason.replace(/^shared library — copy or package it, don't extract it: /, '')}`,
      );
  }
  out.push('', 'Module waves (leaf-first order of the module graph)');
  for (const w of plan.waves) {
    const names =
      w.modules.length <= WAVE_NAMES
        ? w.modules.join(', ')
        : `${w.modules.slice(0, WAVE_NAMES).join(', ')} and ${w.modules.length - WAVE_NAMES} more`;
    out.push(`  wave ${w.wave}${w.shared ? ' (shared)' : ''}: ${names}`);
  }
  if (plan.cycles.length > 0) {
    out.push('', 'Cycles (one shortest witness each)');
    for (const c of plan.cycles) {
      const names =
        c.modules.length <= WAVE_NAMES
          ? c.modules.join(', ')
          : `${c.modules.slice(0, WAVE_NAMES).join(', ')} and ${c.modules.length - WAVE_NAMES} more`;
      out.push(`  ${c.id}. ${c.modules.length} modules: ${names}`);
      for (const imp of c.witness) out.push(`       ${imp.from} -> ${imp.to}  ${where(imp)} (${imp.kind})`);
    }
  }
  if (plan.cuts.length > 0) {
    out.push('', 'Suggested cuts (change these imports to break every cycle)');
    for (const c of plan.cuts) {
      out.push(`  ${c.from} -> ${c.to}  cost ${c.cost}: ${c.suggestion}`);
      for (const line of importsByFile(c.imports)) out.push(`       ${line}`);
    }
  }
  if (plan.notes.length > 0) {
    out.push('', 'Notes');
    for (const n of plan.notes) out.push(`  - ${n}`);
  }
  if (plan.problems.length > 0) {
    out.push('', `Problems (${plural(plan.problems.length, 'file issue')}, not fatal)`);
    for (const p of plan.problems.slice(0, PROBLEMS)) out.push(`  ${p.file}:${p.line}: ${p.message}`);
    if (plan.problems.length > PROBLEMS)
      out.push(`  and ${plan.problems.length - PROBLEMS} more (--format json lists them all)`);
  }
  return { output: `${out.join('\n')}\n`, exitCode: 0 };
}
