/** Shadow reporters by format name (dependency-cruiser's src/report/index.mjs). */
import { REPORT_FORMATS, type Reporter, type ReportFormat } from '../types.js';
import { renderShadowHtml } from './html.js';
import { renderShadowJson } from './json.js';
import { renderShadowMd } from './md.js';
import { renderShadowText } from './text.js';
import type { ShadowReportData } from './types.js';

export type { ShadowReportData } from './types.js';

export const SHADOW_REPORTERS: Record<ReportFormat, Reporter<ShadowReportData>> = {
  text: renderShadowText,
  md: renderShadowMd,
  json: renderShadowJson,
  html: renderShadowHtml,
};

export function isShadowFormat(s: string): s is ReportFormat {
  return (REPORT_FORMATS as readonly string[]).includes(s);
}
