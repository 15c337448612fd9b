/**
 * The latest plan saved by `strangler plan` (with a config): the capabilities
 * in the order `plan` prints them, and the shared libraries. A plan saved
 * before capabilities existed shows its per-module list.
 */
import { h } from './dom.js';
import { dateTime, num } from './format.js';

export async function loadPlan(api) {
  return api.getJson('/console/plan');
}

export function renderPlan(data) {
  const saved = data.plan;
  if (!saved)
    return [
      h('h1', {}, 'Plan'),
      h('p', { class: 'muted' }, 'No plan saved yet: run `strangler plan PATH --config strangler.yaml`.'),
    ];
  const plan = saved.value;
  const capabilities = Array.isArray(plan.candidates) && plan.candidates.length > 0;
  const { candidates, libraries, table } = capabilities ? capabilityTables(plan) : moduleTables(plan);
  return [
    h('h1', {}, 'Plan'),
    h('p', { class: 'muted' }, `${saved.key}, saved ${dateTime(saved.at)} · ${plan.root ?? ''}`),
    h(
      'section',
      { class: 'panel' },
      h('h2', {}, `Candidates (${candidates.length})`),
      table(candidates, 'candidates'),
    ),
    h(
      'section',
      { class: 'panel' },
      h('h2', {}, `Libraries (${libraries.length})`),
      libraries.length
        ? table(libraries, 'libraries')
        : h('p', { class: 'muted' }, 'No shared library found.'),
    ),
    plan.notes?.length
      ? h(
          'section',
          { class: 'panel' },
          h('h2', {}, 'Notes'),
          h(
            'ul',
            {},
            plan.notes.map((n) => h('li', {}, n)),
          ),
        )
      : null,
  ];
}

/** A table of `rows`, one `cells(row)` list per row under `headers`. */
function cardTable(testid, headers, rows, cells) {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'cards', 'data-testid': testid },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          headers.map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((r) =>
          h(
            'tr',
            {},
            cells(r).map(([label, text, cls]) =>
              h('td', { 'data-label': label, ...(cls ? { class: cls } : {}) }, text),
            ),
          ),
        ),
      ),
    ),
  );
}

/** The capabilities and libraries `plan` prints (issue 31: not the per-module list). */
function capabilityTables(plan) {
  const candidates = [...plan.candidates].sort((a, b) => a.rank - b.rank);
  const libraries = plan.libraries ?? [];
  const table = (rows, testid) =>
    testid === 'libraries'
      ? cardTable(testid, ['Library', 'Modules', 'Imported by', 'Why'], rows, (l) => [
          ['Library', h('code', {}, l.name)],
          ['Modules', String((l.modules ?? []).length), 'num'],
          ['Imported by', String((l.importers ?? []).length), 'num'],
          ['Why', l.reason ?? ''],
        ])
      : cardTable(testid, ['#', 'Capability', 'Score', 'Lines', 'Routes', 'Why'], rows, (c) => [
          ['#', String(c.rank), 'num'],
          ['Capability', h('code', {}, c.name)],
          ['Score', num(c.score), 'num'],
          ['Lines', String(c.loc), 'num'],
          ['Routes', (c.routes ?? []).join(', ')],
          ['Why', (c.reasons ?? []).join('; ')],
        ]);
  return { candidates, libraries, table };
}

/** A plan saved before capabilities: its modules by rank, shared ones as libraries. */
function moduleTables(plan) {
  const modules = [...(plan.modules ?? [])].sort((a, b) => a.rank - b.rank);
  const table = (rows, testid) =>
    cardTable(testid, ['#', 'Module', 'Wave', 'Score', 'Fan-in', 'Fan-out', 'Routes', 'Why'], rows, (m) => [
      ['#', String(m.rank), 'num'],
      ['Module', h('code', {}, m.name)],
      ['Wave', String(m.wave), 'num'],
      ['Score', num(m.score), 'num'],
      ['Fan-in', String(m.fanIn), 'num'],
      ['Fan-out', String(m.fanOut), 'num'],
      ['Routes', (m.routes ?? []).join(', ')],
      ['Why', (m.reasons ?? []).join('; ')],
    ]);
  return { candidates: modules.filter((m) => !m.shared), libraries: modules.filter((m) => m.shared), table };
}
