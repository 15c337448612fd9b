/** The latest plan saved by `strangler plan` (with a config): candidates in order, and the shared libraries. */
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
  const modules = [...(plan.modules ?? [])].sort((a, b) => a.rank - b.rank);
  const candidates = modules.filter((m) => !m.shared);
  const libraries = modules.filter((m) => m.shared);
  const table = (rows, testid) =>
    h(
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
            ['#', 'Module', 'Wave', 'Score', 'Fan-in', 'Fan-out', 'Routes', 'Why'].map((t) =>
              h('th', { scope: 'col' }, t),
            ),
          ),
        ),
        h(
          'tbody',
          {},
          rows.map((m) =>
            h(
              'tr',
              {},
              h('td', { 'data-label': '#', class: 'num' }, String(m.rank)),
              h('td', { 'data-label': 'Module' }, h('code', {}, m.name)),
              h('td', { 'data-label': 'Wave', class: 'num' }, String(m.wave)),
              h('td', { 'data-label': 'Score', class: 'num' }, num(m.score)),
              h('td', { 'data-label': 'Fan-in', class: 'num' }, String(m.fanIn)),
              h('td', { 'data-label': 'Fan-out', class: 'num' }, String(m.fanOut)),
              h('td', { 'data-label': 'Routes' }, (m.routes ?? []).join(', ')),
              h('td', { 'data-label': 'Why' }, (m.reasons ?? []).join('; ')),
            ),
          ),
        ),
      ),
    );
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
