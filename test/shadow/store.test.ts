import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_MISMATCH_SETS } from '../../store/mismatch-sets.js';
import { openSqliteStore } from '../../store/sqlite/index.js';
import { emptyShadowBatch, type ShadowBatch, type ShadowSample } from '../../store/types.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'strangler-shadow-store-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sample = (n: number): ShadowSample => ({
  at: `2026-11-25T00:00:0${n % 10}.000Z`,
  endpoint: 'GET /x',
  request: { method: 'GET', url: `/x?n=${n}`, headers: {} },
  legacy: { status: 200, headers: {}, body: '{}' },
  service: { status: 200, headers: {}, body: '{"a":1}' },
  differences: [{ path: '$.a', kind: 'extra', service: '1' }],
});
const batch = (over: Partial<ShadowBatch>): ShadowBatch => ({ ...emptyShadowBatch(), ...over });

describe('SQLite shadow evidence', () => {
  it('merges batches: counters add, mismatch sets add and are bounded, samples keep the newest sampleRing', async () => {
    const store = openSqliteStore(path.join(dir, 'a.db'));
    try {
      await store.shadow.record(
        'r',
        batch({
          compared: 3,
          matched: 1,
          skipped: { timeout: 1 },
          fieldDiffs: { '$.a': 2 },
          mismatchSets: { '$.a': 2 },
          samples: [sample(1), sample(2)],
          sampleRing: 3,
          latency: { legacy: [1, 2, 3], service: [2, 3, 4] },
        }),
      );
      await store.shadow.record(
        'r',
        batch({
          compared: 2,
          skipped: { timeout: 1, 'body-cap': 1 },
          fieldNoise: { '$.a': 1 },
          noisePairs: 1,
          mismatchSets: { '$.a': 2 },
          samples: [sample(3), sample(4)],
          sampleRing: 3,
        }),
      );
      const ev = await store.shadow.evidence('r');
      expect(ev).toMatchObject({
        compared: 5,
        matched: 1,
        skipped: { timeout: 2, 'body-cap': 1 },
        fieldDiffs: { '$.a': 2 },
        fieldNoise: { '$.a': 1 },
        noisePairs: 1,
        mismatchSets: { '$.a': 4 },
        latency: { legacy: [1, 2, 3], service: [2, 3, 4] },
      });
      expect(ev.samples.map((s) => s.request.url)).toEqual(['/x?n=2', '/x?n=3', '/x?n=4']);

      const many = Object.fromEntries(
        Array.from({ length: MAX_MISMATCH_SETS + 5 }, (_, i) => [`$.f${i}`, 1]),
      );
      await store.shadow.record('r', batch({ mismatchSets: many }));
      const sets = (await store.shadow.evidence('r')).mismatchSets!;
      expect(Object.keys(sets)).toHaveLength(MAX_MISMATCH_SETS + 1); // the bound plus the pooled '*'
      expect(Object.values(sets).reduce((a, b) => a + b, 0)).toBe(4 + MAX_MISMATCH_SETS + 5); // nothing lost

      await store.shadow.reset('r');
      expect(await store.shadow.evidence('r')).toMatchObject({ compared: 0, samples: [], mismatchSets: {} });
    } finally {
      await store.close();
    }
  });

  it('a file created before mismatch sets existed gains the column on open', async () => {
    const file = path.join(dir, 'old.db');
    const db = new Database(file);
    db.exec(`CREATE TABLE shadow_evidence (route TEXT PRIMARY KEY, compared INTEGER NOT NULL DEFAULT 0, matched INTEGER NOT NULL DEFAULT 0,
      noise_pairs INTEGER NOT NULL DEFAULT 0, skipped TEXT NOT NULL DEFAULT '{}', field_diffs TEXT NOT NULL DEFAULT '{}',
      field_noise TEXT NOT NULL DEFAULT '{}', latency TEXT NOT NULL DEFAULT '{"legacy":[],"service":[]}',
      errors TEXT NOT NULL DEFAULT '{"legacy":0,"service":0}');
      INSERT INTO shadow_evidence (route, compared, matched) VALUES ('old', 7, 7);`);
    db.close();
    const store = openSqliteStore(file);
    try {
      expect(await store.shadow.evidence('old')).toMatchObject({ compared: 7, matched: 7, mismatchSets: {} });
      await store.shadow.record('old', batch({ compared: 1, mismatchSets: { '$.x': 1 } }));
      expect((await store.shadow.evidence('old')).mismatchSets).toEqual({ '$.x': 1 });
    } finally {
      await store.close();
    }
  });
});
