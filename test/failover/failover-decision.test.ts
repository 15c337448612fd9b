/**
 * Which failed service requests legacy answers, and which the client gets as
 * 502/504: the pure rule, and forwardWithFailover applying it to scripted
 * attempts (the breaker's clock is faked; sockets are the fault test's job).
 */
import { PassThrough, type Readable } from 'node:stream';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig, type RouteConfig } from '../../core/config.js';
import { isStranglerError } from '../../core/errors.js';
import { UpstreamBody } from '../../proxy/upstream-body.js';
import { isResendable } from '../../core/resend.js';
import { decideFailover, Failover, forwardWithFailover } from '../../proxy/failover.js';
import type { RequestContext, UpstreamAttempt, UpstreamErrorKind } from '../../proxy/types.js';

function route(overrides: Record<string, unknown> = {}, failover: Record<string, unknown> = {}): RouteConfig {
  return parseConfig({
    legacy: { url: 'http://127.0.0.1:1' },
    services: { svc: { url: 'http://127.0.0.1:2' } },
    routes: [
      { id: 'blocks', match: { path: '/b' }, service: 'svc', mode: 'service', failover, ...overrides },
    ],
  }).routes[0];
}

describe('isResendable', () => {
  const r = route();
  it.each([
    ['GET', {}, true],
    ['HEAD', {}, true],
    ['OPTIONS', {}, true],
    ['POST', {}, false],
    ['PUT', {}, false],
    ['DELETE', {}, false],
    ['PATCH', {}, false],
    ['POST', { 'idempotency-key': 'k-1' }, true],
    ['POST', { 'idempotency-key': '' }, false],
  ])('%s %j → %s', (method, headers, expected) => {
    expect(isResendable({ method, headers }, r)).toBe(expected);
  });
  it('routes marked idempotent resend every method', () => {
    expect(isResendable({ method: 'POST', headers: {} }, route({ idempotent: true }))).toBe(true);
  });
});

describe('decideFailover', () => {
  const base = {
    reason: 'reset' as const,
    requestSent: true,
    resendable: false,
    bodyAvailable: true,
    clientAborted: false,
  };
  it('resends when nothing reached the service, whatever the method', () => {
    expect(decideFailover({ ...base, reason: 'refused', requestSent: false })).toEqual({ to: 'legacy' });
    expect(decideFailover({ ...base, reason: 'breaker-open', requestSent: false })).toEqual({ to: 'legacy' });
  });
  it('resends a sent request only when resendable', () => {
    expect(decideFailover({ ...base, resendable: true })).toEqual({ to: 'legacy' });
    expect(decideFailover(base)).toEqual({ to: 'reject', why: 'unsafe' });
  });
  it('never resends a body it no longer has', () => {
    expect(decideFailover({ ...base, resendable: true, bodyAvailable: false })).toEqual({
      to: 'reject',
      why: 'body-not-replayable',
    });
  });
  it('does nothing for a client that left', () => {
    expect(decideFailover({ ...base, resendable: true, clientAborted: true })).toEqual({ to: 'none' });
  });
});

function fakeCtx(method: string, headers: Record<string, string> = {}, body?: Buffer): RequestContext {
  const req = new PassThrough() as unknown as RequestContext['req'];
  Object.assign(req, {
    method,
    url: '/b',
    headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) },
  });
  if (body) (req as unknown as PassThrough).end(body);
  const setHeaders: Record<string, string> = {};
  const ctx = {
    req,
    res: { setHeader: (k: string, v: string) => (setHeaders[k] = v) } as unknown as RequestContext['res'],
    requestId: 'req-1',
    traceparent: '',
    startedAt: 0,
    route: undefined,
    upstreamHeaders: [],
    hasBody: Boolean(body),
    bodyConsumed: false,
    body(this: RequestContext) {
      this.bodyConsumed = true;
      return body ? (req as unknown as Readable) : null;
    },
    signal: new AbortController().signal,
    shadowPlan: undefined,
    setHeaders,
  };
  return ctx as unknown as RequestContext;
}

const fail = (kind: UpstreamErrorKind, requestSent: boolean): UpstreamAttempt => ({
  ok: false,
  kind,
  requestSent,
  error: Object.assign(new Error(kind), { code: kind }),
  origin: 'http://svc',
});
const answer = (statusCode: number, from: string): UpstreamAttempt => ({
  ok: true,
  statusCode,
  headers: {},
  rawHeaders: [],
  body: UpstreamBody.of(Buffer.from(from)),
  origin: `http://${from}`,
});

describe('forwardWithFailover', () => {
  let failover: Failover;
  let metrics: Registry;
  beforeEach(() => {
    vi.useFakeTimers();
    metrics = new Registry();
    failover = new Failover({ metrics });
  });
  afterEach(() => {
    failover.close();
    vi.useRealTimers();
  });

  const counters = async () => ({
    failovers: (await metrics.getSingleMetric('strangler_failovers_total')!.get()).values.map((v) => [
      v.labels.reason,
      v.value,
    ]),
    unsafe: (await metrics.getSingleMetric('strangler_unsafe_rejected_total')!.get()).values.map(
      (v) => v.value,
    ),
  });

  it('a GET the service reset is answered by legacy, marked with the reason', async () => {
    const ctx = fakeCtx('GET');
    const legacy = vi.fn(async () => answer(200, 'legacy'));
    const r = await forwardWithFailover(
      ctx,
      route(),
      async () => fail('reset-before-response', true),
      legacy,
      failover,
    );
    expect(r).toMatchObject({ ok: true, target: 'legacy', failoverReason: 'reset', origin: 'http://legacy' });
    // The pipeline writes x-strangler-failover from failoverReason; the stage itself sets no header.
    expect((ctx as unknown as { setHeaders: object }).setHeaders).toEqual({});
    expect(legacy).toHaveBeenCalledOnce();
    expect(await counters()).toEqual({ failovers: [['reset', 1]], unsafe: [] });
  });

  it('a POST the service reset is never resent: 502 STRANGLER_E_UNSAFE_RETRY with the original as cause', async () => {
    const legacy = vi.fn(async () => answer(200, 'legacy'));
    const original = fail('reset-before-response', true);
    const r = await forwardWithFailover(
      fakeCtx('POST', {}, Buffer.from('{}')),
      route(),
      async () => original,
      legacy,
      failover,
    );
    expect(legacy).not.toHaveBeenCalled();
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.target).toBe('service');
    expect(isStranglerError(r.error, 'STRANGLER_E_UNSAFE_RETRY')).toBe(true);
    expect(r.error.cause).toBe((original as { error: Error }).error);
    expect(await counters()).toEqual({ failovers: [], unsafe: [1] });
  });

  it('a POST that timed out is 504, not resent', async () => {
    const legacy = vi.fn(async () => answer(200, 'legacy'));
    const r = await forwardWithFailover(
      fakeCtx('POST', {}, Buffer.from('x')),
      route(),
      async () => fail('timeout', true),
      legacy,
      failover,
    );
    expect(legacy).not.toHaveBeenCalled();
    expect(!r.ok && isStranglerError(r.error, 'STRANGLER_E_UPSTREAM_TIMEOUT')).toBe(true);
  });

  it('a POST the service refused goes to legacy with its buffered body replayed', async () => {
    const ctx = fakeCtx('POST', {}, Buffer.from('{"n":1}'));
    const service = vi.fn(async () => {
      ctx.body()?.resume(); // the service attempt takes the body
      return fail('refused', false);
    });
    let legacyBody = '';
    const legacy = vi.fn(async () => {
      for await (const c of ctx.body()!) legacyBody += c;
      return answer(201, 'legacy');
    });
    const r = await forwardWithFailover(ctx, route(), service, legacy, failover);
    expect(r).toMatchObject({ ok: true, target: 'legacy', failoverReason: 'refused' });
    expect(legacyBody).toBe('{"n":1}');
  });

  it('a POST with an Idempotency-Key, or on an idempotent route, is resent after a reset', async () => {
    const legacy = async () => answer(200, 'legacy');
    const keyed = await forwardWithFailover(
      fakeCtx('POST', { 'idempotency-key': 'k' }),
      route(),
      async () => fail('reset-before-response', true),
      legacy,
      failover,
    );
    expect(keyed.target).toBe('legacy');
    const marked = await forwardWithFailover(
      fakeCtx('POST'),
      route({ idempotent: true }),
      async () => fail('reset-before-response', true),
      legacy,
      failover,
    );
    expect(marked.target).toBe('legacy');
  });

  it('a body over maxBufferBytes is not replayable: a refused POST gets 502', async () => {
    const ctx = fakeCtx('POST', {}, Buffer.alloc(2048));
    const legacy = vi.fn(async () => answer(200, 'legacy'));
    const r = await forwardWithFailover(
      ctx,
      route({}, { maxBufferBytes: 1024 }),
      async () => {
        ctx.body();
        return fail('refused', false);
      },
      legacy,
      failover,
    );
    expect(legacy).not.toHaveBeenCalled();
    expect(!r.ok && isStranglerError(r.error, 'STRANGLER_E_UNSAFE_RETRY')).toBe(true);
    // Counted as a body too large, not as an unsafe request (that name would lie).
    expect((await counters()).unsafe).toEqual([]);
    const tooLarge = await metrics.getSingleMetric('strangler_body_too_large_rejected_total')!.get();
    expect(tooLarge.values.map((v) => [v.labels.route, v.value])).toEqual([['blocks', 1]]);
  });

  it('5xx: a GET goes to legacy (on5xx), a POST gets 502 and is not resent; with on5xx off, nothing changes', async () => {
    const legacy = vi.fn(async () => answer(200, 'legacy'));
    const get = await forwardWithFailover(
      fakeCtx('GET'),
      route(),
      async () => answer(503, 'svc'),
      legacy,
      failover,
    );
    expect(get).toMatchObject({ target: 'legacy', failoverReason: 'status-5xx' });
    const post = await forwardWithFailover(
      fakeCtx('POST'),
      route(),
      async () => answer(500, 'svc'),
      legacy,
      failover,
    );
    expect(post).toMatchObject({ ok: false, target: 'service' });
    expect(!post.ok && isStranglerError(post.error, 'STRANGLER_E_UNSAFE_RETRY')).toBe(true);
    expect(!post.ok && (post.error.cause as Error).message).toBe('service answered 500');
    const off = await forwardWithFailover(
      fakeCtx('GET'),
      route({}, { on5xx: false }),
      async () => answer(500, 'svc'),
      legacy,
      failover,
    );
    expect(off).toMatchObject({ ok: true, statusCode: 500, target: 'service' });
    expect(legacy).toHaveBeenCalledOnce();
  });

  it('an open breaker sends even a POST to legacy without touching the service, then half-open probes', async () => {
    const r = route({}, { volumeThreshold: 2, resetTimeoutMs: 1000, halfOpenMaxRequests: 1 });
    const legacy = async () => answer(200, 'legacy');
    for (let i = 0; i < 2; i++)
      await forwardWithFailover(fakeCtx('GET'), r, async () => fail('refused', false), legacy, failover);
    expect(failover.breakers.states()).toEqual({ blocks: 'open' });
    const service = vi.fn(async () => answer(200, 'svc'));
    const post = await forwardWithFailover(
      fakeCtx('POST', {}, Buffer.from('x')),
      r,
      service,
      legacy,
      failover,
    );
    expect(post).toMatchObject({ target: 'legacy', failoverReason: 'breaker-open' });
    expect(service).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1000);
    const probe = await forwardWithFailover(fakeCtx('GET'), r, service, legacy, failover);
    expect(probe).toMatchObject({ target: 'service' });
    expect(failover.breakers.states()).toEqual({ blocks: 'closed' });
  });

  it('enabled: false passes the service attempt through untouched', async () => {
    const legacy = vi.fn(async () => answer(200, 'legacy'));
    const r = await forwardWithFailover(
      fakeCtx('GET'),
      route({}, { enabled: false }),
      async () => fail('refused', false),
      legacy,
      failover,
    );
    expect(r).toMatchObject({ ok: false, kind: 'refused', target: 'service' });
    expect(legacy).not.toHaveBeenCalled();
  });
});
