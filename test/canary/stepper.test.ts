import { afterEach, describe, expect, it } from 'vitest';
import {
  abortRollout,
  parseSteps,
  pauseRollout,
  readRollout,
  resumeRollout,
  type RolloutDriver,
  startRollout,
  startRolloutDriver,
  type StepperEvent,
} from '../../control/canary.js';
import { flipRoute } from '../../control/flip.js';
import { openStore } from '../../store/open.js';
import { windowStart } from '../../store/stats-window.js';
import type { Store } from '../../store/types.js';
import { FakeClock, type Fixture, routeFixture, serviceWindow, shadowBatch } from '../control/fixtures.js';

const MIN = 60_000;

describe('canary rollout driver (fake clock, real SQLite store)', () => {
  let fx: Fixture;
  let other: Store | undefined;
  let driver: RolloutDriver | undefined;
  afterEach(async () => {
    driver?.stop();
    driver = undefined;
    await other?.close();
    other = undefined;
    await fx?.close();
  });

  /** A rollout of `steps` every minute, driven on a fake clock; `traffic` is written every 10 s. */
  async function rollout(steps: number[], opts: { evidence?: number } = {}) {
    fx = await routeFixture({ mode: 'shadow' });
    if (opts.evidence !== 0)
      await fx.store.shadow.record('block', shadowBatch({ compared: opts.evidence ?? 200 }));
    // A second handle on the same file: --pause/--abort come from another process.
    other = await openStore(fx.config.store);
    const clock = new FakeClock();
    const events: StepperEvent[] = [];
    // The rollout is started from "another process" (other) and driven by the lease holder's driver (fx.store).
    await startRollout(other, fx.config, {
      route: 'block',
      steps,
      intervalMs: MIN,
      actor: 'ops',
      now: clock.now(),
    });
    driver = startRolloutDriver({
      store: fx.store,
      config: fx.config,
      clock,
      pollMs: 1000,
      onEvent: (e) => events.push(e),
    });
    await clock.advance(0);
    /** The rollout's record once it ended (fails if it is still going). */
    const done = async () => {
      const r = await readRollout(fx.store, 'block');
      expect(['done', 'rolled-back', 'halted', 'aborted']).toContain(r.status);
      return r;
    };
    const run = async (ms: number, perTenSeconds?: { requests: number; errors: number; ms?: number }) => {
      if (ms === 0) await clock.advance(0);
      for (let t = 0; t < ms; t += 10_000) {
        if (perTenSeconds)
          await fx.store.stats.add([
            serviceWindow(
              windowStart(clock.now(), 1000),
              perTenSeconds.requests,
              perTenSeconds.errors,
              perTenSeconds.ms,
            ),
          ]);
        await clock.advance(Math.min(10_000, ms - t));
      }
    };
    return { clock, events, run, done };
  }
  const actions = async () =>
    (await fx.store.audit.list({ route: 'block' })).map((e) => `${e.actor}:${e.action}`);

  it('walks shadow → canary 5% → 50% → service through the gates with healthy traffic; the audit log tells it', async () => {
    const r = await rollout([5, 50, 100]);
    await r.run(0);
    expect(await fx.store.routes.get('block')).toMatchObject({ mode: 'canary', weight: 5 });
    await r.run(MIN + 1000, { requests: 10, errors: 0 });
    expect(await fx.store.routes.get('block')).toMatchObject({ mode: 'canary', weight: 50 });
    await r.run(MIN + 1000, { requests: 10, errors: 0 });
    expect(await r.done()).toMatchObject({ status: 'done' });
    expect(await fx.store.routes.get('block')).toMatchObject({ mode: 'service', weight: 100 });
    expect(await actions()).toEqual([
      'config:seed',
      'ops:canary.start',
      'canary:canary.step',
      'canary:canary.step',
      'canary:canary.step',
      'canary:canary.done',
    ]);
    const steps = (await fx.store.audit.list({ route: 'block', action: 'canary.step' })).map(
      (e) => e.details,
    );
    expect(steps.map((d) => (d as { gate: { pass: boolean } }).gate.pass)).toEqual([true, true, true]);
    expect(
      r.events.filter((e) => e.type === 'slo').map((e) => (e as { status: { state: string } }).status.state),
    ).toEqual(['ok', 'ok']);
    expect((await readRollout(fx.store, 'block')).status).toBe('done');
  });

  it('too little traffic holds the step (neither advances nor rolls back) and says so, then advances once traffic comes', async () => {
    const r = await rollout([5, 50]);
    await r.run(MIN + 1000, { requests: 1, errors: 0 });
    expect(await fx.store.routes.get('block')).toMatchObject({ mode: 'canary', weight: 5 });
    const slo = r.events.filter((e) => e.type === 'slo') as Array<{
      status: { state: string; message: string };
    }>;
    expect(slo.map((e) => e.status.state)).toEqual(['insufficient']);
    expect(slo[0].status.message).toMatch(
      /too little service traffic to judge: 6 requests in the last 6[01]s, SLO needs 20/,
    );
    await r.run(MIN, { requests: 10, errors: 0 });
    expect(await r.done()).toMatchObject({ status: 'done' });
    expect(await fx.store.routes.get('block')).toMatchObject({ mode: 'canary', weight: 50 });
  });

  it('an SLO breach between steps rolls the route back to shadow with the numbers', async () => {
    const r = await rollout([5, 50, 100]);
    await r.run(MIN + 1000, { requests: 10, errors: 2, ms: 20 });
    expect(await r.done()).toMatchObject({ status: 'rolled-back' });
    expect(await fx.store.routes.get('block')).toMatchObject({ mode: 'shadow', weight: 0 });
    const row = (await fx.store.audit.list({ route: 'block' })).at(-1)!;
    expect(row).toMatchObject({
      actor: 'canary',
      action: 'canary.rollback',
      before: { mode: 'canary', weight: 5 },
    });
    expect(row.reason).toMatch(/error rate 20% \(1[24]\/[67]0\) > 5%/);
    expect((await readRollout(fx.store, 'block')).status).toBe('rolled-back');
  });

  it("judges a step on its own version's traffic: failures of the previous step in the same stats window do not roll it back (issue 29)", async () => {
    const r = await rollout([5, 50, 100]);
    await r.run(MIN + 1000, { requests: 10, errors: 0 });
    const at50 = await readRollout(fx.store, 'block');
    expect(await fx.store.routes.get('block')).toMatchObject({ mode: 'canary', weight: 50, version: 3 });
    const w = windowStart(at50.stepAt, 1000);
    await fx.store.stats.add([
      serviceWindow(w, 30, 30, 10, 'p1', 2), // 5%'s failures, just before the step to 50%
      serviceWindow(w, 30, 0, 10, 'p1', 3),
    ]);
    await r.run(MIN + 1000);
    expect(await r.done()).toMatchObject({ status: 'done' });
    expect(await fx.store.routes.get('block')).toMatchObject({ mode: 'service', weight: 100 });
    const slo = r.events.filter((e) => e.type === 'slo') as Array<{
      status: { requests: number; errors: number };
    }>;
    // 50%'s own 30, plus the version-less window the first run wrote in the step's second (judged by time, as before).
    expect(slo.at(-1)!.status).toMatchObject({ requests: 40, errors: 0 });
  });

  it('--pause from another process holds the weight past the interval; --resume holds a full interval again, then steps', async () => {
    const r = await rollout([5, 50]);
    await r.run(10_000, { requests: 10, errors: 0 });
    await pauseRollout(other!, {
      route: 'block',
      actor: 'ops2',
      reason: 'investigating a ticket',
      now: r.clock.now(),
    });
    await r.run(3 * MIN, { requests: 10, errors: 0 });
    expect(await fx.store.routes.get('block')).toMatchObject({ mode: 'canary', weight: 5 });
    expect(r.events.some((e) => e.type === 'paused')).toBe(true);
    await resumeRollout(other!, { route: 'block', actor: 'ops2', now: r.clock.now() });
    await r.run(30_000, { requests: 10, errors: 0 });
    expect(await fx.store.routes.get('block')).toMatchObject({ weight: 5 });
    await r.run(MIN, { requests: 10, errors: 0 });
    expect(await r.done()).toMatchObject({ status: 'done' });
    expect(await fx.store.routes.get('block')).toMatchObject({ mode: 'canary', weight: 50 });
    expect(await actions()).toEqual([
      'config:seed',
      'ops:canary.start',
      'canary:canary.step',
      'ops2:canary.pause',
      'ops2:canary.resume',
      'canary:canary.step',
      'canary:canary.done',
    ]);
  });

  it('--abort from another process rolls back to shadow and the stepper exits', async () => {
    const r = await rollout([5, 50]);
    await r.run(10_000, { requests: 10, errors: 0 });
    await abortRollout(other!, fx.config, { route: 'block', actor: 'ops2', reason: 'support tickets' });
    expect(await fx.store.routes.get('block')).toMatchObject({ mode: 'shadow' });
    await r.run(2000);
    expect(await r.done()).toMatchObject({ status: 'aborted' });
    expect((await actions()).slice(-2)).toEqual(['ops2:canary.rollback', 'ops2:canary.abort']);
  });

  it('a refusing gate halts the rollout where it is, audited with the verdict', async () => {
    const r = await rollout([5, 50], { evidence: 0 });
    expect(await r.done()).toMatchObject({ status: 'halted' });
    expect(await fx.store.routes.get('block')).toMatchObject({ mode: 'shadow', version: 1 });
    const row = (await fx.store.audit.list({ route: 'block' })).at(-1)!;
    expect(row.action).toBe('canary.halt');
    expect(row.reason).toContain('compared 0 shadow pairs, gate needs at least 100');
    expect(row.details).toMatchObject({ error: 'STRANGLER_E_GATE_REFUSED' });
  });

  it('a flip by someone else (the guard) halts the stepper instead of fighting it', async () => {
    const r = await rollout([5, 50]);
    await r.run(10_000);
    await flipRoute(other!, fx.config, {
      route: 'block',
      mode: 'shadow',
      actor: 'guard',
      action: 'guard.rollback',
      reason: 'SLO breached',
    });
    await r.run(2000);
    expect(await r.done()).toMatchObject({ status: 'halted' });
    expect((await r.done()).message).toContain('route changed by guard');
    expect(await fx.store.routes.get('block')).toMatchObject({ mode: 'shadow' });
  });

  it('refuses a second rollout while one is active, and bad steps naming the field', async () => {
    const r = await rollout([5, 50]);
    await expect(
      startRollout(other!, fx.config, { route: 'block', steps: [10], intervalMs: MIN, actor: 'x' }),
    ).rejects.toThrow(/already has a running rollout.*--abort it first/);
    await abortRollout(other!, fx.config, { route: 'block', actor: 'x' });
    await r.run(2000);
    await expect(pauseRollout(other!, { route: 'block', actor: 'x' })).rejects.toThrow(
      /has a aborted rollout|aborted rollout/,
    );
    expect(() => parseSteps('5,1')).toThrow(/steps: must increase, but 1 follows 5/);
    expect(() => parseSteps('5,abc')).toThrow(/steps: "abc" is not a whole percentage/);
    expect(() => parseSteps('0,5')).toThrow(/steps: "0"/);
    expect(parseSteps('1, 5,25,50,100')).toEqual([1, 5, 25, 50, 100]);
  });

  it('a new rollout continues from the current weight: steps at or below it are dropped', async () => {
    fx = await routeFixture({ mode: 'canary', weight: 25 });
    const r = await startRollout(fx.store, fx.config, {
      route: 'block',
      steps: [1, 5, 25, 50, 100],
      intervalMs: MIN,
      actor: 'ops',
    });
    expect(r).toMatchObject({ status: 'running', steps: [50, 100], index: -1 });
  });
});
