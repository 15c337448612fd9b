/** The routes view: every route's state, gate, SLO, rollout, and the unmatched share. */
import { h } from './dom.js';
import { gateCheckText, matchText, num, pct } from './format.js';

export async function loadRoutes(api) {
  const [routes, traffic] = await Promise.all([api.getJson('/routes'), api.getJson('/console/traffic')]);
  return { routes: routes.routes, traffic, configDrift: routes.configDrift };
}

export const badge = (text, cls) => h('span', { class: ['badge', cls] }, text);

export function gateCell(row) {
  const g = row.status?.gate;
  if (!g) return h('span', { class: 'muted' }, row.mode === 'service' ? 'nothing left to gate' : '–');
  return h(
    'div',
    {},
    badge(g.pass ? 'pass' : 'refused', g.pass ? 'state-ok' : 'state-breach'),
    h(
      'ul',
      { class: 'checks' },
      g.checks.map((c) => h('li', { class: c.ok ? 'ok' : 'bad' }, c.ok ? '✓ ' : '✗ ', gateCheckText(c))),
    ),
  );
}

export function sloCell(row) {
  const s = row.status?.slo;
  if (!s || s.state === 'idle') return h('span', { class: 'muted' }, 'idle (no service traffic)');
  // The SLO is judged over a window of flushed stats; the breaker is this
  // instance's now. "ok … 2.21%" beside an open breaker read as a
  // contradiction (issue 26): say which is which.
  const breaker = row.extra?.breaker;
  const failingNow =
    s.state === 'ok' && (breaker === 'open' || breaker === 'half-open')
      ? h(
          'div',
          { class: 'warn', 'data-testid': 'slo-breaker' },
          `but the breaker is ${breaker} now: the service is failing and legacy answers its requests; the window's error rate has not caught up yet`,
        )
      : null;
  return h(
    'div',
    {},
    badge(s.state, `state-${s.state}`),
    h('div', { class: 'muted' }, s.message),
    failingNow,
  );
}

/** "in 1m 40s" for a duration in ms (whole seconds). */
function inWords(ms) {
  const sec = Math.max(0, Math.round(ms / 1000));
  const m = Math.floor(sec / 60);
  return m > 0 ? `${m}m ${sec % 60}s` : `${sec}s`;
}

export function rolloutCell(row) {
  const r = row.status?.rollout;
  if (!r || r.status === 'none') return h('span', { class: 'muted' }, '–');
  const done = Math.max(0, r.index + 1);
  const bar = h('span', {
    class: 'progress',
    role: 'progressbar',
    'aria-valuemin': 0,
    'aria-valuemax': r.steps.length,
    'aria-valuenow': done,
  });
  const fill = h('span');
  // Width through the CSSOM, which the CSP allows (no inline style attribute).
  fill.style.width = `${r.steps.length ? (100 * done) / r.steps.length : 0}%`;
  bar.append(fill);
  return h(
    'div',
    {},
    `${r.status} ${done}/${r.steps.length} `,
    bar,
    h('div', { class: 'muted' }, `steps ${r.steps.join(', ')}%`),
    r.status === 'running'
      ? h(
          'div',
          { class: 'muted', 'data-testid': 'next-step' },
          r.index < 0
            ? 'first step: as soon as the proxy holding the guard lease picks it up'
            : `next step judged at ${new Date(r.holdUntil).toLocaleTimeString()} (in ${inWords(r.holdUntil - Date.now())})`,
        )
      : null,
  );
}

export function breakerBadge(row) {
  const b = row.extra?.breaker ?? '-';
  if (b === '-') return h('span', { class: 'muted' }, 'no failover');
  return badge(b, `state-${b}`);
}

export function renderRoutes(data) {
  const { routes, traffic, configDrift } = data;
  const byMode = {};
  for (const r of routes) byMode[r.mode] = (byMode[r.mode] ?? 0) + 1;
  const limited = traffic.rateLimited ?? {};
  const anyLimited = Object.keys(limited).length > 0;
  const cell = (label, content, cls) => h('td', { 'data-label': label, class: cls }, content);
  return [
    h('h1', {}, 'Routes'),
    // This proxy's file differs from the store's definitions, which it serves (issue 29).
    configDrift ? h('p', { class: 'panel muted', 'data-testid': 'config-drift' }, configDrift) : null,
    h(
      'div',
      { class: 'summary-bar panel' },
      h(
        'div',
        {},
        h('div', { class: 'muted' }, 'Routes by mode'),
        ['legacy', 'shadow', 'canary', 'service'].map((m) =>
          h('span', {}, badge(`${m} ${byMode[m] ?? 0}`, `mode-${m}`), ' '),
        ),
      ),
      h(
        'div',
        { 'data-testid': 'unmatched' },
        h('div', { class: 'muted' }, 'Unmatched traffic (to legacy)'),
        traffic.unavailable
          ? h('span', { class: 'warn' }, traffic.unavailable)
          : [
              h('strong', {}, pct(traffic.requests.unmatchedShare, 1)),
              h(
                'span',
                { class: 'muted' },
                ` ${num(traffic.requests.unmatched)} of ${num(traffic.requests.total)} requests since the proxy started`,
              ),
            ],
      ),
    ),
    h(
      'div',
      { class: 'panel table-wrap' },
      h(
        'table',
        { class: 'cards', 'data-testid': 'routes' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            [
              'Route',
              'Match',
              'Mode',
              'Weight',
              'Version',
              'Breaker',
              'Gate (next step)',
              'SLO',
              'Rollout',
              anyLimited ? 'Rate limited' : null,
              'Requests',
            ]
              .filter(Boolean)
              .map((t) => h('th', { scope: 'col' }, t)),
          ),
        ),
        h(
          'tbody',
          {},
          routes.map((r) =>
            h(
              'tr',
              { 'data-route': r.id },
              cell(
                'Route',
                h(
                  'a',
                  { href: `#/route/${encodeURIComponent(r.id)}`, 'data-key': `route-link-${r.id}` },
                  r.id,
                ),
              ),
              cell('Match', h('code', {}, matchText(r))),
              cell('Mode', badge(r.mode, `mode-${r.mode}`)),
              cell('Weight', `${r.weight}%`, 'num'),
              cell('Version', String(r.version), 'num'),
              cell('Breaker', breakerBadge(r)),
              cell('Gate', gateCell(r)),
              cell('SLO', sloCell(r)),
              cell('Rollout', rolloutCell(r)),
              anyLimited
                ? cell(
                    'Rate limited',
                    Object.entries(limited[r.id] ?? {}).map(([a, n]) => h('div', {}, `${a} ${num(n)}`)),
                  )
                : null,
              cell('Requests', num(traffic.requestsByRoute?.[r.id] ?? 0), 'num'),
            ),
          ),
        ),
      ),
      routes.length === 0 ? h('p', { class: 'muted' }, 'No routes in the store yet.') : null,
    ),
  ];
}
