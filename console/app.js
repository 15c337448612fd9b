/**
 * The console's shell: hash routes (#/, #/route/ID, #/plan), the session
 * (token entered once per tab, read-only when the listener has none), and
 * live updates by polling.
 *
 * Why polling and not Server-Sent Events: what the page shows changes when a
 * proxy flushes a stats window, records a shadow batch or someone flips, and
 * the admin listener learns of the first two only by reading the store; a
 * poll every POLL_MS asks the same endpoints a script or the CLI would, needs
 * no long-lived connection per open tab on the admin listener, and stops
 * while the tab is hidden.
 */
import * as api from './api.js';
import { h, replace } from './dom.js';
import { time } from './format.js';
import { loadPlan, renderPlan } from './view-plan.js';
import { loadRoute, renderRoute } from './view-route.js';
import { loadRoutes, renderRoutes } from './view-routes.js';

const POLL_MS = 2000;
const main = document.getElementById('main');
const banner = document.getElementById('banner');
const updated = document.getElementById('updated');

let session = { mutations: false, authorized: null, reason: 'checking…' };
let lastShown = '';
let timer;

const ctx = {
  /** Why actions are disabled right now, or null when they are not. */
  whyNot() {
    if (!session.mutations) return session.reason;
    if (!api.token.get()) return 'Enter the admin token (the Token button at the top) to make changes.';
    if (session.authorized === false)
      return 'The admin token of this tab was refused (401): enter the right one.';
    if (!api.actor.get())
      return 'Enter your name (the Token button at the top): every change is audited under it.';
    return null;
  },
  refresh: () => refresh(true),
  notice(text) {
    banner.hidden = false;
    banner.className = 'banner ok';
    banner.textContent = text;
  },
};

function parseHash() {
  const m = /^#\/route\/(.+)$/.exec(location.hash);
  if (m) return { view: 'route', id: decodeURIComponent(m[1]) };
  if (location.hash === '#/plan') return { view: 'plan' };
  return { view: 'routes' };
}

async function loadSession() {
  session = await api.getJson('/console/session', api.token.get() || undefined);
  renderSession();
}

function renderSession() {
  const el = document.getElementById('session');
  const state = !session.mutations
    ? h('span', { 'data-testid': 'session-state' }, 'read-only')
    : !api.token.get()
      ? h('span', { 'data-testid': 'session-state' }, 'no token in this tab')
      : session.authorized === false
        ? h('span', { 'data-testid': 'session-state', class: 'bad' }, 'token refused')
        : h('span', { 'data-testid': 'session-state' }, 'token set');
  replace(
    el,
    state,
    session.mutations
      ? h('button', { type: 'button', id: 'token-button', onclick: openToken }, 'Token')
      : null,
  );
}

/** @param {string} id */
const dialogById = (id) => /** @type {HTMLDialogElement} */ (document.getElementById(id));
const tokenInput = () => /** @type {HTMLInputElement} */ (document.getElementById('token-input'));
const actorInput = () => /** @type {HTMLInputElement} */ (document.getElementById('actor-input'));

function openToken() {
  document.getElementById('token-error').textContent = '';
  tokenInput().value = '';
  actorInput().value = api.actor.get();
  dialogById('token-dialog').showModal();
}

function wireTokenDialog() {
  const dlg = dialogById('token-dialog');
  const input = tokenInput();
  const err = document.getElementById('token-error');
  document.getElementById('token-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const t = input.value.trim();
    const name = actorInput().value.trim();
    if (!t) return;
    if (!name) {
      err.textContent = 'Your name is needed: the audit log records who made each change.';
      return;
    }
    const s = await api.getJson('/console/session', t);
    if (s.authorized !== true) {
      err.textContent = 'The admin listener refused this token.';
      return;
    }
    api.token.set(t);
    api.actor.set(name);
    dlg.close();
    await refresh(true);
  });
  document.getElementById('token-forget').addEventListener('click', async () => {
    api.token.clear();
    dlg.close();
    await refresh(true);
  });
  document.getElementById('token-cancel').addEventListener('click', () => dlg.close());
}

async function render(force) {
  const where = parseHash();
  for (const a of document.querySelectorAll('[data-nav]'))
    a.toggleAttribute(
      'aria-current',
      a.getAttribute('data-nav') === (where.view === 'plan' ? 'plan' : 'routes'),
    );
  if (where.view !== 'plan' && !force && dialogById('action-dialog').open) return; // don't move the page under an open dialog
  let data;
  let nodes;
  if (where.view === 'route') {
    data = await loadRoute(api, where.id);
    nodes = () => renderRoute(data, ctx);
    document.title = `${where.id} · strangler console`;
  } else if (where.view === 'plan') {
    data = await loadPlan(api);
    nodes = () => renderPlan(data);
    document.title = 'plan · strangler console';
  } else {
    data = await loadRoutes(api);
    nodes = () => renderRoutes(data);
    document.title = 'routes · strangler console';
  }
  // Only re-render when something changed: keeps scroll, selection and focus still.
  const key = JSON.stringify([where, data, session, Boolean(api.token.get())]);
  if (force || key !== lastShown) {
    lastShown = key;
    replace(main, nodes());
  }
}

async function refresh(force = false) {
  clearTimeout(timer);
  try {
    await loadSession();
    await render(force);
    if (banner.className !== 'banner ok') banner.hidden = true;
    updated.textContent = `Updated ${time(Date.now())} · refreshes every ${POLL_MS / 1000} s`;
  } catch (err) {
    banner.hidden = false;
    banner.className = 'banner';
    banner.textContent = `Admin API unreachable or failing: ${err.message}. Showing the last data; retrying.`;
  } finally {
    if (!document.hidden) timer = setTimeout(refresh, POLL_MS);
  }
}

wireTokenDialog();
window.addEventListener('hashchange', () => {
  banner.hidden = true;
  refresh(true).then(() => main.focus({ preventScroll: true }));
});
// Charts are drawn at the width they are shown at (charts.js): redraw after a resize settles.
let resized;
window.addEventListener('resize', () => {
  clearTimeout(resized);
  resized = setTimeout(() => refresh(true), 250);
});
document.addEventListener('visibilitychange', () => {
  if (!document.hidden) refresh();
});
refresh(true);
