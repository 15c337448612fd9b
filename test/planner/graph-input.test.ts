import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isStranglerError } from '../../core/errors.js';
import { readGraphFile } from '../../planner/inputs.js';

const GRAPHS = path.resolve(import.meta.dirname, '../fixtures/planner/graphs');

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}

describe('--graph FILE input', () => {
  it('reads JSON {modules, imports} with kinds and lines', () => {
    const g = readGraphFile(path.join(GRAPHS, 'shop.json'));
    expect(g.modules).toHaveLength(6);
    expect(g.imports).toHaveLength(9);
    expect(g.imports[4]).toEqual({
      from: 'shop.payments',
      to: 'shop.orders',
      kind: 'function',
      file: 'shop/payments.py',
      line: 40,
    });
  });

  it('reads Graphviz DOT: quoted and bare ids, edge chains, attributes and comments skipped', () => {
    const g = readGraphFile(path.join(GRAPHS, 'shop.dot'));
    expect(g.modules.map((m) => m.name).sort()).toEqual(['shop.cart', 'shop.db', 'shop_catalog', 'web']);
    expect(g.imports.map((i) => `${i.from}->${i.to}`)).toEqual([
      'shop_catalog->shop.db',
      'shop.cart->shop_catalog',
      'shop_catalog->shop.db',
      'web->shop.cart',
    ]);
  });

  it('names the file and the bad field', () => {
    const err = errorOf(() => readGraphFile(path.join(GRAPHS, 'bad-edge.json')));
    expect(isStranglerError(err, 'STRANGLER_E_PLANNER_INPUT')).toBe(true);
    expect(err.message).toBe(`${path.join(GRAPHS, 'bad-edge.json')}: imports[0].to: unknown module "ghost"`);
  });

  it('refuses a missing file and a file that is not a graph, naming the path', () => {
    const missing = path.join(GRAPHS, 'nope.json');
    expect(errorOf(() => readGraphFile(missing)).message).toMatch(
      new RegExp(`^${missing}: cannot read graph`),
    );
    const notGraph = path.resolve(import.meta.dirname, '../fixtures/planner/ast_imports.py');
    const err = errorOf(() => readGraphFile(notGraph));
    expect(isStranglerError(err, 'STRANGLER_E_PLANNER_INPUT')).toBe(true);
    expect(err.message).toMatch(/ast_imports\.py: not a graph/);
  });
});
