/**
 * One route: its state and actions; shadow match rate after noise over time;
 * the top differing fields, each with an example legacy-vs-service pair side
 * by side and the differing path marked (the Diffy view); learned noise and
 * configured ignores; paired latency over time; failovers by reason; the
 * route's audit log.
 */
import { actionsPanel } from './actions.js';
import { lineChart } from './charts.js';
import { h } from './dom.js';
import { dateTime, matchText, ms, num, pct, time } from './format.js';
import { jsonView } from './json-view.js';
import { badge, breakerBadge, gateCell, rolloutCell, sloCell } from './view-routes.js';

export async function loadRoute(api, id) {
  const e = encodeURIComponent(id);
  const [routes, shadow, series, history, traffic] = await Promise.all([
    api.getJson('/routes'),
    api.getJson(`/routes/${e}/shadow`),
    api.getJson(`/routes/${e}/series`),
    api.getJson(`/history?route=${e}&limit=50`),
    api.getJson('/console/traffic'),
  ]);
  const row = routes.routes.find((r) => r.id === id);
  return { row, shadow, series, history: history.entries, traffic };
}

/** Fields whose <details> the operator opened or closed, kept across re-renders. */
const openState = new Map();

/** A difference's recorded value: the diff keeps JSON values as their JSON text already. */
const shown = (v) => (v === undefined ? '(absent)' : typeof v === 'string' ? v : JSON.stringify(v));

function examplePair(ex) {
  if (!ex)
    return h(
      'p',
      { class: 'muted' },
      'No example of this field is left in the sample ring (the newest mismatches the store keeps).',
    );
  const others = ex.differences.map((d) => d.path).filter((p) => p !== ex.path);
  const side = (name, s) => {
    const v = jsonView(s.body, ex.path, others);
    return h(
      'section',
      { 'data-side': name },
      h(
        'h4',
        { class: name },
        h(
          'span',
          {},
          name === 'legacy' ? 'Legacy' : 'Service',
          ex.primary === name ? ' (served the client)' : ' (copy)',
        ),
        h('span', { class: ex.path === 'status' ? 'bad' : 'muted' }, `HTTP ${s.status}`),
      ),
      v.found || !ex.path.startsWith('$')
        ? null
        : v.parsed
          ? h('p', { class: 'diffline muted' }, `${ex.path} is absent in this answer`)
          : h(
              'p',
              { class: 'diffline muted' },
              'Not JSON as stored (sample bodies are kept up to 16 KiB): the path cannot be marked.',
            ),
      v.el,
      s.truncated ? h('p', { class: 'muted diffline' }, 'Body cut for display.') : null,
    );
  };
  const d = ex.differences.find((x) => x.path === ex.path);
  return h(
    'div',
    { class: 'example' },
    h(
      'p',
      { class: 'diffline' },
      h('code', {}, `${ex.request.method} ${ex.request.url}`),
      h('span', { class: 'muted' }, ` · ${dateTime(ex.at)}`),
    ),
    h(
      'p',
      { class: 'diffline' },
      'Differs at ',
      h('mark', { class: 'mono' }, ex.path),
      ` (${ex.kind})`,
      d && (d.legacy !== undefined || d.service !== undefined)
        ? h(
            'span',
            {},
            ': legacy ',
            h('code', {}, shown(d.legacy)),
            ' vs service ',
            h('code', {}, shown(d.service)),
          )
        : null,
    ),
    h('div', { class: 'pair' }, side('legacy', ex.legacy), side('service', ex.service)),
  );
}

function differingPanel(shadow) {
  const rep = shadow.report;
  if (rep.differing.length === 0)
    return h(
      'p',
      { class: 'muted' },
      rep.compared
        ? 'No real differences: every mismatch so far is noise or ignored.'
        : 'Nothing compared yet.',
    );
  return h(
    'div',
    { 'data-testid': 'differing' },
    rep.differing.map((f, i) => {
      const key = `field:${f.field}`;
      const el = h(
        'details',
        { class: 'field', 'data-field': f.field, open: openState.get(key) ?? i === 0 },
        h(
          'summary',
          { 'data-key': key },
          h('code', {}, f.field),
          h('span', {}, `${num(f.diffs)} differ (${pct(f.diffRate, 2)} of compared)`),
          f.noise
            ? h('span', { class: 'muted' }, `noise rate ${pct(f.noiseRate, 2)}`)
            : h('span', { class: 'muted' }, 'never noisy'),
        ),
        examplePair(shadow.examples[f.field]),
      );
      el.addEventListener('toggle', () => openState.set(key, el.open));
      return el;
    }),
    rep.moreDiffering ? h('p', { class: 'muted' }, `…and ${rep.moreDiffering} more differing fields.`) : null,
  );
}

function noisePanel(shadow) {
  const rep = shadow.report;
  const rows = (fs) =>
    h(
      'table',
      { class: 'cards' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Field', 'vs service', 'legacy vs legacy'].map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      h(
        'tbody',
        {},
        fs.map((f) =>
          h(
            'tr',
            {},
            h('td', { 'data-label': 'Field' }, h('code', {}, f.field)),
            h('td', { 'data-label': 'vs service', class: 'num' }, pct(f.diffRate, 2)),
            h('td', { 'data-label': 'legacy vs legacy', class: 'num' }, pct(f.noiseRate, 2)),
          ),
        ),
      ),
    );
  return [
    h('h3', {}, `Learned noise (${num(rep.noisePairs)} legacy-vs-legacy pairs)`),
    rep.noise.length ? rows(rep.noise) : h('p', { class: 'muted' }, 'No noisy field learned yet.'),
    h('h3', {}, 'Configured ignores'),
    shadow.ignore.length
      ? h(
          'ul',
          {},
          shadow.ignore.map((p) => h('li', {}, h('code', {}, p))),
        )
      : h('p', { class: 'muted' }, 'None (shadow.ignore in the config).'),
    rep.ignored.length ? [h('h3', {}, 'Fields dropped by those ignores'), rows(rep.ignored)] : null,
  ];
}

function shadowPanel(shadow, series) {
  const rep = shadow.report;
  const pts = series.shadow;
  return [
    h('h2', {}, 'Shadow comparison'),
    h(
      'dl',
      { class: 'kv' },
      h(
        'div',
        {},
        h('dt', {}, 'Match rate after noise'),
        h('dd', { class: 'big', 'data-testid': 'match-rate' }, pct(rep.matchRate, 2)),
      ),
      h('div', {}, h('dt', {}, 'Compared'), h('dd', {}, num(rep.compared))),
      h('div', {}, h('dt', {}, 'Exact matches'), h('dd', {}, num(rep.exactMatched))),
      h(
        'div',
        {},
        h('dt', {}, 'Skipped'),
        h(
          'dd',
          {},
          num(rep.skippedTotal),
          rep.skippedTotal
            ? h(
                'span',
                { class: 'muted' },
                ` (${Object.entries(rep.skipped)
                  .map(([k, v]) => `${k} ${v}`)
                  .join(', ')})`,
              )
            : null,
        ),
      ),
      h(
        'div',
        {},
        h('dt', {}, 'Errors legacy / service'),
        h('dd', {}, `${rep.errors.legacy} / ${rep.errors.service}`),
      ),
    ),
    h('h3', {}, 'Match rate after noise over time'),
    lineChart({
      title: 'match rate after noise',
      series: [
        { label: 'running', cls: 's-rate', points: pts.map((p) => ({ x: p.at, y: p.matchRate })) },
        {
          label: 'per interval',
          cls: 's-interval',
          points: pts.map((p) => ({ x: p.at, y: p.interval.matchRate })),
        },
      ],
      yFormat: (v) => pct(v, 1),
      xFormat: time,
      yMax: 1,
      limit:
        shadow.gateMinMatchRate === undefined ? undefined : { y: shadow.gateMinMatchRate, label: 'gate' },
      empty: 'No comparisons since the admin listener started.',
    }),
  ];
}

function latencyPanel(shadow, series) {
  const pts = series.shadow;
  const lat = shadow.report.latency;
  const live = series.live;
  const liveSeries = (target, q, cls) => ({
    label: `${target} ${q}`,
    cls,
    points: live.filter((w) => w.target === target).map((w) => ({ x: w.start, y: w[q] })),
  });
  const pairedSeries = (target, q, cls) => ({
    label: `${target} ${q}`,
    cls,
    points: pts.map((p) => ({ x: p.at, y: p.latency[target]?.[q] ?? null })),
  });
  return [
    h('h2', {}, 'Latency'),
    h(
      'table',
      { class: 'cards' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Paired shadow requests', 'n', 'p50', 'p95', 'p99'].map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      h(
        'tbody',
        {},
        ['legacy', 'service'].map((side) => {
          const l = lat[side];
          return h(
            'tr',
            {},
            h('td', { 'data-label': 'Side' }, side),
            h('td', { 'data-label': 'n', class: 'num' }, num(l?.n ?? 0)),
            h('td', { 'data-label': 'p50', class: 'num' }, ms(l?.p50)),
            h('td', { 'data-label': 'p95', class: 'num' }, ms(l?.p95)),
            h('td', { 'data-label': 'p99', class: 'num' }, ms(l?.p99)),
          );
        }),
      ),
    ),
    h('h3', {}, 'Paired latency over time (shadow pairs, per interval)'),
    lineChart({
      title: 'paired latency',
      series: [
        pairedSeries('legacy', 'p50', 's-legacy'),
        pairedSeries('legacy', 'p99', 's-legacy-p99'),
        pairedSeries('service', 'p50', 's-service'),
        pairedSeries('service', 'p99', 's-service-p99'),
      ],
      yFormat: ms,
      xFormat: time,
      empty: 'No paired requests since the admin listener started.',
    }),
    h('h3', {}, `Live traffic latency (stats windows of every proxy, ${series.flushMs / 1000} s each)`),
    lineChart({
      title: 'live latency',
      series: [
        liveSeries('legacy', 'p50', 's-legacy'),
        liveSeries('legacy', 'p99', 's-legacy-p99'),
        liveSeries('service', 'p50', 's-service'),
        liveSeries('service', 'p99', 's-service-p99'),
      ],
      yFormat: ms,
      xFormat: time,
      empty: 'No live traffic in the last hour.',
    }),
  ];
}

function failoverPanel(row, data) {
  const byReason = data.traffic.failovers?.[row.id] ?? {};
  const entries = Object.entries(byReason).sort((a, b) => b[1] - a[1]);
  const windows = data.series.live.filter((w) => w.failovers > 0);
  return [
    h('h2', {}, 'Failovers'),
    entries.length
      ? h(
          'table',
          { class: 'cards', 'data-testid': 'failovers' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col' }, 'Reason'),
              h('th', { scope: 'col', class: 'num' }, 'Requests answered by legacy'),
            ),
          ),
          h(
            'tbody',
            {},
            entries.map(([reason, n]) =>
              h(
                'tr',
                {},
                h('td', { 'data-label': 'Reason' }, reason),
                h('td', { 'data-label': 'Requests', class: 'num' }, num(n)),
              ),
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'No failovers since the proxy started.'),
    windows.length
      ? h(
          'p',
          { class: 'muted' },
          `In the last hour: ${num(windows.reduce((a, w) => a + w.failovers, 0))} failovers over ${windows.length} stats windows (all proxies).`,
        )
      : null,
  ];
}

function change(e) {
  const show = (s) => (s?.mode ? `${s.mode}${s.mode === 'canary' ? ` ${s.weight}%` : ''} v${s.version}` : '');
  return e.before?.mode || e.after?.mode ? `${show(e.before) || '–'} → ${show(e.after) || '–'}` : '';
}

function auditPanel(entries) {
  return [
    h('h2', {}, 'Audit log'),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'cards', 'data-testid': 'audit' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['#', 'At', 'Action', 'Change', 'Actor', 'Reason'].map((t) => h('th', { scope: 'col' }, t)),
          ),
        ),
        h(
          'tbody',
          {},
          [...entries]
            .reverse()
            .map((e) =>
              h(
                'tr',
                {},
                h('td', { 'data-label': '#', class: 'num' }, String(e.seq)),
                h('td', { 'data-label': 'At' }, dateTime(e.at)),
                h('td', { 'data-label': 'Action' }, e.action),
                h('td', { 'data-label': 'Change' }, change(e)),
                h('td', { 'data-label': 'Actor' }, e.actor),
                h('td', { 'data-label': 'Reason' }, e.reason),
              ),
            ),
        ),
      ),
    ),
  ];
}

export function renderRoute(data, ctx) {
  const { row, shadow, series } = data;
  if (!row) return [h('h1', {}, 'No such route'), h('p', {}, h('a', { href: '#/' }, 'Back to routes'))];
  shadow.gateMinMatchRate = row.status?.gate?.checks.find((c) => c.name === 'minMatchRate')?.limit;
  return [
    h('p', {}, h('a', { href: '#/' }, '← Routes')),
    h(
      'section',
      { class: 'panel' },
      h(
        'h1',
        {},
        row.id,
        ' ',
        badge(row.mode === 'canary' ? `canary ${row.weight}%` : row.mode, `mode-${row.mode}`),
      ),
      h(
        'dl',
        { class: 'kv' },
        h('div', {}, h('dt', {}, 'Match'), h('dd', {}, h('code', {}, matchText(row)))),
        h('div', {}, h('dt', {}, 'Service'), h('dd', {}, row.service)),
        h('div', {}, h('dt', {}, 'Version'), h('dd', { 'data-testid': 'version' }, String(row.version))),
        h('div', {}, h('dt', {}, 'Breaker'), h('dd', {}, breakerBadge(row))),
        h('div', {}, h('dt', {}, 'SLO'), h('dd', {}, sloCell(row))),
        h('div', {}, h('dt', {}, 'Rollout'), h('dd', {}, rolloutCell(row))),
        h(
          'div',
          {},
          h('dt', {}, 'Last change'),
          h('dd', {}, `${dateTime(row.updatedAt)} by ${row.actor}${row.reason ? `: ${row.reason}` : ''}`),
        ),
      ),
      h('h3', {}, 'Gate for the next step'),
      gateCell(row),
      h('h3', {}, 'Actions'),
      actionsPanel(row, ctx),
    ),
    h(
      'div',
      { class: 'grid' },
      h('section', { class: 'panel' }, shadowPanel(shadow, series)),
      h('section', { class: 'panel' }, latencyPanel(shadow, series)),
    ),
    h('section', { class: 'panel' }, h('h2', {}, 'Top differing fields'), differingPanel(shadow)),
    h(
      'div',
      { class: 'grid' },
      h('section', { class: 'panel' }, h('h2', {}, 'Noise and ignores'), noisePanel(shadow)),
      h('section', { class: 'panel' }, failoverPanel(row, data)),
    ),
    h('section', { class: 'panel' }, auditPanel(data.history)),
  ];
}
