/**
 * The tokenizer against Python's own `ast` on real code we did not write:
 * Debian's python3-flask source. .ci/run installs it
 * (`apt-get install -y python3-flask`); this test installs nothing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanTree } from '../../planner/scan-tree.js';

const FLASK = '/usr/lib/python3/dist-packages/flask';
const REFERENCE = path.resolve(import.meta.dirname, '../fixtures/planner/ast_imports.py');
const present = existsSync(path.join(FLASK, '__init__.py'));

if (!present) {
  const msg = `flask source absent at ${FLASK}: run apt-get install -y python3-flask`;
  if (process.env.CI === 'true') throw new Error(msg);
  console.warn(`SKIPPED flask parity test: ${msg}`);
}

interface Reference {
  modules: string[];
  imports: Array<[string, string, string, number]>;
  errors: unknown[];
}

describe.skipIf(!present)('scanning Debian python3-flask matches Python ast', () => {
  const ours = present ? scanTree(FLASK) : undefined;
  const ref: Reference = present
    ? JSON.parse(execFileSync('python3', [REFERENCE, FLASK], { encoding: 'utf8', timeout: 60_000 }))
    : { modules: [], imports: [], errors: [] };

  it('finds a real codebase, parsed cleanly by both', () => {
    expect(ref.modules.length).toBeGreaterThan(15);
    expect(ref.errors).toEqual([]);
    expect(ours!.problems).toEqual([]);
  });

  it('has exactly the same module set', () => {
    expect(ours!.modules.map((m) => m.name).sort()).toEqual([...ref.modules].sort());
  });

  it('has exactly the same (from, to) module pairs', () => {
    const pairs = (list: Array<[string, string]>) =>
      [...new Set(list.map(([a, b]) => `${a} -> ${b}`))].sort();
    const mine = pairs(ours!.imports.map((i) => [i.from, i.to]));
    expect(mine.length).toBeGreaterThan(30);
    expect(mine).toEqual(pairs(ref.imports.map(([a, b]) => [a, b])));
  });

  it('agrees on every import line and kind too', () => {
    const rows = (list: Array<[string, string, string, number]>) => list.map((r) => r.join(' ')).sort();
    expect(rows(ours!.imports.map((i) => [i.from, i.to, i.kind, i.line!]))).toEqual(rows(ref.imports));
  });
});
