/**
 * The store contract: one suite every backend must pass (SQLite and Redis).
 * A backend gives a fresh, empty namespace per test and can open several
 * store objects on it, standing in for several processes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.js';
import { isStranglerError } from '../../core/errors.js';
import { definitionOf, fileDefinitions } from '../../core/route-definitions.js';
import type { RouteSeed } from '../../core/types.js';
import { holdLease } from '../../store/lease.js';
import { MAX_MISMATCH_SETS } from '../../store/mismatch-sets.js';
import { MAX_FIELD_EXAMPLES } from '../../store/field-examples.js';
import { LATENCY_RESERVOIR, SAMPLE_RING } from '../../store/shadow-bounds.js';
import { emptyShadowBatch, type ShadowBatch, type ShadowSample, type Store } from '../../store/types.js';

export interface StoreBackend {
  name: string;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** A new empty namespace; the returned function opens a store object on it (call it twice for two "processes"). */
  fresh(): Promise<() => Promise<Store>>;
}

const SEEDS: RouteSeed[] = [
  { id: 'orders', mode: 'legacy', weight: 0 },
  { id: 'block', mode: 'shadow', weight: 0 },
];

/** Two routes with every definition field the schema fills in. */
const DEFINED = parseConfig({
  legacy: { url: 'http://127.0.0.1:1' },
  services: { svc: { urls: ['http://127.0.0.1:2', 'http://127.0.0.1:3/base'], timeoutMs: 500 } },
  routes: [
    { id: 'orders', match: { path: '/api/orders/*', methods: ['GET'] }, service: 'svc' },
    {
      id: 'block',
      match: { path: '/api/block/:id' },
      service: 'svc',
      mode: 'shadow',
      gate: { minCompared: 10 },
    },
  ],
});

/** Resolve once `cond` holds, or fail after `ms` naming what was awaited. */
export async function waitFor(
  what: string,
  cond: () => boolean | Promise<boolean>,
  ms: number,
): Promise<number> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - t0;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

function sample(n: number): ShadowSample {
  return {
    at: new Date(1_700_000_000_000 + n).toISOString(),
    endpoint: '/block/:id',
    request: { method: 'GET', url: `/block/${n}`, headers: { accept: 'application/json' } },
    legacy: { status: 200, headers: {}, body: `{"n":${n}}` },
    service: { status: 200, headers: {}, body: `{"n":${n + 1}}` },
    differences: [{ path: '$.n', kind: 'changed', legacy: n, service: n + 1 }],
  };
}

function batch(over: Partial<ShadowBatch> = {}): ShadowBatch {
  return { ...emptyShadowBatch(), ...over };
}

export function storeContract(backend: StoreBackend): void {
  describe(`store contract: ${backend.name}`, () => {
    const opened: Store[] = [];
    let open: () => Promise<Store>;
    const fresh = async () => {
      const factory = await backend.fresh();
      open = async () => {
        const s = await factory();
        opened.push(s);
        return s;
      };
      return open();
    };

    beforeAll(() => backend.setup());
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
    });
    afterAll(() => backend.teardown());

    it('seeds unseen routes at version 1 with a seed audit row; runtime state wins over a re-seed', async () => {
      const s = await fresh();
      const v0 = await s.routes.tableVersion();
      const seeded = await s.routes.seed(SEEDS, 'config');
      expect(seeded.map((r) => [r.id, r.mode, r.weight, r.version])).toEqual([
        ['block', 'shadow', 0, 1],
        ['orders', 'legacy', 0, 1],
      ]);
      const v1 = await s.routes.tableVersion();
      expect(v1).not.toBe(v0);
      const audit = await s.audit.list();
      expect(audit.map((a) => [a.action, a.route, a.actor])).toEqual([
        ['seed', 'orders', 'config'],
        ['seed', 'block', 'config'],
      ]);
      expect(audit[0].before).toBeNull();
      expect(audit[0].after).toMatchObject({ id: 'orders', mode: 'legacy', version: 1 });

      await s.routes.flip({ route: 'orders', mode: 'canary', weight: 5, actor: 'ann', reason: 'try' });
      const v2 = await s.routes.tableVersion();
      const again = await s.routes.seed([{ id: 'orders', mode: 'legacy', weight: 0 }], 'config');
      expect(again.find((r) => r.id === 'orders')).toMatchObject({ mode: 'canary', weight: 5, version: 2 });
      expect(await s.routes.tableVersion()).toBe(v2); // nothing new: no change to announce
      expect(await s.audit.list({ action: 'seed' })).toHaveLength(2);
    });

    it('seeds route definitions and upstreams with their states, audited, and reads them back exactly', async () => {
      const s = await fresh();
      const defs = fileDefinitions(DEFINED);
      await s.routes.seed(
        DEFINED.routes.map((r) => ({
          id: r.id,
          mode: r.mode,
          weight: r.weight,
          definition: definitionOf(r),
        })),
        'config',
        defs.upstreams,
      );
      // Exactly what was written: empty arrays stay arrays (shadow.ignore: []).
      expect(await s.routes.definitions()).toEqual(defs);
      expect((await s.audit.list({ action: 'upstreams.seed' })).map((a) => a.route)).toEqual([null]);
      expect((await s.audit.list({ route: 'orders', action: 'seed' }))[0].details).toEqual({
        definition: defs.routes.orders,
      });
    });

    it('migrates a store that holds only modes: the first seed with definitions fills them in, audited, states kept', async () => {
      const s = await fresh();
      await s.routes.seed(SEEDS, 'config');
      await s.routes.flip({ route: 'orders', mode: 'canary', weight: 5, actor: 'ann', reason: 'try' });
      expect(await s.routes.definitions()).toEqual({ routes: {}, upstreams: undefined });
      const tv = await s.routes.tableVersion();
      const defs = fileDefinitions(DEFINED);
      await s.routes.seed(
        DEFINED.routes.map((r) => ({
          id: r.id,
          mode: r.mode,
          weight: r.weight,
          definition: definitionOf(r),
        })),
        'serve',
        defs.upstreams,
      );
      expect(await s.routes.definitions()).toEqual(defs);
      expect(await s.routes.get('orders')).toMatchObject({ mode: 'canary', weight: 5, version: 2 });
      expect((await s.audit.list({ action: 'definition.seed' })).map((a) => [a.route, a.actor])).toEqual([
        ['orders', 'serve'],
        ['block', 'serve'],
      ]);
      expect(await s.routes.tableVersion()).toBeGreaterThan(tv);
      // A second seed finds nothing missing: no row, no new table version.
      const tv2 = await s.routes.tableVersion();
      await s.routes.seed([{ id: 'orders', mode: 'legacy', weight: 0, definition: { changed: true } }], 'x', {
        ...defs.upstreams,
        services: {},
      });
      expect(await s.routes.tableVersion()).toBe(tv2);
      expect(await s.routes.definitions()).toEqual(defs);
    });

    it('applies definitions: one audited, versioned change per route and for the upstreams, one table version', async () => {
      const s = await fresh();
      const defs = fileDefinitions(DEFINED);
      await s.routes.seed(
        DEFINED.routes.map((r) => ({
          id: r.id,
          mode: r.mode,
          weight: r.weight,
          definition: definitionOf(r),
        })),
        'config',
        defs.upstreams,
      );
      const tv = await s.routes.tableVersion();
      const wider = { ...defs.routes.orders, match: { path: '/api/*' } };
      const next = { ...defs.upstreams, legacy: { url: 'http://127.0.0.1:9/', reuseConnections: true } };
      const newTv = await s.routes.applyDefinitions({
        actor: 'ann',
        reason: 'widen',
        routes: [
          {
            id: 'orders',
            op: 'change',
            definition: wider,
            mode: 'legacy',
            weight: 0,
            expectVersion: 1,
            details: { a: [] },
          },
          {
            id: 'block',
            op: 'remove',
            definition: null,
            mode: 'legacy',
            weight: 0,
            expectVersion: 1,
            details: {},
          },
          { id: 'fresh', op: 'add', definition: defs.routes.block, mode: 'shadow', weight: 0, details: {} },
        ],
        upstreams: { expect: defs.upstreams, next, details: { u: 1 } },
      });
      expect(newTv).toBe(await s.routes.tableVersion());
      expect(newTv).toBeGreaterThan(tv);
      expect(await s.routes.definitions()).toEqual({
        routes: { orders: wider, fresh: defs.routes.block },
        upstreams: next,
      });
      expect((await s.routes.list()).map((r) => [r.id, r.mode, r.version, r.actor])).toEqual([
        ['fresh', 'shadow', 1, 'ann'],
        ['orders', 'legacy', 2, 'ann'],
      ]);
      const rows = await s.audit.list({ action: 'apply' });
      expect(rows.map((a) => [a.route, a.before?.version ?? null, a.after?.version ?? null])).toEqual([
        ['orders', 1, 2],
        ['block', 1, null],
        ['fresh', null, 1],
      ]);
      expect(rows[0].details).toEqual({ a: [] });
      expect((await s.audit.list({ action: 'apply.upstreams' }))[0]).toMatchObject({
        route: null,
        actor: 'ann',
        reason: 'widen',
        details: { u: 1 },
      });
    });

    it('refuses an apply made from definitions that changed since, changing nothing', async () => {
      const s = await fresh();
      const defs = fileDefinitions(DEFINED);
      await s.routes.seed(
        DEFINED.routes.map((r) => ({
          id: r.id,
          mode: r.mode,
          weight: r.weight,
          definition: definitionOf(r),
        })),
        'config',
        defs.upstreams,
      );
      await s.routes.flip({ route: 'orders', mode: 'shadow', weight: 0, actor: 'bob', reason: '' });
      const before = {
        defs: await s.routes.definitions(),
        tv: await s.routes.tableVersion(),
        audit: await s.audit.list(),
      };
      const change = (expectVersion: number) => ({
        id: 'orders',
        op: 'change' as const,
        definition: { ...defs.routes.orders, service: 'x' },
        mode: 'legacy' as const,
        weight: 0,
        expectVersion,
        details: {},
      });
      const stale = await rejection(
        s.routes.applyDefinitions({ actor: 'a', reason: '', routes: [change(1)] }),
      );
      expect(isStranglerError(stale, 'STRANGLER_E_STALE_VERSION')).toBe(true);
      expect((stale as Error).message).toContain('orders');
      const staleUpstreams = await rejection(
        s.routes.applyDefinitions({
          actor: 'a',
          reason: '',
          routes: [change(2)],
          upstreams: { expect: { ...defs.upstreams, services: {} }, next: defs.upstreams, details: {} },
        }),
      );
      expect(isStranglerError(staleUpstreams, 'STRANGLER_E_STALE_VERSION')).toBe(true);
      const exists = await rejection(
        s.routes.applyDefinitions({
          actor: 'a',
          reason: '',
          routes: [{ ...change(2), op: 'add', expectVersion: undefined }],
        }),
      );
      expect(isStranglerError(exists, 'STRANGLER_E_STALE_VERSION')).toBe(true);
      expect(await s.routes.definitions()).toEqual(before.defs);
      expect(await s.routes.tableVersion()).toBe(before.tv);
      expect(await s.audit.list()).toEqual(before.audit);
    });

    it('recordings: appended oldest first, trimmed to maxCases, maxBytes and maxAge in the add, per route', async () => {
      const s = await fresh();
      const other = await open();
      const now = 1_700_000_000_000;
      const limits = { maxCases: 3, maxBytes: 1_000_000, maxAgeMs: 60_000, now };
      const entry = (n: number, at = now) => ({ at, value: { n, text: `é${'x'.repeat(n)}` } });
      await s.recordings.add('block', [entry(1), entry(2)], limits);
      // a second "process" adds to the same route: both see one bounded list
      await other.recordings.add('block', [entry(3), entry(4)], limits);
      expect((await s.recordings.list('block')).map((e) => (e.value as { n: number }).n)).toEqual([2, 3, 4]);
      expect((await s.recordings.list('block'))[0]).toEqual({ at: now, value: { n: 2, text: 'éxx' } });
      // bytes are UTF-8 bytes of each case's JSON text, the same on both backends
      const bytes = [2, 3, 4].map((n) => Buffer.byteLength(JSON.stringify(entry(n).value)));
      expect(await s.recordings.size('block')).toEqual({ cases: 3, bytes: bytes.reduce((a, b) => a + b) });
      // a byte bound keeps the newest cases that fit
      await s.recordings.add('block', [entry(5)], { ...limits, maxBytes: bytes[2] + 40 });
      expect((await s.recordings.list('block')).map((e) => (e.value as { n: number }).n)).toEqual([4, 5]);
      // an age bound drops what was recorded before now - maxAge
      await s.recordings.add('block', [entry(6, now + 50_000)], { ...limits, now: now + 70_000 });
      expect((await s.recordings.list('block')).map((e) => (e.value as { n: number }).n)).toEqual([6]);
      expect(await s.recordings.list('orders')).toEqual([]);
      expect(await s.recordings.size('orders')).toEqual({ cases: 0, bytes: 0 });
      await s.recordings.add('orders', [entry(7)], limits);
      await s.recordings.reset('block');
      expect(await s.recordings.list('block')).toEqual([]);
      expect(await s.recordings.size('block')).toEqual({ cases: 0, bytes: 0 });
      expect(await other.recordings.list('orders')).toHaveLength(1);
    });

    it('lists routes sorted by id and gets one; an unknown id is undefined', async () => {
      const s = await fresh();
      expect(await s.routes.list()).toEqual([]);
      await s.routes.seed([{ id: 'zeta', mode: 'service', weight: 100 }, ...SEEDS], 'config');
      expect((await s.routes.list()).map((r) => r.id)).toEqual(['block', 'orders', 'zeta']);
      const z = await s.routes.get('zeta');
      expect(z).toMatchObject({ id: 'zeta', mode: 'service', weight: 100, version: 1, actor: 'config' });
      expect(typeof z?.updatedAt).toBe('string');
      expect(Number.isNaN(Date.parse(z!.updatedAt))).toBe(false);
      expect(await s.routes.get('nope')).toBeUndefined();
    });

    it('flips with a version bump, a new table version and its audit row together', async () => {
      const s = await fresh();
      await s.routes.seed(SEEDS, 'config');
      const tv = await s.routes.tableVersion();
      const after = await s.routes.flip({
        route: 'block',
        mode: 'canary',
        weight: 10,
        actor: 'ann',
        reason: 'evidence is good',
        expectVersion: 1,
        details: { forced: false, gate: { matchRate: 0.9995, failed: [] } },
      });
      expect(after).toMatchObject({ id: 'block', mode: 'canary', weight: 10, version: 2, actor: 'ann' });
      expect(await s.routes.get('block')).toEqual(after);
      expect(await s.routes.tableVersion()).not.toBe(tv);
      const [row] = await s.audit.list({ route: 'block', action: 'flip' });
      expect(row.before).toMatchObject({ mode: 'shadow', weight: 0, version: 1 });
      expect(row.after).toEqual(after);
      expect(row.reason).toBe('evidence is good');
      // details come back exactly, empty arrays included
      expect(row.details).toEqual({ forced: false, gate: { matchRate: 0.9995, failed: [] } });

      const rolled = await s.routes.flip({
        route: 'block',
        mode: 'shadow',
        weight: 0,
        actor: 'guard',
        reason: 'slo breach',
        action: 'guard.rollback',
      });
      expect(rolled.version).toBe(3);
      expect((await s.audit.list({ action: 'guard.rollback' })).map((a) => a.route)).toEqual(['block']);
    });

    it('refuses a stale expectVersion and changes nothing', async () => {
      const s = await fresh();
      await s.routes.seed(SEEDS, 'config');
      await s.routes.flip({ route: 'orders', mode: 'shadow', weight: 0, actor: 'ann', reason: 'a' });
      const before = {
        route: await s.routes.get('orders'),
        tv: await s.routes.tableVersion(),
        audit: await s.audit.list(),
      };
      const err = await rejection(
        s.routes.flip({
          route: 'orders',
          mode: 'service',
          weight: 100,
          actor: 'bob',
          reason: 'b',
          expectVersion: 1,
        }),
      );
      expect(isStranglerError(err, 'STRANGLER_E_STALE_VERSION')).toBe(true);
      expect((err as { details?: unknown }).details).toMatchObject({
        route: 'orders',
        expected: 1,
        actual: 2,
      });
      expect(await s.routes.get('orders')).toEqual(before.route);
      expect(await s.routes.tableVersion()).toBe(before.tv);
      expect(await s.audit.list()).toEqual(before.audit);
    });

    it('refuses a flip of an unknown route and writes no audit row', async () => {
      const s = await fresh();
      await s.routes.seed(SEEDS, 'config');
      const tv = await s.routes.tableVersion();
      const err = await rejection(
        s.routes.flip({ route: 'ghost', mode: 'service', weight: 100, actor: 'a', reason: '' }),
      );
      expect(isStranglerError(err, 'STRANGLER_E_UNKNOWN_ROUTE')).toBe(true);
      expect((err as Error).message).toContain('ghost');
      expect(await s.routes.tableVersion()).toBe(tv);
      expect(await s.audit.list({ route: 'ghost' })).toEqual([]);
      expect(await s.routes.get('ghost')).toBeUndefined();
    });

    it('watch() fires within 1 s after a flip made through another store object, once per change', async () => {
      const watcher = await fresh();
      const other = await open();
      await other.routes.seed(SEEDS, 'config');
      let calls = 0;
      const stop = watcher.watch(() => {
        calls++;
      }, 200);
      // let the watcher read its baseline version first
      await sleep(300);
      const base = calls;
      await other.routes.flip({
        route: 'block',
        mode: 'canary',
        weight: 1,
        actor: 'cli',
        reason: 'from elsewhere',
      });
      await waitFor('watch() to report the flip', () => calls > base, 1000);
      // A pub/sub message and a poll may both see the change; it is reported once.
      await sleep(500);
      expect(calls).toBe(base + 1);
      stop();
      await other.routes.flip({
        route: 'block',
        mode: 'shadow',
        weight: 0,
        actor: 'cli',
        reason: 'after stop',
      });
      await sleep(400);
      expect(calls).toBe(base + 1);
    });

    it('lists audit rows newest last, filtered by route and action, limited to the newest', async () => {
      const s = await fresh();
      await s.routes.seed(SEEDS, 'config');
      for (let i = 1; i <= 5; i++)
        await s.routes.flip({
          route: 'orders',
          mode: 'canary',
          weight: i,
          actor: 'ann',
          reason: `step ${i}`,
        });
      const free = await s.audit.append({
        actor: 'proxy-1',
        route: null,
        action: 'breaker.open',
        before: null,
        after: null,
        reason: 'errors 60%',
        details: { errorRate: 0.6 },
      });
      expect(free.seq).toBeGreaterThan(0);
      const all = await s.audit.list();
      expect(all).toHaveLength(8);
      expect(all.map((a) => a.seq)).toEqual([...all.map((a) => a.seq)].sort((a, b) => a - b));
      expect(new Set(all.map((a) => a.seq)).size).toBe(8);
      expect(all[7]).toEqual({ ...free, before: null, after: null });

      const last2 = await s.audit.list({ route: 'orders', action: 'flip', limit: 2 });
      expect(last2.map((a) => a.reason)).toEqual(['step 4', 'step 5']);
      expect(await s.audit.list({ route: 'orders', limit: 0 })).toEqual([]);
      expect((await s.audit.list({ route: 'block' })).map((a) => a.action)).toEqual(['seed']);
      expect((await s.audit.list({ action: 'breaker.open' }))[0]).toMatchObject({
        route: null,
        details: { errorRate: 0.6 },
      });
      expect((await s.audit.list({ limit: 3 })).map((a) => a.seq)).toEqual(all.slice(5).map((a) => a.seq));
    });

    it('finds old audit rows behind many newer ones when filtering', async () => {
      const s = await fresh();
      await s.audit.append({
        actor: 'a',
        route: 'rare',
        action: 'note',
        before: null,
        after: null,
        reason: 'first',
      });
      for (let i = 0; i < 1100; i++)
        await s.audit.append({
          actor: 'a',
          route: 'busy',
          action: 'note',
          before: null,
          after: null,
          reason: `${i}`,
        });
      const rare = await s.audit.list({ route: 'rare' });
      expect(rare.map((a) => a.reason)).toEqual(['first']);
      const busy = await s.audit.list({ route: 'busy', limit: 1050 });
      expect(busy).toHaveLength(1050);
      expect([busy[0].reason, busy.at(-1)!.reason]).toEqual(['50', '1099']);
      expect(await s.audit.list()).toHaveLength(1000); // the default limit keeps the newest 1000
    });

    it('merges shadow batches, bounds the sample ring and the latency reservoir, and resets', async () => {
      const s = await fresh();
      const empty = await s.shadow.evidence('block');
      expect(empty).toMatchObject({ route: 'block', compared: 0, matched: 0, samples: [], skipped: {} });
      await s.shadow.record(
        'block',
        batch({
          compared: 10,
          matched: 9,
          skipped: { 'sampled-out': 3 },
          fieldDiffs: { '$.n': 1 },
          fieldNoise: { '$.ts': 2 },
          noisePairs: 2,
          latency: { legacy: [5, 7.5], service: [4] },
          errors: { legacy: 0, service: 1 },
          samples: [sample(0)],
        }),
      );
      const other = await open();
      await other.shadow.record(
        'block',
        batch({
          compared: 5,
          matched: 5,
          skipped: { 'sampled-out': 1, timeout: 2 },
          fieldDiffs: { '$.n': 2 },
          latency: { legacy: [6], service: [3] },
          errors: { legacy: 1, service: 0 },
          samples: Array.from({ length: SAMPLE_RING + 4 }, (_, i) => sample(i + 1)),
        }),
      );
      await s.shadow.record('orders', batch({ compared: 1, matched: 1 }));
      const ev = await s.shadow.evidence('block');
      expect(ev).toMatchObject({
        route: 'block',
        compared: 15,
        matched: 14,
        skipped: { 'sampled-out': 4, timeout: 2 },
        fieldDiffs: { '$.n': 3 },
        fieldNoise: { '$.ts': 2 },
        noisePairs: 2,
        latency: { legacy: [5, 7.5, 6], service: [4, 3] },
        errors: { legacy: 1, service: 1 },
      });
      // the ring keeps the newest SAMPLE_RING samples, oldest first
      expect(ev.samples).toHaveLength(SAMPLE_RING);
      expect(ev.samples[0]).toEqual(sample(5));
      expect(ev.samples.at(-1)).toEqual(sample(SAMPLE_RING + 4));

      const many = Array.from({ length: LATENCY_RESERVOIR + 7 }, (_, i) => i);
      await s.shadow.record('block', batch({ latency: { legacy: many, service: [] } }));
      const big = await s.shadow.evidence('block');
      expect(big.latency.legacy).toHaveLength(LATENCY_RESERVOIR);
      expect(big.latency.legacy.at(-1)).toBe(LATENCY_RESERVOIR + 6);

      await s.shadow.reset('block');
      expect(await s.shadow.evidence('block')).toEqual(empty);
      expect((await s.shadow.evidence('orders')).compared).toBe(1);
    });

    it('merges mismatch sets up to their bound, pooling the rest under *, and honours a per-batch sample ring', async () => {
      const s = await fresh();
      const other = await open();
      await s.shadow.record('block', batch({ mismatchSets: { '$.a': 2, '$.a\n$.b': 1 } }));
      await other.shadow.record('block', batch({ mismatchSets: { '$.a': 3, '$.c': 1 } }));
      expect((await s.shadow.evidence('block')).mismatchSets).toEqual({ '$.a': 5, '$.a\n$.b': 1, '$.c': 1 });

      // fill to the bound, then three new sets overflow into '*'; a known set still counts as itself
      const fill = Object.fromEntries(
        Array.from({ length: MAX_MISMATCH_SETS - 3 }, (_, i) => [`$.f${i}`, 1]),
      );
      await s.shadow.record('block', batch({ mismatchSets: fill }));
      await other.shadow.record('block', batch({ mismatchSets: { '$.x': 1, '$.y': 2, '$.a': 1 } }));
      const sets = (await s.shadow.evidence('block')).mismatchSets!;
      expect(Object.keys(sets)).toHaveLength(MAX_MISMATCH_SETS + 1);
      expect(sets['*']).toBe(3);
      expect(sets['$.a']).toBe(6);
      expect(sets['$.x']).toBeUndefined();

      await s.shadow.record('orders', batch({ samples: [1, 2, 3, 4, 5].map(sample), sampleRing: 3 }));
      await s.shadow.record('orders', batch({ samples: [6].map(sample), sampleRing: 3 }));
      expect((await s.shadow.evidence('orders')).samples).toEqual([4, 5, 6].map(sample));
    });

    it('keeps the newest example per differing field beyond the ring, bounded, and resets them', async () => {
      const s = await fresh();
      const other = await open();
      const withFields = (n: number, fields: string[]) => ({ ...sample(n), fields });
      // A rare field, then a ring's worth of a frequent one: the ring forgets the rare example, the store does not.
      await s.shadow.record('block', batch({ samples: [withFields(1, ['$.rare', '$.often'])] }));
      await other.shadow.record(
        'block',
        batch({ samples: Array.from({ length: SAMPLE_RING + 2 }, (_, i) => withFields(i + 2, ['$.often'])) }),
      );
      expect((await s.shadow.evidence('block')).fieldExamples).toBeUndefined(); // only when asked for
      const ev = await s.shadow.evidence('block', { fieldExamples: true });
      expect(ev.samples.some((x) => x.fields?.includes('$.rare'))).toBe(false);
      expect(Object.keys(ev.fieldExamples ?? {})).toEqual(['$.often', '$.rare']);
      expect(ev.fieldExamples!['$.rare']).toEqual(withFields(1, ['$.rare', '$.often']));
      expect(ev.fieldExamples!['$.often']).toEqual(withFields(SAMPLE_RING + 3, ['$.often'])); // the newest wins

      // At the bound a new field keeps no example; known fields still get newer ones.
      const fill = Array.from({ length: MAX_FIELD_EXAMPLES - 2 }, (_, i) =>
        withFields(1000 + i, [`$.f${i}`]),
      );
      await s.shadow.record('block', batch({ samples: fill }));
      await other.shadow.record(
        'block',
        batch({ samples: [withFields(5000, ['$.new']), withFields(5001, ['$.rare'])] }),
      );
      const full = (await s.shadow.evidence('block', { fieldExamples: true })).fieldExamples!;
      expect(Object.keys(full)).toHaveLength(MAX_FIELD_EXAMPLES);
      expect(full['$.new']).toBeUndefined();
      expect(full['$.rare']).toEqual(withFields(5001, ['$.rare']));

      await s.shadow.reset('block');
      expect((await s.shadow.evidence('block', { fieldExamples: true })).fieldExamples).toEqual({});
    });

    it('adds stats windows, merging a second flush of the same window, and queries by since/route/target', async () => {
      const s = await fresh();
      // Recent windows, as a proxy flushes them (Redis drops windows older than its retention).
      const T = Math.floor(Date.now() / 5000) * 5000 - 60_000;
      const w = (o: Partial<Parameters<Store['stats']['add']>[0][number]>) => ({
        route: 'block',
        target: 'service' as const,
        instance: 'p1',
        start: T,
        durationMs: 5000,
        requests: 10,
        errors: 1,
        failovers: 0,
        buckets: [5, 5],
        ...o,
      });
      await s.stats.add([w({}), w({ target: 'legacy', requests: 4, errors: 0, buckets: [4] })]);
      await s.stats.add([w({ requests: 2, errors: 1, failovers: 1, buckets: [0, 1, 1] })]);
      await s.stats.add([
        w({ start: T + 5000 }),
        w({ route: 'orders', start: T + 5000 }),
        w({ start: T - 5000 }),
      ]);

      const merged = await s.stats.query({ route: 'block', target: 'service', since: T });
      expect(merged).toEqual([
        w({ requests: 12, errors: 2, failovers: 1, buckets: [5, 6, 1] }),
        w({ start: T + 5000 }),
      ]);
      const all = await s.stats.query({ since: T });
      expect(all.map((x) => [x.start, x.route, x.target])).toEqual([
        [T, 'block', 'legacy'],
        [T, 'block', 'service'],
        [T + 5000, 'block', 'service'],
        [T + 5000, 'orders', 'service'],
      ]);
      expect(await s.stats.query({ route: 'nope', since: 0 })).toEqual([]);
      expect(await s.stats.query({ since: 0 })).toHaveLength(5);
    });

    it('keeps a window per route version: a flip mid-window starts a new one, a version-less window stays version-less', async () => {
      const s = await fresh();
      const T = Math.floor(Date.now() / 5000) * 5000 - 60_000;
      const w = (o: Partial<Parameters<Store['stats']['add']>[0][number]>) => ({
        route: 'block',
        target: 'service' as const,
        instance: 'p1',
        start: T,
        durationMs: 5000,
        requests: 10,
        errors: 0,
        failovers: 0,
        buckets: [10],
        ...o,
      });
      // Same route, target, instance and start: v1 before a flip, v2 after, and
      // a window flushed by a proxy that predates versions.
      await s.stats.add([w({ version: 1, errors: 10 }), w({ version: 2, requests: 3, buckets: [3] })]);
      await s.stats.add([
        w({ version: 2, requests: 2, errors: 1, buckets: [0, 2] }),
        w({ requests: 7, buckets: [7] }),
      ]);
      const got = await s.stats.query({ route: 'block', since: T });
      expect(got).toEqual([
        w({ requests: 7, buckets: [7] }),
        w({ version: 1, errors: 10 }),
        w({ version: 2, requests: 5, errors: 1, buckets: [3, 2] }),
      ]);
      expect('version' in got[0]).toBe(false);
    });

    it('puts results and reads the latest per kind and key, and lists newest first', async () => {
      const s = await fresh();
      expect(await s.results.latest('plan')).toBeUndefined();
      await s.results.put('loadtest', 'direct', { rps: 100 });
      await s.results.put('loadtest', 'proxy', { rps: 90 });
      await s.results.put('loadtest', 'direct', { rps: 110 });
      await s.results.put('plan', 'wave-1', { modules: ['block'] });
      expect(await s.results.latest('loadtest')).toMatchObject({ key: 'direct', value: { rps: 110 } });
      expect(await s.results.latest('loadtest', 'proxy')).toMatchObject({ key: 'proxy', value: { rps: 90 } });
      expect(await s.results.latest('loadtest', 'none')).toBeUndefined();
      const list = await s.results.list('loadtest');
      expect(list.map((r) => [r.key, (r.value as { rps: number }).rps])).toEqual([
        ['direct', 110],
        ['proxy', 90],
        ['direct', 100],
      ]);
      expect(Number.isNaN(Date.parse(list[0].at))).toBe(false);
      expect(await s.results.list('loadtest', 1)).toHaveLength(1);
      expect((await s.results.list('plan')).map((r) => r.key)).toEqual(['wave-1']);
    });

    it('leases: acquire, refuse others, renew, expire, take over, release only by the holder', async () => {
      const a = await fresh();
      const b = await open();
      // Short real TTLs: Redis PX cannot follow a fake clock. Long enough that
      // the calls before the expiry check finish first even on a loaded machine.
      const TTL = 2000;
      expect(await a.lease.acquire('guard', 'A', TTL)).toBe(true);
      expect(await b.lease.acquire('guard', 'B', TTL)).toBe(false);
      expect(await a.lease.acquire('guard', 'A', TTL)).toBe(true); // re-acquire by the holder renews
      expect(await b.lease.renew('guard', 'B', TTL)).toBe(false);
      expect(await a.lease.renew('guard', 'A', TTL)).toBe(true);
      const h = await b.lease.holder('guard');
      expect(h?.holder).toBe('A');
      expect(h!.expiresInMs).toBeGreaterThan(0);
      expect(h!.expiresInMs).toBeLessThanOrEqual(TTL);
      expect(await b.lease.acquire('stepper', 'B', TTL)).toBe(true); // names are independent

      // A stops renewing (dies): the lease lapses and B takes over.
      await waitFor('the lease to expire', async () => (await b.lease.holder('guard')) === undefined, 6000);
      expect(await a.lease.renew('guard', 'A', TTL)).toBe(false);
      expect(await b.lease.acquire('guard', 'B', 5000)).toBe(true);
      expect(await a.lease.renew('guard', 'A', TTL)).toBe(false);
      await a.lease.release('guard', 'A'); // not the holder: no effect
      expect((await a.lease.holder('guard'))?.holder).toBe('B');
      await b.lease.release('guard', 'B');
      expect(await a.lease.holder('guard')).toBeUndefined();
      expect(await a.lease.acquire('guard', 'A', TTL)).toBe(true);
    });

    it('holdLease: exactly one holder leads; when it dies another takes over', async () => {
      const a = await fresh();
      const b = await open();
      const c = await open();
      const events: string[] = [];
      const opts = (holder: string) => ({
        name: 'canary-stepper',
        holder,
        ttlMs: 1000,
        onAcquire: () => events.push(`${holder}+`),
        onLose: (why: string) => events.push(`${holder}-${why}`),
      });
      const ha = holdLease(a.lease, opts('A'));
      await waitFor('A to lead', () => ha.isHeld(), 2000);
      const hb = holdLease(b.lease, opts('B'));
      const hc = holdLease(c.lease, opts('C'));
      // several renew periods: A keeps it, nobody else ever leads
      await sleep(1500);
      expect([ha.isHeld(), hb.isHeld(), hc.isHeld()]).toEqual([true, false, false]);
      expect(events).toEqual(['A+']);

      // A's process dies: its store is closed under it, renewals fail.
      const diedAt = Date.now();
      await a.close();
      await waitFor('A to step down', () => !ha.isHeld(), 2000);
      await waitFor('B or C to take over', () => hb.isHeld() || hc.isHeld(), 4000);
      // within one TTL plus one renew period of the death, bounded generously
      expect(Date.now() - diedAt).toBeLessThan(4000);
      expect(hb.isHeld() && hc.isHeld()).toBe(false);
      expect(events[1]).toBe('A-store-unreachable');
      await ha.stop();
      await hb.stop();
      await hc.stop();
      expect(await b.lease.holder('canary-stepper')).toBeUndefined();
    });
  });
}
