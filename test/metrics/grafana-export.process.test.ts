/**
 * `strangler export grafana` (the real bin) writes a dashboard whose every
 * query names only metrics a running proxy exports: each expression's metric
 * names are checked against a real /metrics scrape.
 *
 * One allowance: `strangler_rate_limited_total` (route, target, action) comes
 * from the rate limiter (issue 15), built in parallel; until it lands, the
 * name may be missing from the scrape. Once the scrape has it, nothing is
 * allowed.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportGrafana } from '../../control/export-grafana.js';
import { tempDir } from '../helpers/tmp.js';
import { type LiveProxy, startLiveProxy } from './live-proxy.js';

const run = promisify(execFile);
const PROMTOOL = process.env.STRANGLER_PROMTOOL ?? '/usr/bin/promtool';
const BIN = path.resolve(import.meta.dirname, '../../bin/strangler.js');
const PENDING_RATE_LIMIT_METRIC = 'strangler_rate_limited_total';

const PROMQL_WORDS = new Set([
  'sum',
  'max',
  'min',
  'avg',
  'count',
  'rate',
  'irate',
  'increase',
  'histogram_quantile',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'label_values',
  'topk',
  'bottomk',
  'changes',
]);

/** Metric names in a PromQL expression (or a Grafana label_values() query). */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // strings (label values)
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // range selectors
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '') // grouping label lists
    .replace(/label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,[^)]*\)/g, '$1'); // label_values(metric, label)
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = m[0];
    const next = stripped.slice(m.index! + word.length).trimStart();
    if (PROMQL_WORDS.has(word) || next.startsWith('(') || /^\d/.test(word)) continue;
    names.add(word);
  }
  return [...names];
}

/** Series names a scrape exports: every family's TYPE line, histograms with their suffixes. */
function exportedNames(scrape: string): Set<string> {
  const out = new Set<string>();
  for (const m of scrape.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    out.add(m[1]);
    if (m[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) out.add(m[1] + s);
    if (m[2] === 'summary') for (const s of ['_sum', '_count']) out.add(m[1] + s);
  }
  return out;
}

interface Dashboard {
  panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
  templating: { list: Array<{ name: string; query?: unknown }> };
  annotations: { list: Array<{ name: string; expr: string; useValueForTime: boolean }> };
}

describe('strangler export grafana', () => {
  let live: LiveProxy;
  const tmp = tempDir('strangler-grafana-');
  beforeAll(async () => {
    live = await startLiveProxy();
  });
  afterAll(async () => {
    await live?.close();
    tmp.cleanup();
  });

  it('reads metric names out of PromQL the way the check below relies on', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le, route, target) (rate(strangler_request_duration_seconds_bucket{route=~"$route"}[$__rate_interval])))',
      ),
    ).toEqual(['strangler_request_duration_seconds_bucket']);
    expect(metricNames('sum(rate(a_total{route="(unmatched)"}[5m])) / sum(rate(b_total[5m]))')).toEqual([
      'a_total',
      'b_total',
    ]);
    expect(metricNames('label_values(strangler_requests_total, route)')).toEqual([
      'strangler_requests_total',
    ]);
  });

  it('writes a dashboard whose every query uses only metrics the proxy exports', async () => {
    const out = path.join(tmp.dir, 'dashboard.json');
    const { stderr } = await run(process.execPath, [BIN, 'export', 'grafana', '--out', out]);
    expect(stderr).toContain('wrote');
    const dash = JSON.parse(readFileSync(out, 'utf8')) as Dashboard;
    const titles = dash.panels.map((p) => p.title);
    for (const want of [
      'Routes by mode',
      'Requests per target',
      'Errors per target',
      'Shadow paired latency (p50, p99)',
      'Shadow match rate after noise',
      'Failovers by reason',
      'Breaker state',
      'Rate limited',
      'Service failures by kind',
      'Flips and rollbacks',
      'Rollout step',
    ])
      expect(titles).toContain(want);
    // Issue 26: flips and rollbacks are annotated at the time they were made.
    expect(dash.annotations.list.map((a) => a.name)).toEqual(['Flips', 'Rollbacks']);
    expect(dash.annotations.list.every((a) => a.useValueForTime)).toBe(true);
    expect(dash.annotations.list[1].expr).toContain('guard.rollback');

    const exported = exportedNames(await live.scrape());
    const queries = [
      ...dash.panels.flatMap((p) => p.targets.map((t) => ({ where: p.title, expr: t.expr }))),
      ...dash.templating.list
        .filter((v) => v.query && typeof v.query === 'object')
        .map((v) => ({ where: `$${v.name}`, expr: (v.query as { query: string }).query })),
      ...dash.annotations.list.map((a) => ({ where: `annotation ${a.name}`, expr: a.expr })),
    ];
    expect(queries.length).toBeGreaterThan(10);
    const missing: string[] = [];
    for (const q of queries) {
      const names = metricNames(q.expr);
      expect(names.length, `${q.where}: ${q.expr}`).toBeGreaterThan(0);
      for (const n of names) if (!exported.has(n)) missing.push(`${q.where}: ${n}`);
    }
    const rateLimitExported = exported.has(PENDING_RATE_LIMIT_METRIC);
    if (!rateLimitExported)
      console.warn(
        `${PENDING_RATE_LIMIT_METRIC} is not in the scrape yet (issue 15's rate limiter); its panel is allowed for now`,
      );
    expect(missing.filter((m) => rateLimitExported || !m.endsWith(`: ${PENDING_RATE_LIMIT_METRIC}`))).toEqual(
      [],
    );
  });

  it.runIf(existsSync(PROMTOOL))(
    'every panel and annotation expression parses as PromQL (promtool check rules)',
    async () => {
      const dash = JSON.parse(exportGrafana()) as Dashboard;
      const exprs = [
        ...dash.panels.flatMap((p) => p.targets.map((t) => t.expr)),
        ...dash.annotations.list.map((a) => a.expr),
      ].map((e) => e.replaceAll('$route', '.*').replaceAll('$__rate_interval', '1m'));
      const rules = `groups:\n  - name: dashboard\n    rules:\n${exprs
        .map((e, i) => `      - record: dashboard:expr${i}\n        expr: ${JSON.stringify(e)}\n`)
        .join('')}`;
      const file = path.join(tmp.dir, 'rules.yml');
      writeFileSync(file, rules);
      const { stdout } = await run(PROMTOOL, ['check', 'rules', file]);
      expect(stdout).toContain(`SUCCESS: ${exprs.length} rules found`);
      // The check is live: a broken expression fails it.
      writeFileSync(file, rules.replace(exprs[0], `${exprs[0]} by (`));
      await expect(run(PROMTOOL, ['check', 'rules', file])).rejects.toThrow();
    },
  );
});
