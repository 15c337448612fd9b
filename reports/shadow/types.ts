/**
 * The data a shadow report renders, as shadow/evidence.ts builds it. Reporters
 * may share other parts' types (never their code: .dependency-cruiser.cjs), so
 * the shape has one definition, there.
 */
export type { LatencySummary, ShadowReportData, ShadowRouteReport } from '../../shadow/evidence.js';
