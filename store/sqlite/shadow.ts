import {
  emptyShadowBatch,
  type ShadowBatch,
  type ShadowEvidence,
  type ShadowSample,
  type ShadowStore,
} from '../types.js';
import { MAX_FIELD_EXAMPLES, newestPerField } from '../field-examples.js';
import { mergeMismatchSets } from '../mismatch-sets.js';
import { LATENCY_RESERVOIR, SAMPLE_RING } from '../shadow-bounds.js';
import { type Db, writeTx } from './db.js';

export function migrateShadow(db: Db): void {
  db.exec(`CREATE TABLE IF NOT EXISTS shadow_evidence (
    route TEXT PRIMARY KEY,
    compared INTEGER NOT NULL DEFAULT 0,
    matched INTEGER NOT NULL DEFAULT 0,
    noise_pairs INTEGER NOT NULL DEFAULT 0,
    -- Maps and latency reservoirs as JSON: merged in one transaction per batch.
    skipped TEXT NOT NULL DEFAULT '{}',
    field_diffs TEXT NOT NULL DEFAULT '{}',
    field_noise TEXT NOT NULL DEFAULT '{}',
    latency TEXT NOT NULL DEFAULT '{"legacy":[],"service":[]}',
    errors TEXT NOT NULL DEFAULT '{"legacy":0,"service":0}'
  );
  CREATE TABLE IF NOT EXISTS shadow_samples (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    route TEXT NOT NULL,
    sample TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS shadow_samples_route ON shadow_samples(route, id);
  CREATE TABLE IF NOT EXISTS shadow_field_examples (
    route TEXT NOT NULL,
    field TEXT NOT NULL,
    sample TEXT NOT NULL,
    PRIMARY KEY (route, field)
  );`);
  // Files created before mismatch sets existed get the column added in place.
  const cols = db.prepare('PRAGMA table_info(shadow_evidence)').all() as { name: string }[];
  if (!cols.some((c) => c.name === 'mismatch_sets'))
    db.exec(`ALTER TABLE shadow_evidence ADD COLUMN mismatch_sets TEXT NOT NULL DEFAULT '{}'`);
}

const addCounts = (a: Record<string, number>, b: Record<string, number>) => {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
};

export class SqliteShadowStore implements ShadowStore {
  constructor(private readonly db: Db) {}

  async record(route: string, b: ShadowBatch): Promise<void> {
    // IMMEDIATE: this reads then writes, see store/sqlite/db.ts.
    writeTx(this.db, () => {
      // The counters only: a busy route records several batches a second, and
      // reading back (and parsing) its sample ring each time was wasted work.
      const cur = this.read(route, false);
      const keep = (xs: number[], add: number[]) => xs.concat(add).slice(-LATENCY_RESERVOIR);
      this.db
        .prepare(`INSERT OR REPLACE INTO shadow_evidence
          (route, compared, matched, noise_pairs, skipped, field_diffs, field_noise, mismatch_sets, latency, errors)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(
          route,
          cur.compared + b.compared,
          cur.matched + b.matched,
          cur.noisePairs + b.noisePairs,
          JSON.stringify(addCounts(cur.skipped, b.skipped)),
          JSON.stringify(addCounts(cur.fieldDiffs, b.fieldDiffs)),
          JSON.stringify(addCounts(cur.fieldNoise, b.fieldNoise)),
          JSON.stringify(mergeMismatchSets({ ...cur.mismatchSets }, b.mismatchSets ?? {})),
          JSON.stringify({
            legacy: keep(cur.latency.legacy, b.latency.legacy),
            service: keep(cur.latency.service, b.latency.service),
          }),
          JSON.stringify({
            legacy: cur.errors.legacy + b.errors.legacy,
            service: cur.errors.service + b.errors.service,
          }),
        );
      const ring = b.sampleRing ?? SAMPLE_RING;
      const ins = this.db.prepare('INSERT INTO shadow_samples (route, sample) VALUES (?, ?)');
      for (const s of b.samples.slice(-ring)) ins.run(route, JSON.stringify(s));
      if (b.samples.length)
        this.db
          .prepare(
            'DELETE FROM shadow_samples WHERE route = ? AND id NOT IN (SELECT id FROM shadow_samples WHERE route = ? ORDER BY id DESC LIMIT ?)',
          )
          .run(route, route, ring);
      this.keepFieldExamples(route, b);
    });
  }

  /** Newest example per field: replace a field's example, add a new field only under the bound. */
  private keepFieldExamples(route: string, b: ShadowBatch): void {
    const newest = newestPerField(b.samples);
    if (newest.size === 0) return;
    let size = (
      this.db.prepare('SELECT COUNT(*) AS n FROM shadow_field_examples WHERE route = ?').get(route) as {
        n: number;
      }
    ).n;
    const update = this.db.prepare(
      'UPDATE shadow_field_examples SET sample = ? WHERE route = ? AND field = ?',
    );
    const insert = this.db.prepare(
      'INSERT INTO shadow_field_examples (route, field, sample) VALUES (?, ?, ?)',
    );
    for (const [field, sample] of newest) {
      const text = JSON.stringify(sample);
      if (update.run(text, route, field).changes > 0) continue;
      if (size >= MAX_FIELD_EXAMPLES) continue;
      insert.run(route, field, text);
      size++;
    }
  }

  private read(route: string, withSamples = true, withExamples = false): ShadowEvidence {
    const r = this.db.prepare('SELECT * FROM shadow_evidence WHERE route = ?').get(route) as
      | Record<string, number | string>
      | undefined;
    const samples = withSamples
      ? (
          this.db.prepare('SELECT sample FROM shadow_samples WHERE route = ? ORDER BY id').all(route) as {
            sample: string;
          }[]
        ).map((s) => JSON.parse(s.sample))
      : [];
    const fieldExamples: Record<string, ShadowSample> = {};
    if (withExamples)
      for (const e of this.db
        .prepare('SELECT field, sample FROM shadow_field_examples WHERE route = ? ORDER BY field')
        .all(route) as {
        field: string;
        sample: string;
      }[])
        fieldExamples[e.field] = JSON.parse(e.sample);
    if (!r) return { route, ...emptyShadowBatch(), samples, ...(withExamples ? { fieldExamples } : {}) };
    return {
      route,
      compared: r.compared as number,
      matched: r.matched as number,
      noisePairs: r.noise_pairs as number,
      skipped: JSON.parse(r.skipped as string),
      fieldDiffs: JSON.parse(r.field_diffs as string),
      fieldNoise: JSON.parse(r.field_noise as string),
      mismatchSets: JSON.parse(r.mismatch_sets as string),
      latency: JSON.parse(r.latency as string),
      errors: JSON.parse(r.errors as string),
      samples,
      ...(withExamples ? { fieldExamples } : {}),
    };
  }

  async evidence(route: string, opts: { fieldExamples?: boolean } = {}): Promise<ShadowEvidence> {
    return this.read(route, true, opts.fieldExamples === true);
  }

  async reset(route: string): Promise<void> {
    writeTx(this.db, () => {
      this.db.prepare('DELETE FROM shadow_evidence WHERE route = ?').run(route);
      this.db.prepare('DELETE FROM shadow_samples WHERE route = ?').run(route);
      this.db.prepare('DELETE FROM shadow_field_examples WHERE route = ?').run(route);
    });
  }
}
