/**
 * The progressive canary rollout: raise a route's weight step by step
 * (`--steps 1,5,25,50,100 --interval 2m`), holding each step for an interval
 * and checking the SLO of the service traffic before the next one. Each step
 * is a gated flipRoute (a weight increase needs the gate like any other).
 *
 * A rollout is a record in the store (RecordStore, kind `rollout`, one per
 * route), not a loop in the terminal that started it: `strangler canary
 * --steps` writes it, and the proxy holding the guard lease drives it
 * (startRolloutDriver, run by control/leader.ts), the way Flagger's
 * controller drives a Canary resource. Killing the CLI stops nothing; a
 * proxy that dies hands the lease, and so the rollout, to another one.
 * Pause, resume, abort and the driver all change the same record with
 * compare-and-set, so none of them overwrites another's change.
 *
 * The audit log tells the story (`strangler history`), but is never read
 * back to know the state:
 *
 *   canary.start   {steps, intervalMs}          (no route change)
 *   canary.step    a flip row, details.rollout = {index, steps}
 *   canary.pause / canary.resume                 (no route change)
 *   canary.rollback  a flip row back to shadow (SLO breach, or --abort)
 *   canary.abort / canary.halt / canary.done     (terminal)
 */
import { type Config, configuredRoute, type RouteConfig } from '../core/config.js';
import { StranglerError, isStranglerError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { RouteState } from '../core/types.js';
import { requireIntact } from '../store/integrity.js';
import { windowStart } from '../store/stats-window.js';
import type { Store } from '../store/types.js';
import { type Clock, pollSerially, sleep, systemClock } from './clock.js';
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
  /** Epoch ms the rollout was started; 0 when there was never one. */
  startedAt: number;
  /** Epoch ms the current step was applied: its SLO is judged on traffic since. */
  stepAt: number;
  /** The driver judges the current step (and applies the next) at this epoch ms. */
  holdUntil: number;
  /** The route version the rollout set last (or found at start): any other means someone else flipped. */
  version: number;
  /** The driver's latest word: the last SLO verdict, or why the rollout ended. */
  message: string;
  /** The last change: who, when, why. */
  last?: { at: string; actor: string; action: string; reason: string };
}

/** Who the driver's flips and audit rows are recorded as. */
export const ROLLOUT_ACTOR = 'canary';
const KIND = 'rollout';
const TERMINAL: ReadonlySet<RolloutStatus> = new Set(['none', 'aborted', 'halted', 'rolled-back', 'done']);

export function isActive(r: Rollout): boolean {
  return !TERMINAL.has(r.status);
}

const none = (route: string): Rollout => ({
  route,
  status: 'none',
  steps: [],
  intervalMs: 0,
  index: -1,
  startedAt: 0,
  stepAt: 0,
  holdUntil: 0,
  version: 0,
  message: '',
});

async function readRecord(store: Store, route: string): Promise<{ rollout: Rollout; rev: number }> {
  const rec = await store.records.get<Rollout>(KIND, route);
  return rec ? { rollout: rec.value, rev: rec.rev } : { rollout: none(route), rev: 0 };
}

/** The route's rollout: one record read, whatever the audit log holds. */
export async function readRollout(store: Store, route: string): Promise<Rollout> {
  return (await readRecord(store, route)).rollout;
}

/**
 * Change a rollout by compare-and-set: `change` sees the current record and
 * returns the new one (or undefined to leave it). Retried when another
 * writer got in between, so a pause never overwrites a step or vice versa.
 */
async function updateRollout(
  store: Store,
  route: string,
  change: (cur: Rollout) => Rollout | undefined,
): Promise<Rollout> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const { rollout, rev } = await readRecord(store, route);
    const next = change(rollout);
    if (!next) return rollout;
    if (await store.records.put(KIND, route, next, rev)) return next;
  }
  throw new StranglerError(
    'STRANGLER_E_ROLLOUT_STATE',
    `route "${route}": the rollout kept changing under us; try again`,
    {
      details: { route },
    },
  );
}

/** Parse `1,5,25,50,100`: whole numbers 1..100, strictly increasing. */
export function parseSteps(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  const steps = parts.map(Number);
  const bad = parts.find((p, i) => !/^\d+$/.test(p) || steps[i] < 1 || steps[i] > 100);
  if (parts.length === 0 || bad !== undefined)
    throw new StranglerError(
      'STRANGLER_E_USAGE',
      `steps: "${bad ?? text}" is not a whole percentage 1..100 (e.g. --steps 1,5,25,50,100)`,
      {
        details: { field: 'steps', value: text },
      },
    );
  for (let i = 1; i < steps.length; i++)
    if (steps[i] <= steps[i - 1])
      throw new StranglerError(
        'STRANGLER_E_USAGE',
        `steps: must increase, but ${steps[i]} follows ${steps[i - 1]}`,
        {
          details: { field: 'steps', value: text },
        },
      );
  return steps;
}

const describeState = (r: Rollout) =>
  `a ${r.status} rollout (started ${new Date(r.startedAt).toISOString()}, step ${r.index + 1}/${r.steps.length})`;

/**
 * Where a new rollout starts: the route's state and the steps still ahead of
 * its current canary weight. Refuses an unknown route, a bad interval, a
 * lost store, a route already at the service, and steps all behind it.
 */
export async function rolloutStart(
  store: Store,
  config: Readonly<Config>,
  opts: { route: string; steps: number[]; intervalMs: number },
): Promise<{ state: RouteState; steps: number[] }> {
  configuredRoute(config, opts.route);
  if (!Number.isInteger(opts.intervalMs) || opts.intervalMs <= 0)
    throw new StranglerError(
      'STRANGLER_E_USAGE',
      `interval: expected a positive duration, got ${opts.intervalMs}`,
      {
        details: { field: 'interval' },
      },
    );
  await requireIntact(store);
  const state = await store.routes.get(opts.route);
  if (!state)
    throw new StranglerError('STRANGLER_E_UNKNOWN_ROUTE', `route: "${opts.route}" is not in the store yet`, {
      details: { field: 'route', value: opts.route },
    });
  if (state.mode === 'service')
    throw new StranglerError(
      'STRANGLER_E_ROLLOUT_STATE',
      `route "${opts.route}" already sends all its traffic to the service`,
      {
        details: { route: opts.route },
      },
    );
  const from = state.mode === 'canary' ? state.weight : 0;
  const steps = opts.steps.filter((s) => s > from);
  if (steps.length === 0)
    throw new StranglerError(
      'STRANGLER_E_USAGE',
      `steps: every step is at or below the current weight ${from}%`,
      {
        details: { field: 'steps', value: opts.steps },
      },
    );
  return { state, steps };
}

/**
 * Record a new rollout; the lease-holding proxy applies its first step within
 * a poll. Steps at or below the route's current canary weight are dropped, so
 * re-running after a halt continues from where the route is. Refused while
 * another rollout is running or paused, and on a store that lost its state.
 */
export async function startRollout(
  store: Store,
  config: Readonly<Config>,
  opts: { route: string; steps: number[]; intervalMs: number; actor: string; reason?: string; now?: number },
): Promise<Rollout> {
  const { state, steps } = await rolloutStart(store, config, opts);
  const now = opts.now ?? Date.now();
  const reason = opts.reason ?? `rollout ${steps.join(',')} every ${opts.intervalMs / 1000}s`;
  const { rollout: cur, rev } = await readRecord(store, opts.route);
  const started: Rollout = {
    route: opts.route,
    status: 'running',
    steps,
    intervalMs: opts.intervalMs,
    index: -1,
    startedAt: now,
    stepAt: now,
    holdUntil: now,
    version: state.version,
    message: 'waiting for the proxy holding the guard lease to apply the first step',
    last: { at: new Date(now).toISOString(), actor: opts.actor, action: 'canary.start', reason },
  };
  const refuse = (r: Rollout) =>
    new StranglerError(
      'STRANGLER_E_ROLLOUT_STATE',
      `route "${opts.route}" already has ${describeState(r)}; --abort it first`,
      {
        details: { route: opts.route, rollout: r },
      },
    );
  if (isActive(cur)) throw refuse(cur);
  if (!(await store.records.put(KIND, opts.route, started, rev)))
    throw refuse(await readRollout(store, opts.route));
  await store.audit.append({
    actor: opts.actor,
    route: opts.route,
    action: 'canary.start',
    before: state,
    after: null,
    reason,
    details: { steps, intervalMs: opts.intervalMs },
  });
  return started;
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
  opts: { actor: string; reason: string; now?: number },
): Promise<Rollout> {
  const now = opts.now ?? Date.now();
  await requireIntact(store); // a lost store would answer "no rollout"
  const next = await updateRollout(store, route, (cur) => {
    checkRolloutControl(cur, action.slice(7) as RolloutControl);
    const last = { at: new Date(now).toISOString(), actor: opts.actor, action, reason: opts.reason };
    // Traffic during a pause is still judged; a resumed step is watched for
    // a whole interval again before it advances.
    return action === 'canary.pause'
      ? { ...cur, status: 'paused', last }
      : { ...cur, status: 'running', holdUntil: now + cur.intervalMs, last };
  });
  await store.audit.append({
    actor: opts.actor,
    route,
    action,
    before: null,
    after: null,
    reason: opts.reason,
    details: { index: next.index, steps: next.steps },
  });
  return next;
}

export function pauseRollout(
  store: Store,
  opts: { route: string; actor: string; reason?: string; now?: number },
): Promise<Rollout> {
  return control(store, opts.route, 'canary.pause', {
    actor: opts.actor,
    reason: opts.reason ?? 'paused',
    now: opts.now,
  });
}

export function resumeRollout(
  store: Store,
  opts: { route: string; actor: string; reason?: string; now?: number },
): Promise<Rollout> {
  return control(store, opts.route, 'canary.resume', {
    actor: opts.actor,
    reason: opts.reason ?? 'resumed',
    now: opts.now,
  });
}

/**
 * Stop the rollout and send the route's traffic back to legacy (mode shadow),
 * as Flagger and Argo Rollouts do on abort. The record is marked aborted
 * first, so the driver stops before the rollback flip could look to it like
 * someone else's change.
 */
export async function abortRollout(
  store: Store,
  config: Readonly<Config>,
  opts: { route: string; actor: string; reason?: string },
): Promise<Rollout> {
  const reason = opts.reason ?? 'rollout aborted';
  const at = new Date().toISOString();
  await requireIntact(store);
  const aborted = await updateRollout(store, opts.route, (cur) => {
    checkRolloutControl(cur, 'abort');
    return {
      ...cur,
      status: 'aborted',
      message: `aborted by ${opts.actor}: ${reason}`,
      last: { at, actor: opts.actor, action: 'canary.abort', reason },
    };
  });
  const state = await store.routes.get(opts.route);
  if (state && (state.mode === 'canary' || state.mode === 'service'))
    await flipRoute(
      store,
      config,
      {
        route: opts.route,
        mode: 'shadow',
        actor: opts.actor,
        action: 'canary.rollback',
        reason,
        details: { rollout: { index: aborted.index, steps: aborted.steps, aborted: true } },
      },
      defaultFlipSteps(),
    );
  await store.audit.append({
    actor: opts.actor,
    route: opts.route,
    action: 'canary.abort',
    before: null,
    after: null,
    reason,
    details: { index: aborted.index, steps: aborted.steps },
  });
  return aborted;
}

export type StepperEvent =
  | { type: 'step'; route: string; index: number; weight: number; mode: string; version: number }
  | { type: 'slo'; route: string; index: number; status: SloStatus }
  | { type: 'paused' | 'resumed'; route: string; index: number }
  | { type: 'end'; route: string; status: RolloutStatus; message: string };

export interface RolloutDriverOptions {
  store: Store;
  config: Readonly<Config>;
  clock?: Clock;
  /** How often to look at the rollouts (default 1 s). */
  pollMs?: number;
  logger?: Logger;
  onEvent?: (e: StepperEvent) => void;
}

export interface RolloutDriver {
  stop(): void;
  /** Advance every running rollout that is due (the timer calls this; tests may too). */
  tick(): Promise<void>;
}

/** What the driver's units share: the options with their defaults filled in. */
interface Driver {
  store: Store;
  config: Readonly<Config>;
  clock: Clock;
  emit: (e: StepperEvent) => void;
  logger?: Logger;
}

type EndAction = 'canary.halt' | 'canary.done';

/**
 * End a rollout as `status` (audited when `action` is given), unless it is no
 * longer the one this driver read: an abort written in between wins.
 */
async function endRollout(
  d: Driver,
  r: Rollout,
  end: {
    status: RolloutStatus;
    message: string;
    action?: EndAction;
    details?: Record<string, unknown>;
    patch?: Partial<Rollout>;
  },
): Promise<void> {
  const { status, message, action, patch = {} } = end;
  const last = {
    at: new Date(d.clock.now()).toISOString(),
    actor: ROLLOUT_ACTOR,
    action: action ?? `canary.${status}`,
    reason: message,
  };
  await updateRollout(d.store, r.route, (cur) =>
    cur.startedAt !== r.startedAt || !isActive(cur) ? undefined : { ...cur, ...patch, status, message, last },
  );
  if (action)
    await d.store.audit.append({
      actor: ROLLOUT_ACTOR,
      route: r.route,
      action,
      before: null,
      after: null,
      reason: message,
      details: { index: patch.index ?? r.index, steps: r.steps, ...end.details },
    });
  d.emit({ type: 'end', route: r.route, status, message });
  d.logger?.info({ route: r.route, status }, `rollout of ${r.route} ${status}: ${message}`);
}

const halt = (d: Driver, r: Rollout, message: string, details?: Record<string, unknown>) =>
  endRollout(d, r, { status: 'halted', message, action: 'canary.halt', details });

/** Merge driver progress into the record, keeping a pause or abort someone wrote meanwhile. */
const saveProgress = (d: Driver, r: Rollout, patch: Partial<Rollout>) =>
  updateRollout(d.store, r.route, (cur) =>
    cur.startedAt !== r.startedAt ? undefined : { ...cur, ...patch },
  );

/**
 * Judge the SLO of the service traffic since the current step: `next` when
 * the step held and the rollout may go on; `wait` when it is not due, has
 * too little traffic (held for another interval), or the rollout ended
 * (rolled back on a breach, or halted).
 */
async function judgeStep(d: Driver, route: RouteConfig, r: Rollout, now: number): Promise<'next' | 'wait'> {
  if (now < r.holdUntil) return 'wait';
  const since = windowStart(r.stepAt, d.config.proxy.statsFlushMs);
  const live = await readLiveTraffic(d.store, route.id, 'service', since, now, r.version);
  const status = judgeSlo(route.id, route.slo, live, { since, until: now });
  d.emit({ type: 'slo', route: route.id, index: r.index, status });
  if (status.state === 'insufficient') {
    await saveProgress(d, r, { holdUntil: now + r.intervalMs, message: status.message });
    return 'wait';
  }
  if (status.state === 'breach') {
    await rollBack(d, r, status);
    return 'wait';
  }
  return 'next';
}

/** An SLO breach: flip the route back to shadow and end the rollout as rolled-back. */
async function rollBack(d: Driver, r: Rollout, status: SloStatus): Promise<void> {
  try {
    await flipRoute(
      d.store,
      d.config,
      {
        route: r.route,
        mode: 'shadow',
        actor: ROLLOUT_ACTOR,
        action: 'canary.rollback',
        reason: status.message,
        expectVersion: r.version,
        details: { slo: status, rollout: { index: r.index, steps: r.steps } },
      },
      defaultFlipSteps(),
    );
  } catch (err) {
    if (!isStranglerError(err, 'STRANGLER_E_STALE_VERSION')) throw err;
    return halt(d, r, 'route changed by someone else while the SLO was judged');
  }
  await endRollout(d, r, {
    status: 'rolled-back',
    message: `rolled back to shadow at ${r.steps[r.index]}%: ${status.message}`,
  });
}

/**
 * Apply the rollout's next step as a gated flip. A refused step (gate,
 * someone else's flip) halts the rollout; a store failure is thrown so the
 * next tick retries. The last step ends the rollout as done.
 */
async function applyNextStep(d: Driver, r: Rollout, now: number): Promise<void> {
  const next = r.index + 1;
  const weight = r.steps[next];
  const mode = weight === 100 ? 'service' : 'canary';
  const stepName = `step ${next + 1}/${r.steps.length}`;
  let version: number;
  try {
    const res = await flipRoute(
      d.store,
      d.config,
      {
        route: r.route,
        mode,
        weight,
        actor: ROLLOUT_ACTOR,
        action: 'canary.step',
        reason: `rollout ${stepName}: ${weight}%`,
        expectVersion: r.version,
        details: { rollout: { index: next, steps: r.steps } },
      },
      defaultFlipSteps(),
    );
    version = res.after!.version;
  } catch (err) {
    if (!isStranglerError(err) || err.code === 'STRANGLER_E_STORE' || err.code === 'STRANGLER_E_STORE_LOST')
      throw err;
    return halt(d, r, `${stepName} (${weight}%) refused: ${err.message}`, {
      error: err.code,
      ...(err.details ?? {}),
    });
  }
  d.emit({ type: 'step', route: r.route, index: next, weight, mode, version });
  d.logger?.info({ route: r.route, weight, version }, `rollout of ${r.route}: ${stepName} → ${weight}%`);
  const stepped = { index: next, stepAt: now, holdUntil: now + r.intervalMs, version };
  if (next === r.steps.length - 1) {
    const message = `rollout done: ${mode === 'service' ? 'service' : `canary ${weight}%`}; the guard watches its SLO from here`;
    return endRollout(d, r, { status: 'done', message, action: 'canary.done', details: {}, patch: stepped });
  }
  await saveProgress(d, r, {
    ...stepped,
    message: `${stepName}: ${weight}%, judged at ${new Date(stepped.holdUntil).toISOString()}`,
  });
}

/** One running rollout, one look: halt if someone else flipped the route, else judge the step and maybe apply the next. */
async function advance(d: Driver, route: RouteConfig, r: Rollout): Promise<void> {
  const state = await d.store.routes.get(route.id);
  if (!state) return halt(d, r, `route "${route.id}" is no longer in the store`);
  if (state.version !== r.version)
    return halt(
      d,
      r,
      `route changed by ${state.actor} (${state.mode} ${state.weight}%, v${state.version}): ${state.reason}`,
    );
  const now = d.clock.now();
  if (r.index >= 0 && (await judgeStep(d, route, r, now)) === 'wait') return;
  await applyNextStep(d, r, now);
}

/** The rollouts worth driving now; none from a store that is away or lost (it refuses flips: wait until restored). */
async function listRollouts(d: Driver): Promise<Rollout[]> {
  try {
    if ((await d.store.integrity()).state === 'lost') return [];
    return (await d.store.records.list<Rollout>(KIND)).map((x) => x.value);
  } catch (err) {
    d.logger?.warn({ err }, 'rollouts: cannot read the store; trying again');
    return [];
  }
}

/**
 * Drive every running rollout in the store: apply its next step when due,
 * hold it for the interval, judge the SLO of the service traffic since the
 * step, repeat. Runs only on the instance holding the guard lease
 * (control/leader.ts). Ends a rollout as done, rolled-back (SLO breach), or
 * halted (a gate refused a step, or someone else flipped the route).
 */
export function startRolloutDriver(opts: RolloutDriverOptions): RolloutDriver {
  const d: Driver = {
    store: opts.store,
    config: opts.config,
    clock: opts.clock ?? systemClock,
    emit: opts.onEvent ?? (() => {}),
    logger: opts.logger,
  };
  /** Routes whose rollout this driver last saw paused, to say "resumed" once. */
  const paused = new Set<string>();

  async function tick(): Promise<void> {
    for (const r of await listRollouts(d)) {
      const route = d.config.routes.find((x) => x.id === r.route);
      if (!route) continue;
      if (r.status === 'paused' && !paused.has(r.route)) {
        paused.add(r.route);
        d.emit({ type: 'paused', route: r.route, index: r.index });
      }
      if (r.status !== 'running') continue;
      if (paused.delete(r.route)) d.emit({ type: 'resumed', route: r.route, index: r.index });
      try {
        await advance(d, route, r);
      } catch (err) {
        // One route's store hiccup must not stop the others; the next tick retries.
        d.logger?.error({ route: r.route, err }, `rollout of ${r.route}: ${(err as Error).message}`);
      }
    }
  }

  const stop = pollSerially(d.clock, { firstMs: 0, everyMs: opts.pollMs ?? 1000 }, tick);
  return { stop, tick };
}

/**
 * Watch a rollout until it ends (`strangler canary --follow`): calls
 * `onChange` with each new state, resolves with the terminal one. Reading
 * only; stopping the follower (its signal) stops nothing in the store.
 */
export async function followRollout(
  store: Store,
  route: string,
  opts: {
    pollMs: number;
    signal?: AbortSignal;
    clock?: Clock;
    onChange: (r: Rollout, prev: Rollout | undefined) => void;
  },
): Promise<Rollout> {
  const clock = opts.clock ?? systemClock;
  let prev: Rollout | undefined;
  for (;;) {
    const r = await readRollout(store, route);
    if (!prev || JSON.stringify(r) !== JSON.stringify(prev)) opts.onChange(r, prev);
    prev = r;
    if (!isActive(r) || opts.signal?.aborted) return r;
    // A referenced timer: following is what keeps the CLI alive (issue 13:
    // unref'd timers let `canary --follow` return at once).
    await (clock === systemClock
      ? new Promise((res) => setTimeout(res, opts.pollMs))
      : sleep(clock, opts.pollMs));
  }
}
