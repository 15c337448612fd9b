/**
 * Issue 31: every score contribution is bounded, as docs/plan.md states
 * (no `nova.db −35.5`). A tree where one capability owns a dozen tables the
 * others all use — the old unbounded shared-table term gave −5.50 for it —
 * is planned, and every reason's contribution is checked against its
 * documented range, and every score against their sum.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makePlan } from '../../planner/make-plan.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('strangler-score-bounds-');
afterAll(() => tmp.cleanup());

/** Reason line (by its start) -> [min, max] of its contribution: the table in docs/plan.md. */
const RANGES: Array<[RegExp, number, number]> = [
  [/^depends on/, -3, 1],
  [/^(owns|no tables of its own)/, -1.5, 1.5],
  [/^uses \d+ tables? of other capabilities/, -2.5, 0],
  [/^(serves|no entry point)/, -1, 1],
  [/^traffic/, 0, 2],
  [/^size/, -1, 0],
  [/^blast radius/, -2.5, 0],
  [/^imported by/, -0.5, 0],
  [/^in an import cycle/, -1, 0],
  [/^(nothing to extract|URL configuration only)/, -1, 0],
];

function tree(): string {
  const root = path.join(tmp.dir, 'catalogue');
  const write = (rel: string, text: string): void => {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  };
  write('catalogue/__init__.py', '');
  write('catalogue/items/__init__.py', '');
  const models = Array.from({ length: 12 }, (_, i) => `class T${i}(Base):\n    __tablename__ = 't${i}'\n`);
  write(
    'catalogue/items/tables.py',
    `from sqlalchemy.orm import declarative_base\nBase = declarative_base()\n\n${models.join('\n')}`,
  );
  for (let u = 0; u < 6; u++)
    write(
      `catalogue/user${u}/__init__.py`,
      `from catalogue.items import tables\nfrom catalogue import user${(u + 1) % 6}\n\n\ndef run(session):\n    return [${Array.from({ length: 12 }, (_, i) => `session.query(tables.T${i})`).join(', ')}]\n`,
    );
  return path.join(root, 'catalogue');
}

describe('score contributions stay in their documented ranges', () => {
  it('every reason line and every score, on a capability owning twelve shared tables', async () => {
    const plan = await makePlan({ path: tree(), git: false });
    const items = plan.candidates.find((c) => c.name === 'catalogue.items')!;
    expect(items.tables.shares.filter((s) => s.owner === 'catalogue.items')).toHaveLength(12);
    expect(items.reasons.find((r) => r.startsWith('owns'))).toMatch(/\(-1\.50\)$/);
    for (const c of plan.candidates) {
      for (const r of c.reasons) {
        const range = RANGES.find(([re]) => re.test(r));
        expect(range, `a documented range for "${r}"`).toBeDefined();
        const value = Number(/\(([+-]\d+\.\d\d)\)$/.exec(r)![1]);
        expect(value, r).toBeGreaterThanOrEqual(range![1]);
        expect(value, r).toBeLessThanOrEqual(range![2]);
      }
      expect(c.score).toBeGreaterThanOrEqual(-14);
      expect(c.score).toBeLessThanOrEqual(5.5);
    }
  });

  it('docs/plan.md states each range', () => {
    const doc = readFileSync(path.resolve(import.meta.dirname, '../../docs/plan.md'), 'utf8');
    expect(doc).toContain('between −14 and\n+5.5');
    for (const range of ['−3 … +1', '−1.5 … +1.5', '−2.5 … 0', '−1 … +1', '0 … +2', '−1 … 0', '−0.5 … 0'])
      expect(doc).toContain(range);
  });
});
