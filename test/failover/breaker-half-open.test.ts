/**
 * The breaker's state machine on a fake clock (time is the subject here):
 * volumeThreshold keeps one early failure from tripping it, half-open lets a
 * bounded number of trial requests through, and every change is audited.
 */
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../core/config.js';
import type { AuditInput } from '../../core/types.js';
import { breakerStatesFromAudit } from '../../core/breaker-state.js';
import { BreakerOpenError, BreakerRegistry, type ServiceBreaker } from '../../proxy/breaker.js';

function failoverConfig(overrides: Record<string, unknown> = {}) {
  return parseConfig({
    legacy: { url: 'http://127.0.0.1:1' },
    services: { svc: { url: 'http://127.0.0.1:2' } },
    routes: [{ id: 'blocks', match: { path: '/b' }, service: 'svc', failover: overrides }],
  }).routes[0].failover;
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const ok = () => Promise.resolve('ok');
const boom = () => Promise.reject(new Error('ECONNREFUSED'));

describe('breaker state machine (fake clock)', () => {
  let audit: AuditInput[];
  let metrics: Registry;
  let registry: BreakerRegistry;

  beforeEach(() => {
    vi.useFakeTimers();
    audit = [];
    metrics = new Registry();
    registry = new BreakerRegistry({
      audit: {
        append: async (e) => {
          audit.push(e);
          return { ...e, seq: audit.length, at: new Date().toISOString() };
        },
      },
      metrics,
    });
  });

  afterEach(() => {
    registry.close();
    vi.useRealTimers();
  });

  async function trip(b: ServiceBreaker, failures: number) {
    for (let i = 0; i < failures; i++) await b.run(boom).catch(() => {});
  }

  it('does not open on one early failure (volumeThreshold 20 by default), opens once the volume is there', async () => {
    const b = registry.get('blocks', 'svc', failoverConfig());
    await trip(b, 1);
    expect(b.state).toBe('closed');
    await trip(b, 18);
    expect(b.state).toBe('closed'); // 19 fires, all failed: still under the volume
    await trip(b, 1);
    expect(b.state).toBe('open');
    expect(audit.map((a) => a.action)).toEqual(['breaker.open']);
    expect(audit[0]).toMatchObject({
      actor: 'breaker',
      route: 'blocks',
      details: { failures: 20, fires: 20, errorRatePercent: 100 },
    });
    // Open: the attempt is not called, the error is the breaker's own.
    const attempt = vi.fn(ok);
    await expect(b.run(attempt)).rejects.toBeInstanceOf(BreakerOpenError);
    expect(attempt).not.toHaveBeenCalled();
  });

  it('half-open lets halfOpenMaxRequests trials through and closes only after that many succeed', async () => {
    const b = registry.get(
      'blocks',
      'svc',
      failoverConfig({ volumeThreshold: 2, resetTimeoutMs: 1000, halfOpenMaxRequests: 3 }),
    );
    await trip(b, 2);
    expect(b.state).toBe('open');
    vi.advanceTimersByTime(999);
    expect(b.state).toBe('open');
    vi.advanceTimersByTime(1);
    expect(b.state).toBe('half-open');

    const trials = [deferred<string>(), deferred<string>(), deferred<string>()];
    const running = trials.map((d) => b.run(() => d.promise));
    expect(b.trials()).toEqual({ inFlight: 3, succeeded: 0 });
    // A fourth request while three trials are out: rejected without reaching the service.
    const extra = vi.fn(ok);
    const rejected = await b.run(extra).catch((e: unknown) => e);
    expect(rejected).toBeInstanceOf(BreakerOpenError);
    expect((rejected as BreakerOpenError).state).toBe('half-open');
    expect(extra).not.toHaveBeenCalled();

    trials[0].resolve('a');
    trials[1].resolve('b');
    await Promise.all(running.slice(0, 2));
    expect(b.state).toBe('half-open'); // opossum alone would have closed on the first success
    // Slots held by successes are spent: still no fourth trial.
    await expect(b.run(ok)).rejects.toBeInstanceOf(BreakerOpenError);
    trials[2].resolve('c');
    await running[2];
    expect(b.state).toBe('closed');
    expect(audit.map((a) => a.action)).toEqual(['breaker.open', 'breaker.half-open', 'breaker.close']);
    expect(audit[2].details).toMatchObject({ trialSuccesses: 3, openForMs: 1000 });
    await expect(b.run(ok)).resolves.toBe('ok');
  });

  it('one failed trial reopens at once; a late success from that half-open phase changes nothing', async () => {
    const b = registry.get(
      'blocks',
      'svc',
      failoverConfig({ volumeThreshold: 2, resetTimeoutMs: 500, halfOpenMaxRequests: 2 }),
    );
    await trip(b, 2);
    vi.advanceTimersByTime(500);
    expect(b.state).toBe('half-open');
    const slow = deferred<string>();
    const late = b.run(() => slow.promise);
    await b.run(boom).catch(() => {});
    expect(b.state).toBe('open');
    slow.resolve('late');
    await late;
    expect(b.state).toBe('open');
    // The reset timer restarted with the reopening: half-open again after resetTimeoutMs.
    vi.advanceTimersByTime(500);
    expect(b.state).toBe('half-open');
    expect(audit.map((a) => a.action)).toEqual([
      'breaker.open',
      'breaker.half-open',
      'breaker.open',
      'breaker.half-open',
    ]);
    expect(audit[2].details).toMatchObject({ trialFailed: true });
  });

  it('publishes strangler_breaker_state per route (0 closed, 1 half-open, 2 open) and states()', async () => {
    const b = registry.get('blocks', 'svc', failoverConfig({ volumeThreshold: 1, resetTimeoutMs: 100 }));
    const gauge = async () =>
      (await metrics.getSingleMetric('strangler_breaker_state')!.get()).values[0]?.value;
    expect(await gauge()).toBe(0);
    await trip(b, 1);
    expect(await gauge()).toBe(2);
    expect(registry.states()).toEqual({ blocks: 'open' });
    vi.advanceTimersByTime(100);
    expect(await gauge()).toBe(1);
    expect(registry.states()).toEqual({ blocks: 'half-open' });
  });

  it('survives reloads: same key → same breaker', () => {
    const b = registry.get('blocks', 'svc', failoverConfig({ volumeThreshold: 1, resetTimeoutMs: 1000 }));
    expect(registry.get('blocks', 'svc', failoverConfig({ volumeThreshold: 1, resetTimeoutMs: 1000 }))).toBe(
      b,
    );
  });

  it('derives the latest state per route from audit rows for a CLI without a proxy', () => {
    const rows = [
      { route: 'a', action: 'breaker.open' },
      { route: 'b', action: 'flip' },
      { route: 'a', action: 'breaker.half-open' },
      { route: 'c', action: 'breaker.open' },
      { route: 'a', action: 'breaker.close' },
      { route: null, action: 'breaker.open' },
    ];
    expect(breakerStatesFromAudit(rows)).toEqual({ a: 'closed', c: 'open' });
  });
});
