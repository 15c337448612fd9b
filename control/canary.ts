/**
 * The progressive canary stepper: raise a route's weight step by step
 * (`--steps 1,5,25,50,100 --interval 2m`), holding each step for an interval
 * and checking the SLO of the service traffic before the next one. Each step
 * is a gated flipRoute (a weight increase needs the gate like any other).
 *
 * The rollout's progress lives in the audit log, not in the stepper's memory,
 * so `strangler canary ROUTE --pause|--resume|--abort` from another process
 * steers a stepper running elsewhere, and `strangler history` tells the story:
 *
 *   canary.start   {steps, intervalMs}          (no route change)
 *   canary.step    a flip row, details.rollout = {index, steps}
 *   canary.pause / canary.resume                 (no route change)
 *   canary.rollback  a flip row back to shadow (SLO breach, or --abort)
 *   canary.abort / canary.halt / canary.done     (terminal)
 *
 * readRollout() folds the rows since the latest canary.start into a state.
 */
import type { Config, RouteConfig } from '../core/config.js';
import { StranglerError, isStranglerError } from '../core/errors.js';
import type { AuditEntry } from '../core/types.js';
import { windowStart } from '../store/stats-window.js';
import type { Store } from '../store/types.js';
import { type Clock, sleep, systemClock } from './clock.js';
import { readLiveTraffic } from './evidence.js';
import { flipRoute } from './flip.js';
import { defaultFlipSteps } from './flip-steps.js';
import { type SloStatus, judgeSlo } from './guard.js';

export type RolloutStatus = 'none' | 'running' | 'paused' | 'aborted' | 'halted' | 'rolled-back' | 'done';

export interface Rollout {
  route: string;
  status: RolloutStatus;
  steps: number[];
  intervalMs: number;
  /** Index into `steps` of the step applied last; -1 before the first. */
  index: number;
  /** Seq of the canary.start row; 0 when there was never a rollout. */
  startSeq: number;
  /** The last row that changed the rollout: who, when, why. */
  last?: { seq: number; at: string; actor: string; action: string; reason: string };
}

const ACTIONS = new Set([
  'canary.start',
  'canary.step',
  'canary.pause',
  'canary.resume',
  'canary.rollback',
  'canary.abort',
  'canary.halt',
  'canary.done',
]);
const TERMINAL: ReadonlySet<RolloutStatus> = new Set(['none', 'aborted', 'halted', 'rolled-back', 'done']);

export function isActive(r: Rollout): boolean {
  return !TERMINAL.has(r.status);
}

/** Fold audit rows (oldest first, starting with a canary.start) into a rollout state. Pure. */
export function foldRollout(route: string, rows: readonly AuditEntry[]): Rollout {
  const out: Rollout = { route, status: 'none', steps: [], intervalMs: 0, index: -1, startSeq: 0 };
  for (const e of rows) {
    if (!ACTIONS.has(e.action)) continue;
    const d = (e.details ?? {}) as { steps?: number[]; intervalMs?: number; rollout?: { index: number } };
    switch (e.action) {
      case 'canary.start':
        Object.assign(out, { status: 'running', steps: d.steps ?? [], intervalMs: d.intervalMs ?? 0, index: -1, startSeq: e.seq });
        break;
      case 'canary.step':
        if (d.rollout) out.index = d.rollout.index;
        break;
      case 'canary.pause':
        out.status = 'paused';
        break;
      case 'canary.resume':
        out.status = 'running';
        break;
      case 'canary.rollback':
        out.status = 'rolled-back';
        break;
      case 'canary.abort':
        out.status = 'aborted';
        break;
      case 'canary.halt':
        out.status = 'halted';
        break;
      case 'canary.done':
        out.status = 'done';
        break;
    }
    out.last = { seq: e.seq, at: e.at, actor: e.actor, action: e.action, reason: e.reason };
  }
  return out;
}

export async function readRollout(store: Store, route: string): Promise<Rollout> {
  const [start] = await store.audit.list({ route, action: 'canary.start', limit: 1 });
  if (!start) return foldRollout(route, []);
  const rows = (await store.audit.list({ route, limit: 1000 })).filter((e) => e.seq >= start.seq);
  return foldRollout(route, rows);
}

function routeConfig(config: Readonly<Config>, route: string): RouteConfig {
  const r = config.routes.find((x) => x.id === route);
  if (!r)
    throw new StranglerError('STRANGLER_E_UNKNOWN_ROUTE', `route: no route "${route}" in the config`, {
      details: { field: 'route', value: route },
    });
  return r;
}

/** Parse `1,5,25,50,100`: whole numbers 1..100, strictly increasing. */
export function parseSteps(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  const steps = parts.map(Number);
  const bad = parts.find((p, i) => !/^\d+$/.test(p) || steps[i] < 1 || steps[i] > 100);
  if (parts.length === 0 || bad !== undefined)
    throw new StranglerError('STRANGLER_E_USAGE', `steps: "${bad ?? text}" is not a whole percentage 1..100 (e.g. --steps 1,5,25,50,100)`, {
      details: { field: 'steps', value: text },
    });
  for (let i = 1; i < steps.length; i++)
    if (steps[i] <= steps[i - 1])
      throw new StranglerError('STRANGLER_E_USAGE', `steps: must increase, but ${steps[i]} follows ${steps[i - 1]}`, {
        details: { field: 'steps', value: text },
      });
  return steps;
}

/**
 * Record a new rollout. Steps at or below the route's current canary weight
 * are dropped, so re-running after a stepper died continues from where the
 * route is. Refused while another rollout is running or paused.
 */
export async function startRollout(
  store: Store,
  config: Readonly<Config>,
  opts: { route: string; steps: number[]; intervalMs: number; actor: string; reason?: string },
): Promise<Rollout> {
  routeConfig(config, opts.route);
  if (!Number.isInteger(opts.intervalMs) || opts.intervalMs <= 0)
    throw new StranglerError('STRANGLER_E_USAGE', `interval: expected a positive duration, got ${opts.intervalMs}`, {
      details: { field: 'interval' },
    });
  const cur = await readRollout(store, opts.route);
  if (isActive(cur))
    throw new StranglerError(
      'STRANGLER_E_ROLLOUT_STATE',
      `route "${opts.route}" already has a ${cur.status} rollout (started at seq ${cur.startSeq}, step ${cur.index + 1}/${cur.steps.length}); --abort it first`,
      { details: { route: opts.route, rollout: cur } },
    );
  const state = await store.routes.get(opts.route);
  if (!state)
    throw new StranglerError('STRANGLER_E_UNKNOWN_ROUTE', `route: "${opts.route}" is not in the store yet`, {
      details: { field: 'route', value: opts.route },
    });
  if (state.mode === 'service')
    throw new StranglerError('STRANGLER_E_ROLLOUT_STATE', `route "${opts.route}" already sends all its traffic to the service`, {
      details: { route: opts.route },
    });
  const from = state.mode === 'canary' ? state.weight : 0;
  const steps = opts.steps.filter((s) => s > from);
  if (steps.length === 0)
    throw new StranglerError('STRANGLER_E_USAGE', `steps: every step is at or below the current weight ${from}%`, {
      details: { field: 'steps', value: opts.steps },
    });
  await store.audit.append({
    actor: opts.actor,
    route: opts.route,
    action: 'canary.start',
    before: state,
    after: null,
    reason: opts.reason ?? `rollout ${steps.join(',')} every ${opts.intervalMs / 1000}s`,
    details: { steps, intervalMs: opts.intervalMs },
  });
  return readRollout(store, opts.route);
}

/** What an operator may do to a rollout, and the states each needs. */
export type RolloutControl = 'pause' | 'resume' | 'abort';
const CONTROL_NEEDS: Record<RolloutControl, RolloutStatus[]> = {
  pause: ['running'],
  resume: ['paused'],
  abort: ['running', 'paused'],
};

/** Throw STRANGLER_E_ROLLOUT_STATE unless `cur` allows `action`; the console's dry run asks the same question. */
export function checkRolloutControl(cur: Rollout, action: RolloutControl): void {
  const allowed = CONTROL_NEEDS[action];
  if (!allowed.includes(cur.status))
    throw new StranglerError(
      'STRANGLER_E_ROLLOUT_STATE',
      `route "${cur.route}" has ${cur.status === 'none' ? 'no rollout' : `a ${cur.status} rollout`}; ${action} needs one that is ${allowed.join(' or ')}`,
      { details: { route: cur.route, status: cur.status } },
    );
}

async function control(
  store: Store,
  route: string,
  action: 'canary.pause' | 'canary.resume',
  actor: string,
  reason: string,
): Promise<Rollout> {
  const cur = await readRollout(store, route);
  checkRolloutControl(cur, action.slice(7) as RolloutControl);
  await store.audit.append({ actor, route, action, before: null, after: null, reason, details: { index: cur.index, steps: cur.steps } });
  return readRollout(store, route);
}

export function pauseRollout(store: Store, opts: { route: string; actor: string; reason?: string }): Promise<Rollout> {
  return control(store, opts.route, 'canary.pause', opts.actor, opts.reason ?? 'paused');
}

export function resumeRollout(store: Store, opts: { route: string; actor: string; reason?: string }): Promise<Rollout> {
  return control(store, opts.route, 'canary.resume', opts.actor, opts.reason ?? 'resumed');
}

/**
 * Stop the rollout and send the route's traffic back to legacy (mode shadow),
 * as Flagger and Argo Rollouts do on abort. Works whether or not a stepper is
 * running: the rollback is done here, the stepper just notices and exits.
 */
export async function abortRollout(
  store: Store,
  config: Readonly<Config>,
  opts: { route: string; actor: string; reason?: string },
): Promise<Rollout> {
  const cur = await readRollout(store, opts.route);
  checkRolloutControl(cur, 'abort');
  const reason = opts.reason ?? 'rollout aborted';
  const state = await store.routes.get(opts.route);
  if (state && (state.mode === 'canary' || state.mode === 'service'))
    await flipRoute(store, config, { route: opts.route, mode: 'shadow', actor: opts.actor, action: 'canary.rollback', reason, details: { rollout: { index: cur.index, steps: cur.steps, aborted: true } } }, defaultFlipSteps());
  await store.audit.append({ actor: opts.actor, route: opts.route, action: 'canary.abort', before: null, after: null, reason, details: { index: cur.index, steps: cur.steps } });
  return readRollout(store, opts.route);
}

export type StepperEvent =
  | { type: 'step'; index: number; weight: number; mode: string; version: number }
  | { type: 'hold'; index: number; weight: number; untilMs: number }
  | { type: 'slo'; index: number; status: SloStatus }
  | { type: 'paused' | 'resumed'; index: number }
  | { type: 'end'; status: RolloutStatus; message: string };

export interface StepperOptions {
  store: Store;
  config: Readonly<Config>;
  route: string;
  /** Who the step flips are recorded as (default `canary`). */
  actor?: string;
  clock?: Clock;
  /** How often to look for --pause/--abort and foreign flips while holding a step. */
  pollMs?: number;
  onEvent?: (e: StepperEvent) => void;
  /** Stop driving (Ctrl-C): the rollout stays as it is in the store; `--follow` picks it up again. */
  signal?: AbortSignal;
}

/**
 * Drive a started rollout to its end: apply the next step, hold it for the
 * interval, judge the SLO of the service traffic since the step, repeat.
 * Returns the final status: done, rolled-back (SLO breach), halted (gate
 * refused, or someone else flipped the route) or aborted.
 */
export async function runRollout(opts: StepperOptions): Promise<{ status: RolloutStatus; message: string }> {
  const { store, config } = opts;
  const clock = opts.clock ?? systemClock;
  const actor = opts.actor ?? 'canary';
  const emit = opts.onEvent ?? (() => {});
  const route = routeConfig(config, opts.route);
  const flushMs = config.proxy.statsFlushMs;
  const pollMs = opts.pollMs ?? 1000;

  let r = await readRollout(store, route.id);
  if (!isActive(r))
    throw new StranglerError('STRANGLER_E_ROLLOUT_STATE', `route "${route.id}" has no running rollout; start one with --steps`, {
      details: { route: route.id, status: r.status },
    });
  const { steps, intervalMs } = r;
  let index = r.index;
  let version = (await store.routes.get(route.id))!.version;
  let stepAt = clock.now();

  const end = async (status: RolloutStatus, message: string, action?: 'canary.halt' | 'canary.done', details?: Record<string, unknown>) => {
    if (action) await store.audit.append({ actor, route: route.id, action, before: null, after: null, reason: message, details: { index, steps, ...details } });
    emit({ type: 'end', status, message });
    return { status, message };
  };

  const stopped = () => {
    const message = `stepper stopped at step ${index + 1}/${steps.length}; the rollout stays ${r.status} (resume driving it with --follow)`;
    emit({ type: 'end', status: r.status, message });
    return { status: r.status, message };
  };

  /** Hold the current step until `until`; a pause restarts the hold when resumed. */
  const hold = async (until: number): Promise<{ status: RolloutStatus; message: string } | undefined> => {
    emit({ type: 'hold', index, weight: steps[index], untilMs: until });
    while (clock.now() < until) {
      await sleep(clock, Math.min(pollMs, until - clock.now()));
      if (opts.signal?.aborted) return stopped();
      r = await readRollout(store, route.id);
      if (r.status === 'aborted' || r.status === 'rolled-back')
        return end(r.status, `rollout ${r.status} by ${r.last?.actor}: ${r.last?.reason}`);
      const state = await store.routes.get(route.id);
      if (state && state.version !== version)
        return end('halted', `route changed by ${state.actor} (${state.mode} ${state.weight}%, v${state.version}): ${state.reason}`, 'canary.halt');
      if (r.status === 'paused') {
        emit({ type: 'paused', index });
        while (r.status === 'paused') {
          await sleep(clock, pollMs);
          if (opts.signal?.aborted) return stopped();
          r = await readRollout(store, route.id);
        }
        if (r.status !== 'running') return end(r.status, `rollout ${r.status} by ${r.last?.actor}: ${r.last?.reason}`);
        emit({ type: 'resumed', index });
        // Traffic during the pause is still judged; the hold restarts so the
        // resumed step gets a whole interval of watching before it advances.
        until = clock.now() + intervalMs;
      }
    }
    return undefined;
  };

  for (;;) {
    if (index >= 0) {
      let until = stepAt + intervalMs;
      for (;;) {
        const stop = await hold(until);
        if (stop) return stop;
        const now = clock.now();
        const since = windowStart(stepAt, flushMs);
        const live = await readLiveTraffic(store, route.id, 'service', since, now);
        const status = judgeSlo(route.id, route.slo, live, { since, until: now });
        emit({ type: 'slo', index, status });
        if (status.state === 'ok') break;
        if (status.state === 'insufficient') {
          until = now + intervalMs;
          continue;
        }
        try {
          await flipRoute(
            store,
            config,
            { route: route.id, mode: 'shadow', actor, action: 'canary.rollback', reason: status.message, expectVersion: version, details: { slo: status, rollout: { index, steps } } },
            defaultFlipSteps(),
          );
        } catch (err) {
          if (!isStranglerError(err, 'STRANGLER_E_STALE_VERSION')) throw err;
          return end('halted', 'route changed by someone else while the SLO was judged', 'canary.halt');
        }
        return end('rolled-back', `rolled back to shadow at ${steps[index]}%: ${status.message}`);
      }
    }
    const next = index + 1;
    const weight = steps[next];
    const mode = weight === 100 ? 'service' : 'canary';
    try {
      const res = await flipRoute(
        store,
        config,
        {
          route: route.id,
          mode,
          weight,
          actor,
          action: 'canary.step',
          reason: `rollout step ${next + 1}/${steps.length}: ${weight}%`,
          expectVersion: version,
          details: { rollout: { index: next, steps } },
        },
        defaultFlipSteps(),
      );
      version = res.after!.version;
    } catch (err) {
      if (!isStranglerError(err)) throw err;
      return end('halted', `step ${next + 1}/${steps.length} (${weight}%) refused: ${err.message}`, 'canary.halt', {
        error: err.code,
        ...(err.details ?? {}),
      });
    }
    index = next;
    stepAt = clock.now();
    emit({ type: 'step', index, weight, mode, version });
    if (index === steps.length - 1)
      return end('done', `rollout done: ${mode === 'service' ? 'service' : `canary ${weight}%`}; the guard watches its SLO from here`, 'canary.done');
  }
}
