/** `strangler routes` and `strangler history` renderers: pure, text or JSON. */
import type { KeepAliveStallFinding } from '../../core/keepalive-stall.js';
import type { RouteRow } from '../../control/routes.js';
import type { FieldChange } from '../../core/route-definitions.js';
import type { AuditEntry, RouteState } from '../../core/types.js';
import { stallNotes } from '../findings.js';
import { textTable } from '../table.js';
import type { ReportOutput } from '../types.js';

/**
 * The route table; in text, upstream findings (a keep-alive stall) follow as
 * notes. JSON stays the array of rows; the CLI writes the notes to stderr.
 */
export function renderRoutes(
  rows: RouteRow[],
  format: 'text' | 'json',
  findings?: readonly KeepAliveStallFinding[],
): ReportOutput {
  if (format === 'json') return { output: JSON.stringify(rows, null, 2) + '\n', exitCode: 0 };
  const extraKeys = [...new Set(rows.flatMap((r) => Object.keys(r.extra ?? {})))];
  const notes = stallNotes(findings);
  return {
    output:
      textTable(
        [
          'route',
          'mode',
          'weight',
          'version',
          'match',
          'slash',
          'service',
          ...extraKeys,
          'changed',
          'by',
          'why',
        ],
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
      ) + notes.map((l) => `${l}\n`).join(''),
    exitCode: 0,
  };
}

/** A value in a field change, short: strings bare, the rest as JSON, absent as '-'. */
export function showValue(v: unknown): string {
  if (v === undefined) return '-';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** An apply row's field changes (control/apply-plan.ts): `match.path /api/v2/changes/* -> /api/v2/*`. */
function describeApply(e: AuditEntry, show: (s: Partial<RouteState> | null) => string): string {
  const details = e.details as { changes?: FieldChange[]; loosens?: string[] } | undefined;
  const changes = details?.changes ?? [];
  // The audit row says a check was loosened (README: apply rows are marked), in text too.
  const loosens = details?.loosens?.length ? `loosens a check (${details.loosens.join(', ')})` : '';
  const op = e.action === 'apply.upstreams' ? 'upstreams' : !e.before ? 'added' : !e.after ? 'removed' : '';
  const fields =
    op === 'added' || op === 'removed'
      ? []
      : changes.map((c) => `${c.field} ${showValue(c.old)} -> ${showValue(c.new)}`);
  const version = e.action === 'apply' ? `${show(e.before)} -> ${show(e.after)}` : '';
  return [op, ...fields, loosens, version].filter(Boolean).join('; ');
}

function describe(e: AuditEntry): string {
  const b = e.before as Partial<RouteState> | null;
  const a = e.after as Partial<RouteState> | null;
  const show = (s: Partial<RouteState> | null) =>
    s?.mode ? `${s.mode}${s.mode === 'canary' ? ` ${s.weight}%` : ''} v${s.version}` : '-';
  if (e.action === 'apply' || e.action === 'apply.upstreams') return describeApply(e, show);
  if (
    e.action === 'flip' ||
    e.action === 'seed' ||
    e.action.endsWith('rollback') ||
    (a?.mode && b !== undefined)
  )
    return `${show(b)} -> ${show(a)}`;
  return '';
}

/** Set by the gate step (control/gate.ts) when --force overrode it. */
interface Forced {
  by?: string;
  reason?: string;
  overrode?: string[];
}

function forcedOf(e: AuditEntry): Forced | undefined {
  const f = (e.details as { forced?: Forced } | undefined)?.forced;
  return f && typeof f === 'object' ? f : undefined;
}

/**
 * A forced flip stands out in the text as it does in the JSON: the action
 * says "(forced)" and the reason names what was overridden (the actor column
 * already says who).
 */
export function renderHistory(entries: AuditEntry[], format: 'text' | 'json'): ReportOutput {
  if (format === 'json') return { output: JSON.stringify(entries, null, 2) + '\n', exitCode: 0 };
  return {
    output: textTable(
      ['#', 'at', 'route', 'action', 'change', 'actor', 'reason'],
      entries.map((e) => {
        const forced = forcedOf(e);
        if (!forced) return [e.seq, e.at, e.route ?? '', e.action, describe(e), e.actor, e.reason];
        const overrode = forced.overrode?.length ? forced.overrode.join(', ') : 'nothing';
        return [
          e.seq,
          e.at,
          e.route ?? '',
          `${e.action} (forced)`,
          describe(e),
          e.actor,
          `${e.reason} [overrode: ${overrode}]`,
        ];
      }),
    ),
    exitCode: 0,
  };
}
