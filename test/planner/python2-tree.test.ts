import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanTree } from '../../planner/scan-tree.js';

const ROOT = path.resolve(import.meta.dirname, '../fixtures/planner/py2tree/legacy');

describe('a Python 2 tree', () => {
  const res = scanTree(ROOT);

  it('names every module after the package folder', () => {
    expect(res.modules.map((m) => m.name).sort()).toEqual([
      'legacy',
      'legacy.broken',
      'legacy.helpers',
      'legacy.sub',
      'legacy.sub.fast',
      'legacy.sub.slow',
    ]);
  });

  it('finds the imports through print statements, backticks, except E, e and ur strings', () => {
    const edges = res.imports.map((i) => `${i.from} -> ${i.to} ${i.kind} ${i.file}:${i.line}`);
    expect(edges).toEqual([
      'legacy -> legacy.helpers top __init__.py:4',
      'legacy.broken -> legacy.helpers top broken.py:1',
      'legacy.helpers -> legacy.sub.fast try helpers.py:12',
      'legacy.sub.fast -> legacy.helpers top sub/fast.py:1',
      'legacy.sub.fast -> legacy.helpers conditional sub/fast.py:6',
      'legacy.sub.fast -> legacy.sub.slow function sub/fast.py:9',
      'legacy.sub.slow -> legacy function sub/slow.py:5',
    ]);
  });

  it('reports the file it cannot parse instead of failing', () => {
    expect(res.problems).toEqual([
      { file: 'broken.py', line: 2, message: 'unterminated triple-quoted string' },
    ]);
  });
});
