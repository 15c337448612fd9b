/** The plan as JSON: modules (with wave, score, reasons), imports, cycles, waves, cuts, order, notes. */
import type { Plan } from './types.js';
import type { ReportOptions, ReportOutput } from '../types.js';

export function renderPlanJson(plan: Plan, _options: ReportOptions = {}): ReportOutput {
  return { output: `${JSON.stringify(plan, null, 2)}\n`, exitCode: 0 };
}
