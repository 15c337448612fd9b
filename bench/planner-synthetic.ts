/**
 * Generated inputs for the planner bench and tests: a layered module graph of
 * any size with planted import cycles, and a Python source tree the size of
 * Django written to disk. Deterministic for a given seed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** A small deterministic PRNG (LCG) so generated inputs are the same every run. */
function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export interface LayeredGraphSpec {
  modules: number;
  layers: number;
  importsPerModule: number;
  /** Planted 2-module cycles (a imports b at top level, b imports a inside a function). */
  cycles: number;
  seed: number;
}

/**
 * `{modules, imports}` in the `--graph` JSON shape: modules sit in layers and
 * import only lower layers, except the planted cycle pairs.
 */
export function layeredGraph(spec: LayeredGraphSpec): {
  modules: Array<{ name: string; loc: number }>;
  imports: Array<{ from: string; to: string; kind: string; file: string; line: number }>;
} {
  const rnd = random(spec.seed);
  const regular = spec.modules - 2 * spec.cycles;
  const perLayer = Math.ceil(regular / spec.layers);
  const modules: Array<{ name: string; loc: number }> = [];
  const imports: Array<{ from: string; to: string; kind: string; file: string; line: number }> = [];
  const name = (i: number): string => `app.layer${Math.floor(i / perLayer)}.mod${i}`;
  for (let i = 0; i < regular; i++) {
    modules.push({ name: name(i), loc: 20 + Math.floor(rnd() * 400) });
    const layer = Math.floor(i / perLayer);
    if (layer === 0) continue;
    const seen = new Set<number>();
    for (let k = 0; k < spec.importsPerModule; k++) {
      const target = Math.floor(rnd() * layer * perLayer);
      if (seen.has(target)) continue;
      seen.add(target);
      imports.push({ from: name(i), to: name(target), kind: 'top', file: `${name(i)}.py`, line: k + 1 });
    }
  }
  for (let c = 0; c < spec.cycles; c++) {
    const a = `app.tangle${c}.a`;
    const b = `app.tangle${c}.b`;
    modules.push({ name: a, loc: 50 }, { name: b, loc: 50 });
    imports.push({ from: a, to: b, kind: 'top', file: `${a}.py`, line: 1 });
    imports.push({ from: b, to: a, kind: 'function', file: `${b}.py`, line: 30 });
    imports.push({ from: a, to: name(Math.floor(rnd() * regular)), kind: 'top', file: `${a}.py`, line: 2 });
  }
  return { modules, imports };
}

export interface PythonTreeSpec {
  packages: number;
  modulesPerPackage: number;
  /** Approximate lines per module. */
  linesPerModule: number;
  seed: number;
}

/**
 * Writes a package `proj` of `packages` subpackages with realistic Python 3:
 * absolute, relative, aliased and parenthesised imports at module level, in
 * functions, under try/except ImportError and TYPE_CHECKING; classes,
 * decorators, docstrings, f-strings, comments and continuations. Returns the
 * package folder.
 */
export function writePythonTree(
  dir: string,
  spec: PythonTreeSpec,
): { root: string; modules: number; lines: number } {
  const rnd = random(spec.seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
  const root = path.join(dir, 'proj');
  mkdirSync(root, { recursive: true });
  writeFileSync(path.join(root, '__init__.py'), '"""Generated project."""\n__version__ = "1.0"\n');
  let modules = 1;
  let lines = 2;
  const all: Array<{ pkg: number; mod: number }> = [];
  for (let p = 0; p < spec.packages; p++)
    for (let m = 0; m < spec.modulesPerPackage; m++) all.push({ pkg: p, mod: m });
  for (let p = 0; p < spec.packages; p++) {
    const pdir = path.join(root, `pkg${p}`);
    mkdirSync(pdir, { recursive: true });
    writeFileSync(path.join(pdir, '__init__.py'), `from .mod0 import Model0 as Model\n__all__ = ["Model"]\n`);
    modules++;
    lines += 2;
    for (let m = 0; m < spec.modulesPerPackage; m++) {
      const out: string[] = [];
      out.push(
        '# -*- coding: utf-8 -*-',
        `"""Module pkg${p}.mod${m}.`,
        '',
        'It has a docstring with import words in it: import os',
        '"""',
      );
      out.push(
        'from __future__ import annotations',
        '',
        'import os',
        'import sys as _sys',
        'from typing import TYPE_CHECKING, Any',
      );
      const deps = Array.from({ length: 4 }, () => pick(all)).filter(
        (d) => d.pkg < p || (d.pkg === p && d.mod < m),
      );
      for (const d of deps) {
        if (d.pkg === p) out.push(`from . import mod${d.mod}`);
        else if (rnd() < 0.5)
          out.push(
            `from proj.pkg${d.pkg}.mod${d.mod} import (`,
            `    Model${d.mod},`,
            `    helper_${d.mod} as h${d.mod},`,
            ')',
          );
        else out.push(`from ..pkg${d.pkg} import mod${d.mod}`);
      }
      out.push(
        'try:',
        '    import simplejson as json',
        'except ImportError:  # pragma: no cover',
        '    import json',
      );
      out.push('if TYPE_CHECKING:', `    from proj.pkg${p} import mod0 as _m0`, '');
      let body = 0;
      while (out.length < spec.linesPerModule - 8) {
        const k = body++;
        out.push(
          '',
          '',
          `@staticmethod_like("x", flag=True)`,
          `class Model${k === 0 ? m : `${m}_${k}`}:`,
          `    """A model. Not an import: from x import y."""`,
          '',
          `    table = "t_${m}_${k}"`,
          `    fields = {"id": int, "name": str, 'note': "it's"}`,
          '',
          '    def __init__(self, **kw: Any) -> None:',
          '        self.values = dict(kw)  # comment: import nothing',
          `        self.label = f"{self.table}:{kw.get('name', '')!r:>10}"`,
          '',
          '    def save(self, conn=None):',
          `        query = ("INSERT INTO t_${m} "`,
          `                 "VALUES (?, ?)")`,
          '        total = 1 + \\',
          '            2',
          `        if conn is None:`,
          `            from proj.pkg${p} import mod${m} as me  # lazy import, self: dropped`,
          '            conn = me',
          `        return query, total, [x for x in range(3) if x]`,
          '',
          `def helper_${m}${k === 0 ? '' : `_${k}`}(items, key=lambda v: v):`,
          `    r"""Raw docstring with \\d and import re."""`,
          '    out = []',
          '    for it in sorted(items, key=key):',
          '        out.append(it)',
          '    return out',
        );
      }
      out.push('', 'def main():', `    from proj import pkg${p}`, `    return pkg${p}.__name__`, '');
      writeFileSync(path.join(pdir, `mod${m}.py`), out.join('\n'));
      modules++;
      lines += out.length;
    }
  }
  return { root, modules, lines };
}
