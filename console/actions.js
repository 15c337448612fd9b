/**
 * Flip, canary step, pause, resume, abort. Every action asks the admin API
 * for a dry run first and shows its verdict (the gate's checks, measured
 * against their limits) in a dialog; only "Confirm" changes anything. A gate
 * refusal can be overridden only with a reason, which the audit log keeps.
 */
import { ApiError, postJson } from './api.js';
import { h, replace } from './dom.js';
import { gateCheckText, modeText } from './format.js';

const LADDER = [1, 5, 25, 50, 100];
const MODES = ['legacy', 'shadow', 'canary', 'service'];

/** The next canary weight: the running rollout's next step, else the next rung of the ladder; 100 means service. */
export function nextCanaryWeight(row) {
  const r = row.status?.rollout;
  if (r && (r.status === 'running' || r.status === 'paused') && r.index + 1 < r.steps.length)
    return r.steps[r.index + 1];
  const cur = row.mode === 'canary' ? row.weight : 0;
  return LADDER.find((w) => w > cur) ?? 100;
}

const dialog = () => /** @type {HTMLDialogElement} */ (document.getElementById('action-dialog'));
const body = () => document.getElementById('action-body');

function close() {
  dialog().close();
}

function errorText(err) {
  return err instanceof ApiError ? `${err.code}: ${err.message}` : String(err?.message ?? err);
}

function checksList(gate) {
  if (!gate) return null;
  return h(
    'ul',
    { class: 'checks' },
    gate.checks.map((c) => h('li', { class: c.ok ? 'ok' : 'bad' }, c.ok ? '✓ ' : '✗ ', gateCheckText(c))),
  );
}

/** The verdict of a flip dry run, in words and checks. */
function flipVerdict(result) {
  const d = result.details ?? {};
  const t = d.transition;
  return h(
    'div',
    { class: 'verdict', 'data-testid': 'verdict' },
    h(
      'p',
      {},
      h('strong', {}, modeText(result.before.mode, result.before.weight)),
      ' → ',
      h('strong', {}, t ? modeText(t.to.mode, t.to.weight) : '?'),
      t ? h('span', { class: 'muted' }, ` (${t.kind})`) : null,
      ` · route version ${result.before.version}`,
    ),
    d.gate
      ? h(
          'div',
          {},
          h('h3', {}, d.gate.pass ? 'Gate: pass' : 'Gate: refused'),
          d.gate.basisNote ? h('p', { class: 'muted', 'data-testid': 'gate-basis' }, d.gate.basisNote) : null,
          checksList(d.gate),
        )
      : h(
          'p',
          { class: 'muted' },
          'No gate for this change (rollbacks and moves away from the service are never gated).',
        ),
    d.refused ? h('p', { class: 'error', role: 'alert' }, d.refused.message) : null,
  );
}

/**
 * The flip dialog: pick a mode (and weight), check it with a dry run, then
 * confirm, or force with a reason when the gate refuses.
 */
export function openFlip(row, ctx, preset) {
  const mode = h(
    'select',
    { id: 'flip-mode' },
    MODES.map((m) => h('option', { value: m, selected: m === (preset?.mode ?? row.mode) }, m)),
  );
  const weight = h('input', {
    id: 'flip-weight',
    type: 'number',
    min: 1,
    max: 99,
    value: preset?.weight ?? (row.mode === 'canary' ? row.weight : 5),
  });
  const reason = h('textarea', { id: 'flip-reason', rows: 2, placeholder: 'why (kept in the audit log)' });
  const verdict = h('div', { 'aria-live': 'polite' });
  const buttons = h('div', { class: 'buttons' });
  const weightRow = h('div', {}, h('label', { for: 'flip-weight' }, 'Canary weight %'), weight);
  const syncWeight = () => {
    weightRow.hidden = mode.value !== 'canary';
  };
  mode.addEventListener('change', () => {
    syncWeight();
    showCheck();
  });
  weight.addEventListener('input', showCheck);
  syncWeight();

  const request = (extra) => ({
    mode: mode.value,
    ...(mode.value === 'canary' ? { weight: Number(weight.value) } : {}),
    ...(reason.value.trim() ? { reason: reason.value.trim() } : {}),
    ...extra,
  });

  function showCheck() {
    replace(verdict);
    replace(
      buttons,
      h('button', { class: 'primary', type: 'button', onclick: check }, 'Check (dry run)'),
      cancelButton(),
    );
  }

  async function check() {
    replace(verdict, h('p', { class: 'muted' }, 'Asking the gate…'));
    let result;
    try {
      result = await postJson(`/routes/${encodeURIComponent(row.id)}/flip`, request({ dryRun: true }));
    } catch (err) {
      replace(verdict, h('p', { class: 'error', role: 'alert' }, errorText(err)));
      return;
    }
    replace(verdict, flipVerdict(result));
    const refused = result.details?.refused;
    const confirm = (force) => async () => {
      if (force && !reason.value.trim()) {
        replace(
          verdict,
          flipVerdict(result),
          h(
            'p',
            { class: 'error', role: 'alert' },
            'A forced flip needs a reason: it is recorded in the audit log with the evidence it overrode.',
          ),
        );
        reason.focus();
        return;
      }
      try {
        const done = await postJson(
          `/routes/${encodeURIComponent(row.id)}/flip`,
          request({ expectVersion: result.before.version, ...(force ? { force: true } : {}) }),
        );
        close();
        ctx.notice(
          `${row.id}: ${modeText(done.before.mode, done.before.weight)} → ${modeText(done.after.mode, done.after.weight)} (version ${done.after.version})`,
        );
        ctx.refresh();
      } catch (err) {
        replace(verdict, flipVerdict(result), h('p', { class: 'error', role: 'alert' }, errorText(err)));
      }
    };
    replace(
      buttons,
      refused
        ? h(
            'button',
            { class: 'danger', type: 'button', onclick: confirm(true), 'data-testid': 'force' },
            'Force flip (reason required)',
          )
        : h(
            'button',
            { class: 'primary', type: 'button', onclick: confirm(false), 'data-testid': 'confirm' },
            'Confirm flip',
          ),
      cancelButton(),
    );
    buttons.querySelector('button')?.focus();
  }

  showCheck();
  replace(
    body(),
    h('h2', { id: 'action-title' }, `Flip ${row.id}`),
    h('p', { class: 'muted' }, `Now ${modeText(row.mode, row.weight)}, version ${row.version}.`),
    h('div', { class: 'form-row' }, h('div', {}, h('label', { for: 'flip-mode' }, 'Mode'), mode), weightRow),
    h('div', {}, h('label', { for: 'flip-reason' }, 'Reason'), reason),
    verdict,
    buttons,
  );
  dialog().showModal();
  if (preset) check();
  else mode.focus();
}

function cancelButton() {
  return h('button', { type: 'button', onclick: close }, 'Cancel');
}

/** Pause, resume or abort the route's canary rollout, after a dry run that says what it will do. */
export async function openRollout(row, action, ctx) {
  const reason = h('textarea', { id: 'rollout-reason', rows: 2, placeholder: 'why (kept in the audit log)' });
  const verdict = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Checking…'));
  const buttons = h('div', { class: 'buttons' }, cancelButton());
  replace(
    body(),
    h('h2', { id: 'action-title' }, `${action[0].toUpperCase()}${action.slice(1)} the rollout of ${row.id}`),
    verdict,
    h('div', {}, h('label', { for: 'rollout-reason' }, 'Reason'), reason),
    buttons,
  );
  dialog().showModal();
  const url = `/routes/${encodeURIComponent(row.id)}/rollout/${action}`;
  try {
    const dry = await postJson(url, { dryRun: true });
    replace(verdict, h('p', { 'data-testid': 'verdict' }, 'Dry run: this will ', dry.effect, '.'));
    replace(
      buttons,
      h(
        'button',
        {
          class: action === 'abort' ? 'danger' : 'primary',
          type: 'button',
          'data-testid': 'confirm',
          onclick: async () => {
            try {
              await postJson(url, reason.value.trim() ? { reason: reason.value.trim() } : {});
              close();
              ctx.notice(`${row.id}: rollout ${action}${action.endsWith('e') ? 'd' : 'ed'}`);
              ctx.refresh();
            } catch (err) {
              replace(verdict, h('p', { class: 'error', role: 'alert' }, errorText(err)));
            }
          },
        },
        `Confirm ${action}`,
      ),
      cancelButton(),
    );
    buttons.querySelector('button')?.focus();
  } catch (err) {
    replace(verdict, h('p', { class: 'error', role: 'alert' }, errorText(err)));
  }
}

/**
 * Start a progressive rollout (as `strangler canary ROUTE --steps … --interval …`):
 * steps and interval, a dry run that says what will happen, then confirm.
 */
export function openRolloutStart(row, ctx) {
  const steps = h('input', { id: 'rollout-steps', type: 'text', value: '5,25,50,100', spellcheck: 'false' });
  const interval = h('input', { id: 'rollout-interval', type: 'text', value: '2m', spellcheck: 'false' });
  const reason = h('textarea', { id: 'rollout-reason', rows: 2, placeholder: 'why (kept in the audit log)' });
  const verdict = h('div', { 'aria-live': 'polite' });
  const buttons = h('div', { class: 'buttons' });
  const url = `/routes/${encodeURIComponent(row.id)}/rollout/start`;
  const request = (extra) => ({
    steps: steps.value,
    interval: interval.value,
    ...(reason.value.trim() ? { reason: reason.value.trim() } : {}),
    ...extra,
  });
  const showCheck = () => {
    replace(verdict);
    replace(
      buttons,
      h('button', { class: 'primary', type: 'button', onclick: check }, 'Check (dry run)'),
      cancelButton(),
    );
  };
  async function check() {
    try {
      const dry = await postJson(url, request({ dryRun: true }));
      replace(verdict, h('p', { 'data-testid': 'verdict' }, 'Dry run: this will ', dry.effect, '.'));
    } catch (err) {
      replace(verdict, h('p', { class: 'error', role: 'alert' }, errorText(err)));
      return;
    }
    replace(
      buttons,
      h(
        'button',
        {
          class: 'primary',
          type: 'button',
          'data-testid': 'confirm',
          onclick: async () => {
            try {
              const done = await postJson(url, request({}));
              close();
              ctx.notice(`${row.id}: rollout started through ${done.rollout.steps.join(', ')}%`);
              ctx.refresh();
            } catch (err) {
              replace(verdict, h('p', { class: 'error', role: 'alert' }, errorText(err)));
            }
          },
        },
        'Start rollout',
      ),
      cancelButton(),
    );
    buttons.querySelector('button')?.focus();
  }
  steps.addEventListener('input', showCheck);
  interval.addEventListener('input', showCheck);
  showCheck();
  replace(
    body(),
    h('h2', { id: 'action-title' }, `Start a rollout of ${row.id}`),
    h(
      'p',
      { class: 'muted' },
      `Now ${modeText(row.mode, row.weight)}. Each step holds for the interval, then its SLO is judged before the next.`,
    ),
    h(
      'div',
      { class: 'form-row' },
      h('div', {}, h('label', { for: 'rollout-steps' }, 'Steps (% to the service)'), steps),
      h('div', {}, h('label', { for: 'rollout-interval' }, 'Interval per step'), interval),
    ),
    h('div', {}, h('label', { for: 'rollout-reason' }, 'Reason'), reason),
    verdict,
    buttons,
  );
  dialog().showModal();
  steps.focus();
}

/** The action buttons of a route; disabled ones say why, visibly and to screen readers. */
export function actionsPanel(row, ctx) {
  const r = row.status?.rollout ?? { status: 'none' };
  const next = nextCanaryWeight(row);
  const why = ctx.whyNot();
  const whyId = `why-${row.id}`;
  const button = (label, key, onclick, own) => {
    const reason = why ?? own ?? null;
    return h(
      'button',
      {
        type: 'button',
        'data-key': `${key}-${row.id}`,
        'data-action': key,
        disabled: Boolean(reason),
        title: reason ?? undefined,
        'aria-describedby': reason ? whyId : undefined,
        onclick,
      },
      label,
    );
  };
  const buttons = [
    button('Flip…', 'flip', () => openFlip(row, ctx)),
    button(
      next >= 100 ? 'Canary step → service' : `Canary step → ${next}%`,
      'step',
      () => openFlip(row, ctx, next >= 100 ? { mode: 'service' } : { mode: 'canary', weight: next }),
      row.mode === 'service' ? 'already serves all its traffic from the service' : null,
    ),
    button(
      'Start rollout…',
      'start',
      () => openRolloutStart(row, ctx),
      r.status === 'running' || r.status === 'paused'
        ? 'a rollout is already active'
        : row.mode === 'service'
          ? 'already serves all its traffic from the service'
          : null,
    ),
    button(
      'Pause',
      'pause',
      () => openRollout(row, 'pause', ctx),
      r.status === 'running' ? null : 'no running rollout to pause',
    ),
    button(
      'Resume',
      'resume',
      () => openRollout(row, 'resume', ctx),
      r.status === 'paused' ? null : 'no paused rollout to resume',
    ),
    button(
      'Abort',
      'abort',
      () => openRollout(row, 'abort', ctx),
      r.status === 'running' || r.status === 'paused' ? null : 'no rollout to abort',
    ),
  ];
  return h(
    'div',
    { class: 'actions' },
    h('div', { class: 'buttons' }, buttons),
    why ? h('p', { class: 'why', id: whyId, 'data-testid': 'why' }, why) : null,
  );
}
