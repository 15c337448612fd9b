/**
 * Regression: opossum counted client disconnects (surfacing as
 * ERR_STREAM_PREMATURE_CLOSE) as service failures, so impatient clients could
 * open a healthy service's breaker. The errorFilter keeps them out.
 */
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../core/config.js';
import { BreakerRegistry, ClientAbortError } from '../../proxy/breaker.js';

const cfg = parseConfig({
  legacy: { url: 'http://127.0.0.1:1' },
  services: { svc: { url: 'http://127.0.0.1:2' } },
  routes: [
    {
      id: 'r',
      match: { path: '/r' },
      service: 'svc',
      failover: { volumeThreshold: 3, resetTimeoutMs: 100, halfOpenMaxRequests: 1 },
    },
  ],
}).routes[0].failover;

function prematureClose(): ClientAbortError {
  const e = Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
  return new ClientAbortError(e);
}

describe('client disconnects do not count toward opening the breaker', () => {
  let registry: BreakerRegistry;
  beforeEach(() => {
    vi.useFakeTimers();
    registry = new BreakerRegistry({ metrics: new Registry() });
  });
  afterEach(() => {
    registry.close();
    vi.useRealTimers();
  });

  it('50 aborted requests leave a closed breaker closed', async () => {
    const b = registry.get('r', 'svc', cfg);
    for (let i = 0; i < 50; i++) {
      await expect(b.run(() => Promise.reject(prematureClose()))).rejects.toBeInstanceOf(ClientAbortError);
    }
    expect(b.state).toBe('closed');
    expect(b.cb.stats.failures).toBe(0);
    // Real failures still count, and an abort weighs nothing in the error
    // rate (issue 12: it used to count as a success, diluting failures).
    let real = 0;
    while (b.state === 'closed' && real < 100) {
      await b.run(() => Promise.reject(new Error('reset'))).catch(() => {});
      real++;
    }
    expect(b.state).toBe('open');
    expect(b.cb.stats.failures).toBe(real);
    expect(real).toBe(3); // the volume threshold: the 50 aborts are not fires
  });

  it('three outcomes (issue 12): 10 aborts beside 8 failures open the breaker as 8 failures alone do', async () => {
    const eight = { ...cfg, volumeThreshold: 8, errorThresholdPercentage: 50 };
    const alone = registry.get('alone', 'svc', eight);
    for (let i = 0; i < 8; i++) await alone.run(() => Promise.reject(new Error('reset'))).catch(() => {});
    expect(alone.state).toBe('open');

    const mixed = registry.get('mixed', 'svc', eight);
    for (let i = 0; i < 10; i++) await mixed.run(() => Promise.reject(prematureClose())).catch(() => {});
    for (let i = 0; i < 8; i++) await mixed.run(() => Promise.reject(new Error('reset'))).catch(() => {});
    expect(mixed.state).toBe('open');
    expect(mixed.cb.stats.fires).toBe(8);
    expect(mixed.cb.stats.successes).toBe(0);
  });

  it('an aborted trial frees its half-open slot without reopening', async () => {
    const b = registry.get('r', 'svc', cfg);
    for (let i = 0; i < 3; i++) await b.run(() => Promise.reject(new Error('reset'))).catch(() => {});
    vi.advanceTimersByTime(100);
    expect(b.state).toBe('half-open');
    await b.run(() => Promise.reject(prematureClose())).catch(() => {});
    expect(b.state).toBe('half-open');
    expect(b.trials()).toEqual({ inFlight: 0, succeeded: 0 });
    await b.run(() => Promise.resolve(1));
    expect(b.state).toBe('closed');
  });
});
