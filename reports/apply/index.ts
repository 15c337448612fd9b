/**
 * The `strangler apply` plan, route by route: what is added, removed or
 * changed (field old → new), and which changes move live traffic or loosen a
 * check. Pure: (plan, format) -> { output, exitCode }.
 */
import type { ApplyPlan, PlannedRoute } from '../../control/apply-plan.js';
import type { FieldChange } from '../../core/route-definitions.js';
import { showValue } from '../routes/index.js';
import type { ReportOutput } from '../types.js';

const SIGN = { add: '+', remove: '-', change: '~' } as const;

function fieldLines(fields: FieldChange[]): string[] {
  return fields.map((f) => `      ${f.field}: ${showValue(f.old)} -> ${showValue(f.new)}`);
}

function routeLines(r: PlannedRoute): string[] {
  const marks: string[] = [];
  if (r.op !== 'change') marks.push(r.op === 'add' ? `added in ${r.mode}` : 'removed');
  if (r.movesTraffic.length) marks.push('MOVES LIVE TRAFFIC');
  if (r.loosens.length) marks.push(`loosens a check: ${r.loosens.join(', ')}`);
  const head = `  ${SIGN[r.op]} ${r.id} (${r.op === 'add' ? 'new' : r.mode})${marks.length ? `: ${marks.join('; ')}` : ''}`;
  // An added or removed route's every field is noise: the mark says it.
  return [head, ...(r.op === 'change' ? fieldLines(r.fields) : [])];
}

export function renderApplyPlan(plan: ApplyPlan, format: 'text' | 'json'): ReportOutput {
  if (format === 'json') {
    const { stored: _s, file: _f, ...shown } = plan;
    return { output: `${JSON.stringify(shown, null, 2)}\n`, exitCode: 0 };
  }
  const lines: string[] = [];
  const n = plan.routes.length;
  const up = plan.upstreams.fields.length > 0;
  if (!n && !up) lines.push('the store already holds every definition in the config: nothing to apply');
  else lines.push(`plan: ${n} route${n === 1 ? '' : 's'}${up ? ' and the upstreams' : ''} to change`);
  for (const r of plan.routes) lines.push(...routeLines(r));
  if (up) {
    const moves = plan.upstreams.movesTraffic.length ? ': MOVES LIVE TRAFFIC' : '';
    lines.push(`  ~ upstreams${moves}`, ...fieldLines(plan.upstreams.fields));
  }
  // proxy/rate-limit.ts builds its limiters once, at start (not yet rebuilt on a table change).
  const limited = plan.routes.filter((r) => r.fields.some((f) => f.field.startsWith('rateLimit')));
  if (limited.length)
    lines.push(
      `  note: rate limits (${limited.map((r) => r.id).join(', ')}) take effect when each proxy restarts; every other change reaches running proxies at once`,
    );
  for (const m of plan.modeNotes)
    lines.push(
      `  note: route "${m.id}" is in ${m.store} in the store and ${m.file} in the file; apply leaves modes alone (\`strangler flip ${m.id} ${m.file}\` changes it, gated and audited)`,
    );
  return { output: `${lines.join('\n')}\n`, exitCode: 0 };
}
