/**
 * Issue 26: shadow evidence dropped because the store could not write (a full
 * disk: 750 shadowed requests, 471 stored, 20 "batch is lost" log lines) was
 * neither counted nor shown: `shadow report` said "skipped none". Now the
 * batcher counts it (`strangler_shadow_evidence_lost_total`) and carries it
 * into the route's next batch as skipped "store-write-failed", which the real
 * `strangler shadow report` shows once the store writes again.
 *
 * The store is a real SQLite file; only its shadow writes fail for a while,
 * as a full disk makes them fail (SQLITE_FULL), while reads still work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProxyMetrics } from '../../proxy/metrics.js';
import { EvidenceBatcher } from '../../shadow/evidence-batcher.js';
import { openStore } from '../../store/open.js';
import type { ShadowBatch, Store } from '../../store/types.js';
import { demoConfigYaml, runCli, tempDir, writeConfig } from '../helpers/tmp.js';

const tmp = tempDir('strangler-lost-evidence-');
const cli = (...argv: string[]) => runCli(tmp.dir, { STRANGLER_ACTOR: 'tester' }, argv);
let store: Store;

beforeAll(async () => {
  writeConfig(tmp.dir, demoConfigYaml({ store: 'sqlite:state.db' }));
  expect((await cli('seed')).code).toBe(0);
  store = await openStore(`sqlite:${tmp.dir}/state.db`);
});
afterAll(async () => {
  await store?.close();
  tmp.cleanup();
});

describe('shadow evidence the store could not write (issue 26)', () => {
  it('is counted, and shown by `shadow report` as skipped store-write-failed once the store writes again', async () => {
    let diskFull = true;
    const failing: Pick<Store, 'shadow'> = {
      shadow: {
        ...store.shadow,
        evidence: (route, opts) => store.shadow.evidence(route, opts),
        reset: (route) => store.shadow.reset(route),
        record: (route: string, batch: ShadowBatch) =>
          diskFull
            ? Promise.reject(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }))
            : store.shadow.record(route, batch),
      },
    };
    const batcher = new EvidenceBatcher({ store: failing, flushIntervalMs: 60_000, flushMaxResults: 1e9 });
    const metrics = new ProxyMetrics();
    metrics.countEvidenceLost(['block'], () => batcher.lost());
    const compare = (n: number) => {
      const b = batcher.batchOf('block');
      b.compared += n;
      b.matched += n;
      for (let i = 0; i < n; i++) batcher.added();
    };

    compare(200);
    batcher.skip('block', 'sampled-out', 5);
    await batcher.flush(); // lost: 205
    compare(79);
    await batcher.flush(); // lost: 79 more (the carried 205 are not counted twice)
    expect(batcher.lost()).toEqual({ block: 284 });
    expect(await metrics.text()).toContain('strangler_shadow_evidence_lost_total{route="block"} 284');

    diskFull = false;
    compare(471);
    await batcher.flush();
    batcher.stop();
    const ev = await store.shadow.evidence('block');
    expect(ev.compared).toBe(471);
    expect(ev.skipped).toEqual({ 'store-write-failed': 284 });

    const report = await cli('shadow', 'report', 'block');
    expect(report.code, report.err).toBe(0);
    expect(report.out).toMatch(/skipped\s+store-write-failed 284/);
    expect(report.out).not.toContain('skipped     none');
  });
});
