/**
 * Tables and number formatting shared by every reporter. Output must be
 * byte-stable for golden files, so numbers are formatted with fixed rules
 * here and nowhere else.
 */

import { escapeHtml } from './html-page.js';

export type Align = 'left' | 'right';

/**
 * A fixed-width text table: header row, a rule, then rows; columns padded to
 * their widest cell. Without `align`, columns whose cells are all numbers are
 * right-aligned.
 */
export function textTable(headers: string[], rows: Array<Array<string | number>>, align?: Align[]): string {
  const cells = rows.map((r) => r.map((c) => String(c)));
  const right = headers.map((_, i) =>
    align ? align[i] === 'right' : rows.length > 0 && rows.every((r) => typeof r[i] === 'number'),
  );
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const pad = (r: string[]) =>
    r
      .map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [pad(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(pad)].join('\n') + '\n';
}

/** A GitHub-flavoured Markdown table; `|` and newlines inside cells are escaped. */
export function mdTable(headers: string[], rows: Array<Array<string | number>>, align: Align[] = []): string {
  const esc = (c: string | number) => String(c).replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const line = (r: Array<string | number>) => `| ${r.map(esc).join(' | ')} |`;
  const rule = `|${headers.map((_, i) => (align[i] === 'right' ? '---:' : '---')).join('|')}|`;
  return [line(headers), rule, ...rows.map(line)].join('\n') + '\n';
}

/** A number for a table cell; null/undefined/NaN shows as a dash so "no data" never reads as zero. */
export function fmtNum(n: number | null | undefined, digits = 1): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '-';
  if (Number.isInteger(n) && Math.abs(n) < 1e15) return String(n);
  return n.toFixed(digits);
}

/** Milliseconds with a unit. */
export function fmtMs(n: number | null | undefined): string {
  const s = fmtNum(n, n !== null && n !== undefined && Math.abs(n) < 10 ? 2 : 1);
  return s === '-' ? s : `${s} ms`;
}

/** A ratio like `1.23x`. */
export function fmtRatio(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '-';
  return `${n.toFixed(2)}x`;
}

/** A fraction 0..1 as a percentage. */
export function fmtPct(n: number | null | undefined, digits = 1): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '-';
  return `${(n * 100).toFixed(digits)}%`;
}

/** Bytes per second, binary units. */
export function fmtBytesPerSec(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '-';
  const units = ['B/s', 'KiB/s', 'MiB/s', 'GiB/s'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? Math.round(v) : v.toFixed(1)} ${units[u]}`;
}

/** The HTML table of the same grid: a header row, cells escaped, right-aligned columns as class "num". */
export function htmlTable(
  headers: string[],
  rows: Array<Array<string | number>>,
  align: Align[] = [],
): string {
  return `<table><tr>${headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>${rows
    .map(
      (row) =>
        `<tr>${row.map((c, i) => `<td${align[i] === 'right' ? ' class="num"' : ''}>${escapeHtml(c)}</td>`).join('')}</tr>`,
    )
    .join('')}</table>`;
}
