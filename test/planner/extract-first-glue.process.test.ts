/**
 * "Extract first" must name something to extract. Flask's own source (a
 * library: no tables, no routes) was answered "Extract first: flask.__main__"
 * — a 2-line script — and a tree of glue modules got an empty reason
 * ("Extract first: pkg.secret (score -3.5): "). Run through the real bin.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/strangler.js');
const tmp = tempDir('strangler-glue-first-');
afterAll(() => tmp.cleanup());

function tree(files: Record<string, string>): string {
  const root = path.join(tmp.dir, `t${Math.random().toString(36).slice(2, 8)}`);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  }
  return root;
}

const plan = async (root: string, ...args: string[]) =>
  (await promisify(execFile)(process.execPath, [BIN, 'plan', root, '--no-git', ...args], { cwd: tmp.dir }))
    .stdout;

describe('Extract first', () => {
  it('names no glue: with nothing to extract it says so, and why', async () => {
    const root = tree({
      'pkg/__init__.py': 'import os\n',
      'pkg/__main__.py': 'from pkg import cli\ncli.main()\n',
      'pkg/cli.py': 'import sys\ndef main():\n    print(sys.argv)\n',
      'pkg/helpers.py': 'def add(a, b):\n    return a + b\n',
    });
    const text = await plan(root);
    expect(text).toMatch(
      /Extract first: nothing yet — no capability has tables or an entry point of its own/,
    );
    expect(text).not.toMatch(/Extract first: pkg/);
    const html = await plan(root, '--format', 'html');
    expect(html).toContain('Extract first: nothing yet');
    // The ranked list is still there, glue and all.
    expect(text).toMatch(/Capabilities, in recommended order\n1\. pkg/);
  }, 60_000);

  it('still names the first unit with something to extract', async () => {
    const root = tree({
      'shop/__init__.py': '',
      'shop/glue.py': 'import os\n',
      'shop/orders.py':
        'SQL = "CREATE TABLE orders (id INTEGER PRIMARY KEY)"\ndef add(db):\n    db.execute("INSERT INTO orders (id) VALUES (1)")\n',
    });
    const text = await plan(root);
    expect(text).toMatch(/Extract first: shop\.orders \(score [-\d.]+\): owns orders/);
  }, 60_000);
});
