/**
 * The tokenizer against Python's own `ast` on real code we did not write:
 * Debian's python3-flask source, and mailman3's (a Python 3 tree where the
 * Python 2 implicit-relative rule once invented `mailman.model.template ->
 * mailman.model.requests`, issue 31). .ci/run installs them; this test
 * installs nothing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanTree } from '../../planner/scan-tree.js';

const REFERENCE = path.resolve(import.meta.dirname, '../fixtures/planner/ast_imports.py');

interface Reference {
  modules: string[];
  imports: Array<[string, string, string, number]>;
  errors: unknown[];
}

function parity(tree: string, debian: string, minModules: number, minPairs: number): void {
  const present = existsSync(path.join(tree, '__init__.py'));
  if (!present) {
    const msg = `${tree} absent: run apt-get install -y ${debian}`;
    if (process.env.CI === 'true') throw new Error(msg);
    console.warn(`SKIPPED parity test: ${msg}`);
  }
  describe.skipIf(!present)(`scanning Debian ${debian} matches Python ast`, () => {
    const ours = present ? scanTree(tree) : undefined;
    const ref: Reference = present
      ? JSON.parse(
          execFileSync('python3', [REFERENCE, tree], {
            encoding: 'utf8',
            timeout: 60_000,
            maxBuffer: 64 << 20,
          }),
        )
      : { modules: [], imports: [], errors: [] };

    it('finds a real codebase, parsed cleanly by both', () => {
      expect(ref.modules.length).toBeGreaterThan(minModules);
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
      expect(mine.length).toBeGreaterThan(minPairs);
      expect(mine).toEqual(pairs(ref.imports.map(([a, b]) => [a, b])));
    });

    it('agrees on every import line and kind too', () => {
      const rows = (list: Array<[string, string, string, number]>) => list.map((r) => r.join(' ')).sort();
      expect(rows(ours!.imports.map((i) => [i.from, i.to, i.kind, i.line!]))).toEqual(rows(ref.imports));
    });
  });
}

parity('/usr/lib/python3/dist-packages/flask', 'python3-flask', 15, 30);
parity('/usr/lib/python3/dist-packages/mailman', 'mailman3', 300, 1000);
