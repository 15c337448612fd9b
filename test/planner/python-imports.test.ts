import { describe, expect, it } from 'vitest';
import { scanPythonSource } from '../../planner/python-imports.js';

const found = (src: string) => scanPythonSource(src).imports.map((i) => [i.name, i.level, i.kind, i.line]);

describe('the Python import tokenizer', () => {
  it('reads plain, dotted, aliased, relative, star and parenthesised imports', () => {
    const src = [
      'import a, b.c as d',
      'from e.f import (g,',
      '    h as i,  # a comment inside the brackets',
      ')',
      'from . import j',
      'from ..k import *',
      'from .l.m import n; import o',
    ].join('\n');
    expect(found(src)).toEqual([
      ['a', 0, 'top', 1],
      ['b.c', 0, 'top', 1],
      ['e.f.g', 0, 'top', 2],
      ['e.f.h', 0, 'top', 2],
      ['j', 1, 'top', 5],
      ['k', 2, 'top', 6],
      ['l.m.n', 1, 'top', 7],
      ['o', 0, 'top', 7],
    ]);
  });

  it('ignores import-looking text in strings and comments of every kind', () => {
    const src = [
      '# import nope1',
      's = "import nope2"',
      "t = '''",
      'import nope3',
      "'''",
      'u = rb"\\" import nope4"',
      'v = f"{x!r:>{width}} import nope5 {\'import nope6\'}"',
      'w = f"{d["k"]} import nope7"',
      'x = """a \\""" import nope8 """',
      'import yes',
    ].join('\n');
    expect(found(src)).toEqual([['yes', 0, 'top', 10]]);
  });

  it('joins backslash continuations and bracketed lines into one statement', () => {
    const src = ['from pkg import \\', '    mod', 'x = (1 +', 'import_me)', 'import real'].join('\n');
    expect(found(src)).toEqual([
      ['pkg.mod', 0, 'top', 1],
      ['real', 0, 'top', 5],
    ]);
  });

  it('records the kind of each import from its enclosing blocks', () => {
    const src = [
      'from typing import TYPE_CHECKING',
      'if TYPE_CHECKING:',
      '    import tc',
      'else:',
      '    import not_tc',
      'try:',
      '    import fast',
      'except ImportError:',
      '    import slow',
      'def f():',
      '    if x:',
      '        import in_func',
      'class C:',
      '    import in_class',
      '    def m(self): import inline_method',
      'try: import inline_try',
      'except ImportError: pass',
      'if typing.TYPE_CHECKING: import tc2',
      'for i in range(3):',
      '    import in_loop',
      'with ctx:',
      '    import in_with',
      'import last',
    ].join('\n');
    expect(found(src).map(([name, , kind]) => [name, kind])).toEqual([
      ['typing.TYPE_CHECKING', 'top'],
      ['tc', 'type_checking'],
      ['not_tc', 'conditional'],
      ['fast', 'try'],
      ['slow', 'try'],
      ['in_func', 'function'],
      ['in_class', 'top'],
      ['inline_method', 'function'],
      ['inline_try', 'try'],
      ['tc2', 'type_checking'],
      ['in_loop', 'conditional'],
      ['in_with', 'top'],
      ['last', 'top'],
    ]);
  });

  it('does not take lambda, dict or annotation colons for a block header', () => {
    const src = [
      'if (lambda: 1)() and {1: 2}: import a',
      'def g(x: int = {1: 2}) -> dict: import b',
      'y: int = 3',
      'import c',
    ].join('\n');
    expect(found(src).map(([n, , k]) => [n, k])).toEqual([
      ['a', 'conditional'],
      ['b', 'function'],
      ['c', 'top'],
    ]);
  });

  it('counts later references to the name each import binds, not attribute names', () => {
    const src = [
      'from pkg import block',
      'import pkg.deep',
      'from pkg.users import get as get_user',
      'block.block(1)',
      'block.is_blocked(1, 2)',
      'other.block = 3',
      'get_user(1)',
    ].join('\n');
    const imps = scanPythonSource(src).imports;
    expect(imps.map((i) => [i.name, i.uses])).toEqual([
      ['pkg.block', 2],
      ['pkg.deep', null],
      ['pkg.users.get', 1],
    ]);
  });

  it('reports what it cannot parse and keeps going', () => {
    const src = ['import a', 'x = (1,', 'y = """open', 'import hidden'].join('\n');
    const res = scanPythonSource(src);
    expect(res.imports.map((i) => i.name)).toEqual(['a']);
    expect(res.problems.map((p) => p.message)).toEqual([
      'unterminated triple-quoted string',
      '1 unclosed bracket(s) at end of file',
    ]);
  });

  it('counts lines of code without blank and comment-only lines', () => {
    expect(scanPythonSource('# c\n\nimport a\n  # c2\nx = 1\n').loc).toBe(2);
  });
});
