import type { ReportOptions, ReportOutput } from '../types.js';
import type { ShadowReportData } from './types.js';

export function renderShadowJson(data: ShadowReportData, _options: ReportOptions = {}): ReportOutput {
  return { output: JSON.stringify(data, null, 2) + '\n', exitCode: 0 };
}
