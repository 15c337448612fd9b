/** Plan reporters by format name (dependency-cruiser's src/report/index.mjs). */
import type { Plan } from './types.js';
import type { Reporter } from '../types.js';
import { renderPlanDot } from './dot.js';
import { renderPlanHtml } from './html.js';
import { renderPlanJson } from './json.js';
import { renderPlanMermaid } from './mermaid.js';
import { renderPlanText } from './text.js';

export const PLAN_FORMATS = ['text', 'json', 'dot', 'mermaid', 'html'] as const;
export type PlanFormat = (typeof PLAN_FORMATS)[number];

export const PLAN_REPORTERS: Record<PlanFormat, Reporter<Plan>> = {
  text: renderPlanText,
  json: renderPlanJson,
  dot: renderPlanDot,
  mermaid: renderPlanMermaid,
  html: renderPlanHtml,
};

export function isPlanFormat(s: string): s is PlanFormat {
  return (PLAN_FORMATS as readonly string[]).includes(s);
}
