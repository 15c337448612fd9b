/**
 * Circuit breakers for failover to legacy: one opossum (v9) breaker per
 * (route id, service name), kept in a BreakerRegistry that outlives route-table
 * reloads. opossum's events are the API: every state change goes to the log,
 * the audit trail ('breaker.open' / 'breaker.half-open' / 'breaker.close',
 * actor 'breaker') and the `strangler_breaker_state{route}` gauge.
 *
 * Two things are added around opossum, deliberately and nowhere else:
 *
 * - Bounded half-open trials. opossum's half-open admits exactly one request
 *   (its `pendingClose` flag) and closes on the first success. We let up to
 *   `halfOpenMaxRequests` trial requests through concurrently, close only
 *   after that many succeeded, and reopen on the first counted failure. Trial
 *   requests therefore do not go through `fire()` while half-open; the
 *   outcome is applied with opossum's public `open()` / `close()`, which emit
 *   the usual events and restart its reset timer.
 * - What counts as a failure. `errorFilter` keeps client disconnects (the
 *   client aborted: ClientAbortError, or any error raised after the client's
 *   signal fired, such as ERR_STREAM_PREMATURE_CLOSE) out of the failure
 *   count — opossum counted them, which let impatient clients open breakers.
 *   4xx answers are not errors at all: the attempt resolves with them.
 *
 * opossum's own `timeout` is disabled: it rejects while the action still runs,
 * which would let a resend race a request the service is still executing. The
 * attempt enforces `timeoutMs` itself (as the upstream headers timeout) and
 * has already stopped talking to the service when it rejects.
 */
import { EventEmitter } from 'node:events';
import CircuitBreaker from 'opossum';
import { Gauge, type Registry, register as defaultRegister } from 'prom-client';
import type { BreakerState } from '../core/breaker-state.js';
import type { FailoverConfig } from '../core/config.js';
import type { Logger } from '../core/log.js';
import type { AuditLog } from '../store/types.js';

// The audit-log view (for a CLI without a proxy) lives in core/ so control/ can read it.
export type { BreakerState } from '../core/breaker-state.js';

/** Gauge values of strangler_breaker_state. */
export const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/** The client went away before its response was chosen: not the service's fault. */
export class ClientAbortError extends Error {
  readonly code = 'STRANGLER_CLIENT_ABORTED';
  constructor(cause?: unknown) {
    super('client disconnected before the response', { cause });
    this.name = 'ClientAbortError';
  }
}

/** Rejected without calling the service: opossum's EOPENBREAKER or our half-open budget. */
export class BreakerOpenError extends Error {
  readonly code = 'EOPENBREAKER';
  constructor(
    readonly state: BreakerState,
    cause?: unknown,
  ) {
    super(state === 'half-open' ? 'breaker half-open: trial requests in use' : 'breaker open', { cause });
    this.name = 'BreakerOpenError';
  }
}

/** True for a rejection by the breaker itself (nothing was sent to the service). */
export function isBreakerOpen(err: unknown): err is BreakerOpenError {
  return err instanceof BreakerOpenError;
}

/** opossum's errorFilter: true means "not a failure of the service". */
export function isUncounted(err: unknown): boolean {
  return err instanceof ClientAbortError;
}

export interface BreakerEvent {
  route: string;
  service: string;
  state: BreakerState;
  previous: BreakerState;
  /** Date.now() of the change. */
  at: number;
  details: Record<string, unknown>;
}

export interface BreakerRegistryOptions {
  /** Audit trail for state changes; omitted in unit tests that only look at events. */
  audit?: Pick<AuditLog, 'append'>;
  log?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** prom-client registry for strangler_breaker_state; defaults to prom-client's global one. */
  metrics?: Registry;
}

type Action = (attempt: () => Promise<unknown>) => Promise<unknown>;

/** One (route, service) breaker: opossum plus the bounded half-open gate. */
export class ServiceBreaker {
  readonly cb: CircuitBreaker<[() => Promise<unknown>], unknown>;
  private trialsInFlight = 0;
  private trialsSucceeded = 0;
  /** Bumped on every state change, so a trial that outlives its half-open phase changes nothing. */
  private generation = 0;
  private openedAt: number | undefined;

  constructor(
    readonly route: string,
    readonly service: string,
    readonly config: Readonly<FailoverConfig>,
    private readonly onChange: (e: BreakerEvent) => void,
  ) {
    const action: Action = (attempt) => attempt();
    this.cb = new CircuitBreaker(action, {
      name: `${route}:${service}`,
      timeout: false,
      errorThresholdPercentage: config.errorThresholdPercentage,
      resetTimeout: config.resetTimeoutMs,
      rollingCountTimeout: config.rollingCountTimeoutMs,
      volumeThreshold: config.volumeThreshold,
      errorFilter: isUncounted,
      // We read stats on demand; opossum's snapshot timer would only cost a timer per breaker.
      enableSnapshots: false,
    });
    // Three outcomes, not two: opossum's errorFilter turns a filtered error
    // into a 'success' (a fire that did not fail), so 10 client aborts
    // beside 8 failures diluted the error rate to 44 % and kept a failing
    // service's breaker closed (issue 12). An ignored attempt is taken back
    // out of the window's counts instead: it never happened, for the breaker.
    this.cb.on('success', (result: unknown) => {
      if (isUncounted(result)) forgetAttempt(this.cb);
    });
    let previous: BreakerState = this.state;
    const emit = (state: BreakerState, details: Record<string, unknown>) => {
      this.generation++;
      this.trialsInFlight = 0;
      this.trialsSucceeded = 0;
      const e: BreakerEvent = { route, service, state, previous, at: Date.now(), details };
      previous = state;
      this.onChange(e);
    };
    this.cb.on('open', () => {
      const s = this.cb.stats;
      const wasHalfOpen = previous === 'half-open';
      this.openedAt = Date.now();
      emit('open', {
        service,
        fires: s.fires,
        failures: s.failures,
        rejects: s.rejects,
        errorRatePercent: s.fires > 0 ? Math.round((s.failures / s.fires) * 1000) / 10 : 0,
        errorThresholdPercentage: config.errorThresholdPercentage,
        volumeThreshold: config.volumeThreshold,
        resetTimeoutMs: config.resetTimeoutMs,
        ...(wasHalfOpen ? { trialFailed: true } : {}),
      });
    });
    this.cb.on('halfOpen', () => {
      emit('half-open', {
        service,
        openForMs: this.openedAt === undefined ? undefined : Date.now() - this.openedAt,
        halfOpenMaxRequests: config.halfOpenMaxRequests,
      });
    });
    this.cb.on('close', () => {
      const trials = this.trialsSucceeded;
      emit('closed', {
        service,
        trialSuccesses: trials,
        openForMs: this.openedAt === undefined ? undefined : Date.now() - this.openedAt,
      });
      this.openedAt = undefined;
    });
  }

  get state(): BreakerState {
    if (this.cb.opened) return 'open';
    if (this.cb.halfOpen) return 'half-open';
    return 'closed';
  }

  /**
   * Run one service attempt under the breaker. Rejects with BreakerOpenError
   * (without calling `attempt`) when the breaker is open or its half-open
   * trial slots are taken; otherwise settles as `attempt` does.
   */
  async run<T>(attempt: () => Promise<T>): Promise<T> {
    if (this.cb.halfOpen) return this.trial(attempt);
    try {
      return (await this.cb.fire(attempt)) as T;
    } catch (err) {
      if (CircuitBreaker.isOurError(err as Error)) throw new BreakerOpenError(this.state, err);
      throw err;
    }
  }

  private async trial<T>(attempt: () => Promise<T>): Promise<T> {
    const max = this.config.halfOpenMaxRequests;
    if (this.trialsInFlight + this.trialsSucceeded >= max) {
      // Counted like opossum's own rejects so stats stay comparable.
      this.cb.emit('reject', new BreakerOpenError('half-open'));
      throw new BreakerOpenError('half-open');
    }
    const gen = this.generation;
    this.trialsInFlight++;
    let result: T;
    try {
      result = await attempt();
    } catch (err) {
      if (gen === this.generation) {
        this.trialsInFlight--;
        // One counted failure while probing reopens at once (opossum's rule too).
        if (!isUncounted(err)) this.cb.open();
      }
      throw err;
    }
    if (gen === this.generation) {
      this.trialsInFlight--;
      this.trialsSucceeded++;
      if (this.trialsSucceeded >= max) this.cb.close();
    }
    return result;
  }

  /**
   * An answer the service gave outside the breaker (a shadow copy): while
   * half-open it counts as a trial, so a route in shadow mode, which sends the
   * service no live traffic, still closes once the service recovered — or
   * reopens if it has not. Closed or open, it changes nothing (opossum's
   * reset timer moves open to half-open).
   */
  probe(ok: boolean): void {
    if (!this.cb.halfOpen) return;
    if (!ok) {
      this.cb.open();
      return;
    }
    this.trialsSucceeded++;
    if (this.trialsSucceeded >= this.config.halfOpenMaxRequests) this.cb.close();
  }

  /** Trial slots in use and successes so far in the current half-open phase (for tests and logs). */
  trials(): { inFlight: number; succeeded: number } {
    return { inFlight: this.trialsInFlight, succeeded: this.trialsSucceeded };
  }

  shutdown(): void {
    this.cb.shutdown();
  }
}

/** Undo the fire and the success opossum counted for an ignored attempt (its current bucket). */
function forgetAttempt(cb: CircuitBreaker<[() => Promise<unknown>], unknown>): void {
  type Bucket = { fires: number; successes: number; latencyTimes?: number[] };
  const bucket = (cb as unknown as { status: { window: Bucket[] } }).status.window[0];
  // The bucket may have rotated since the fire: never go below zero.
  if (bucket.fires > 0 && bucket.successes > 0) {
    bucket.fires--;
    bucket.successes--;
    bucket.latencyTimes?.pop();
  }
}

const processWide = new EventEmitter<{ change: [BreakerEvent] }>();

/**
 * Listen to state changes of every breaker in this process (tests and the
 * failover bench time "kill → open" and "restart → closed" with it).
 * Returns the unsubscribe function.
 */
export function onBreakerChange(fn: (e: BreakerEvent) => void): () => void {
  processWide.on('change', fn);
  return () => processWide.off('change', fn);
}

/**
 * All breakers of one proxy, one per route. A route-table reload calls `get`
 * again: the same breaker (and its state) comes back. A route's service and
 * failover settings are the config's, read once per proxy (a flip changes
 * the mode, never the service), so they never change while its breaker lives.
 */
export class BreakerRegistry {
  private readonly breakers = new Map<string, ServiceBreaker>();
  private readonly gauge: Gauge<'route'>;

  constructor(private readonly options: BreakerRegistryOptions = {}) {
    const reg = options.metrics ?? defaultRegister;
    this.gauge =
      (reg.getSingleMetric('strangler_breaker_state') as Gauge<'route'> | undefined) ??
      new Gauge({
        name: 'strangler_breaker_state',
        help: 'Failover breaker state per route: 0 closed, 1 half-open, 2 open',
        labelNames: ['route'],
        registers: [reg],
      });
  }

  get(route: string, service: string, config: Readonly<FailoverConfig>): ServiceBreaker {
    const existing = this.breakers.get(route);
    if (existing) return existing;
    const b = new ServiceBreaker(route, service, config, (e) => this.changed(e));
    this.breakers.set(route, b);
    this.gauge.set({ route }, BREAKER_STATE_VALUE[b.state]);
    return b;
  }

  /** strangler_breaker_state at 0 (closed) for failover routes before their first request: 0, not "No data". */
  initRoutes(routeIds: readonly string[]): void {
    for (const route of routeIds) if (!this.breakers.has(route)) this.gauge.set({ route }, 0);
  }

  /** A shadow copy's answer from the route's service, as a probe of its breaker (ServiceBreaker.probe). */
  probe(route: string, ok: boolean): void {
    this.breakers.get(route)?.probe(ok);
  }

  /** State of each route's breaker. */
  states(): Record<string, BreakerState> {
    const out: Record<string, BreakerState> = {};
    for (const [route, b] of this.breakers) out[route] = b.state;
    return out;
  }

  close(): void {
    for (const b of this.breakers.values()) b.shutdown();
    this.breakers.clear();
  }

  private changed(e: BreakerEvent): void {
    this.gauge.set({ route: e.route }, BREAKER_STATE_VALUE[e.state]);
    const log = this.options.log;
    const msg = `breaker ${e.state === 'closed' ? 'closed' : e.state === 'open' ? 'opened' : 'half-open'}`;
    if (e.state === 'open') log?.warn({ route: e.route, ...e.details }, msg);
    else log?.info({ route: e.route, ...e.details }, msg);
    const action = e.state === 'closed' ? 'breaker.close' : `breaker.${e.state}`;
    this.options.audit
      ?.append({
        actor: 'breaker',
        route: e.route,
        action,
        before: null,
        after: null,
        reason: `${msg} (service ${e.service})`,
        details: e.details,
      })
      .catch((err: unknown) => log?.error({ err, route: e.route }, 'cannot audit breaker change'));
    processWide.emit('change', e);
  }
}
