/** `strangler routes` and `strangler history` renderers: pure, text or JSON. */
import type { AuditEntry, RouteState } from '../../core/types.js';
import { textTable } from '../table.js';
import type { ReportOutput } from '../types.js';

export interface RouteRow extends RouteState {
  pattern: string;
  methods: string[];
  service: string;
  /** `ignore`: the pattern also matches with/without a trailing slash; `strict`: only as written. */
  trailingSlash?: 'ignore' | 'strict';
  /** `http` (matched on the listener) or `function` (an extraction point called from inside the monolith). */
  kind?: 'http' | 'function';
  /** Short cells for the table: breaker state, gate verdict, SLO status, rollout. */
  extra?: Record<string, string>;
  /** The full gate verdict, SLO numbers and rollout, for --json. */
  status?: unknown;
}

export function renderRoutes(rows: RouteRow[], format: 'text' | 'json'): ReportOutput {
  if (format === 'json') return { output: JSON.stringify(rows, null, 2) + '\n', exitCode: 0 };
  const extraKeys = [...new Set(rows.flatMap((r) => Object.keys(r.extra ?? {})))];
  return {
    output: textTable(
      ['route', 'mode', 'weight', 'version', 'match', 'slash', 'service', ...extraKeys, 'changed', 'by', 'why'],
      rows.map((r) => [
        r.id,
        r.mode,
        r.weight,
        r.version,
        r.kind === 'function' ? `function -> ${r.pattern}` : `${r.methods.join(',') || '*'} ${r.pattern}`,
        r.kind === 'function' ? '' : (r.trailingSlash ?? ''),
        r.service,
        ...extraKeys.map((k) => r.extra?.[k] ?? ''),
        r.updatedAt,
        r.actor,
        r.reason,
      ]),
    ),
    exitCode: 0,
  };
}

function describe(e: AuditEntry): string {
  const b = e.before as Partial<RouteState> | null;
  const a = e.after as Partial<RouteState> | null;
  const show = (s: Partial<RouteState> | null) =>
    s?.mode ? `${s.mode}${s.mode === 'canary' ? ` ${s.weight}%` : ''} v${s.version}` : '-';
  if (e.action === 'flip' || e.action === 'seed' || e.action.endsWith('rollback') || (a?.mode && b !== undefined))
    return `${show(b)} -> ${show(a)}`;
  return '';
}

export function renderHistory(entries: AuditEntry[], format: 'text' | 'json'): ReportOutput {
  if (format === 'json') return { output: JSON.stringify(entries, null, 2) + '\n', exitCode: 0 };
  return {
    output: textTable(
      ['#', 'at', 'route', 'action', 'change', 'actor', 'reason'],
      entries.map((e) => [e.seq, e.at, e.route ?? '', e.action, describe(e), e.actor, e.reason]),
    ),
    exitCode: 0,
  };
}
