/**
 * Regression tests for the scanner defects found on real code (issue 14), one
 * `describe` per defect, each on a real tree written to a temp folder.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readGraphFile } from '../../planner/inputs.js';
import { buildPlan } from '../../planner/plan.js';
import { scanPythonSource } from '../../planner/python-imports.js';
import { scanTree } from '../../planner/scan-tree.js';
import { PLAN_REPORTERS } from '../../reports/plan/index.js';
import { importsByFile } from '../../reports/plan/text.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('strangler-scan-defects-');
afterAll(() => tmp.cleanup());

/** Write `files` (relative path -> text) under a fresh folder and return it. */
function tree(name: string, files: Record<string, string>): string {
  const root = path.join(tmp.dir, name);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  }
  return root;
}

const edges = (root: string) => scanTree(root).imports.map((i) => `${i.from} -> ${i.to}`);

describe('a UTF-8 BOM hid the first line import', () => {
  it('finds the import on the first line after a BOM', () => {
    expect(scanPythonSource('\uFEFFimport os\nimport json\n').imports.map((i) => [i.name, i.line])).toEqual([
      ['os', 1],
      ['json', 2],
    ]);
  });

  it('resolves it in a tree', () => {
    const root = tree('bom', {
      'pkg/__init__.py': '',
      'pkg/a.py': '\uFEFFfrom pkg import b\n',
      'pkg/b.py': 'x = 1\n',
    });
    expect(edges(root)).toEqual(['pkg.a -> pkg.b']);
  });
});

describe('a star import of a missing module fell back to the parent package', () => {
  it('drops it, as Python would fail it (both references drop it)', () => {
    const root = tree('star', {
      'pkg/__init__.py': '',
      'pkg/a.py': 'from pkg.missing import *\nfrom pkg.b import *\n',
      'pkg/b.py': 'x = 1\n',
    });
    expect(edges(root)).toEqual(['pkg.a -> pkg.b']);
  });
});

describe('Python 2 implicit relative imports were dropped', () => {
  const root = tree('py2', {
    'app/__init__.py': '',
    'app/core/__init__.py': 'from models import *\n',
    'app/core/models.py': 'class Order(object): pass\n',
    'app/core/views.py': 'from models import Order\nimport helpers\nimport json\n',
    'app/core/helpers.py': 'def f(): pass\n',
    'app/core/json.py': '# shadows the standard library in Python 2 only\n',
    'app/core/modern.py': 'from __future__ import absolute_import\nimport helpers\n',
  });
  const scan = scanTree(path.join(root, 'app'));

  it('resolves them to the sibling module, by Python 2 rules', () => {
    const found = scan.imports.map((i) => `${i.from} -> ${i.to} ${i.file}:${i.line}`);
    expect(found).toContain('app.core -> app.core.models core/__init__.py:1');
    expect(found).toContain('app.core.views -> app.core.models core/views.py:1');
    expect(found).toContain('app.core.views -> app.core.helpers core/views.py:2');
  });

  it('never for a standard library name, nor in a file with absolute_import', () => {
    const found = scan.imports.map((i) => `${i.from} -> ${i.to}`);
    expect(found).not.toContain('app.core.views -> app.core.json');
    expect(found.filter((e) => e.startsWith('app.core.modern'))).toEqual([]);
  });

  it('says so in a note', () => {
    expect(scan.notes).toContain(
      '3 Python 2 implicit relative imports resolved to a sibling module (e.g. core/__init__.py:1, core/views.py:1, core/views.py:2)',
    );
  });
});

describe('foo.py beside foo/__init__.py gave two modules with one name', () => {
  const root = tree('dup', {
    'pkg/__init__.py': '',
    'pkg/foo.py': 'import os\n',
    'pkg/foo/__init__.py': 'from pkg import bar\n',
    'pkg/bar.py': 'x = 1\n',
  });
  const scan = scanTree(path.join(root, 'pkg'));

  it('keeps the package (what Python imports) and reports the shadowed file', () => {
    expect(scan.modules.filter((m) => m.name === 'pkg.foo')).toEqual([
      { name: 'pkg.foo', file: 'foo/__init__.py', loc: 1 },
    ]);
    expect(scan.problems).toContainEqual({
      file: 'foo.py',
      line: 0,
      message: 'shadowed by the package foo/ beside it (Python imports the package): not scanned',
    });
  });

  it('writes JSON that --graph accepts', () => {
    const file = path.join(tmp.dir, 'dup.json');
    writeFileSync(file, PLAN_REPORTERS.json(buildPlan(scan)).output);
    expect(
      readGraphFile(file)
        .modules.map((m) => m.name)
        .sort(),
    ).toEqual(['pkg', 'pkg.bar', 'pkg.foo']);
  });
});

describe('symlinked files and folders were skipped', () => {
  const root = tree('links', {
    'pkg/__init__.py': '',
    'pkg/a.py': 'from pkg import linked\nfrom pkg.shared import util\n',
    'real/linked.py': 'from pkg import a\n',
    'real/shared/__init__.py': '',
    'real/shared/util.py': 'x = 1\n',
  });
  symlinkSync(path.join(root, 'real/linked.py'), path.join(root, 'pkg/linked.py'));
  symlinkSync(path.join(root, 'real/shared'), path.join(root, 'pkg/shared'));
  // a loop: pkg/shared/again -> pkg
  symlinkSync(path.join(root, 'pkg'), path.join(root, 'real/shared/again'));
  const scan = scanTree(path.join(root, 'pkg'));

  it('follows them, as Python does', () => {
    expect(scan.imports.map((i) => `${i.from} -> ${i.to}`).sort()).toEqual([
      'pkg.a -> pkg.linked',
      'pkg.a -> pkg.shared.util',
      'pkg.linked -> pkg.a',
    ]);
  });

  it('stops at a link back to a folder being scanned, and says so', () => {
    expect(scan.problems).toContainEqual({
      file: 'shared/again',
      line: 0,
      message: 'symlink loop: this folder links back to one being scanned (skipped)',
    });
    expect(scan.modules.some((m) => m.name.includes('again'))).toBe(false);
  });
});

describe('a src/ layout named modules src.* and dropped every absolute import', () => {
  const root = tree('srclayout', {
    'src/shop/__init__.py': '',
    'src/shop/cart.py': 'from shop import catalog\n',
    'src/shop/catalog.py': 'x = 1\n',
    'setup.py': 'from setuptools import setup\n',
  });
  const scan = scanTree(root);

  it('detects it and scans src/ as the source root', () => {
    expect(scan.modules.map((m) => m.name).sort()).toEqual(['shop', 'shop.cart', 'shop.catalog']);
    expect(scan.imports.map((i) => `${i.from} -> ${i.to}`)).toEqual(['shop.cart -> shop.catalog']);
    expect(scan.notes?.[0]).toMatch(/^src\/ layout: scanned .*src as the source root/);
  });
});

describe('the JSON grew with the square of the largest cycle', () => {
  it('references cycles by id from each module', () => {
    const n = 300;
    const modules = Array.from({ length: n }, (_, i) => ({
      name: `ring.m${i}`,
      file: `ring/m${i}.py`,
      loc: 1,
    }));
    const imports = modules.map((m, i) => ({
      from: m.name,
      to: modules[(i + 1) % n].name,
      kind: 'top' as const,
      file: m.file,
      line: 1,
    }));
    const plan = buildPlan({ root: 'ring', modules, imports, problems: [] });
    expect(plan.cycles).toHaveLength(1);
    expect(plan.cycles[0].id).toBe(1);
    for (const m of plan.modules) expect(m.cycle).toBe(1);
    // per-module arrays would name each module n times (~90,000 names here); ids keep it linear
    const json = PLAN_REPORTERS.json(plan).output;
    expect(json.split('"ring.m150"').length - 1).toBeLessThan(20);
  });
});

describe('a cut repeated the same file:line once per imported name', () => {
  it('lists each import statement once and costs it once', () => {
    const root = tree('cuts', {
      'pkg/__init__.py': '',
      'pkg/a.py': 'from pkg.b import x, y, z\n',
      'pkg/b.py': 'def x(): pass\ndef y(): pass\ndef z(): pass\ndef later():\n    from pkg.a import q, r\n',
    });
    const plan = buildPlan(scanTree(path.join(root, 'pkg')));
    expect(plan.cuts).toHaveLength(1);
    expect(plan.cuts[0].imports.map((i) => `${i.file}:${i.line}`)).toEqual(['b.py:5']);
    expect(plan.cuts[0].cost).toBe(0.25);
  });

  it('groups a collapsed (--depth) listing by file', () => {
    expect(
      importsByFile([
        { from: 'a', to: 'b', kind: 'top', file: 'a/x.py', line: 3 },
        { from: 'a', to: 'b', kind: 'top', file: 'a/x.py', line: 9 },
        { from: 'a', to: 'b', kind: 'function', file: 'a/y.py', line: 4 },
      ]),
    ).toEqual(['a/x.py: 3, 9 (top)', 'a/y.py: 4 (function)']);
  });
});
