/**
 * Issue 17: `strangler init --legacy URL` writes a commented strangler.yaml
 * that every other command accepts as it is, and never writes over an
 * existing file.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { runBin } from '../helpers/bin.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const strangler = (...argv: string[]) => runBin(argv, { cwd: tmp.dir });

describe('strangler init', () => {
  it('writes a commented config the other commands read as it is', async () => {
    const r = await strangler('init', '--legacy', 'http://127.0.0.1:8000');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('wrote strangler.yaml');
    const file = path.join(tmp.dir, 'strangler.yaml');
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/^# /m);
    expect(text).toContain('  url: http://127.0.0.1:8000\n');
    const config = loadConfig(file);
    expect(config.legacy.url).toBe('http://127.0.0.1:8000');
    expect(config.routes).toEqual([]);
    // Issue 26: the file named "strangler's README" and said "check it with
    // `strangler routes`", which failed before any serve with "lost".
    expect(text).not.toContain("strangler's README");
    const doc = /^#\s+(\/\S+\/docs\/config\.md)$/m.exec(text);
    expect(doc, 'an absolute path to the installed docs/config.md').not.toBeNull();
    expect(existsSync(doc![1])).toBe(true);
    expect(text).toContain('Check it with `strangler seed`');
    const before = await strangler('routes');
    expect(before.code).toBe(5);
    expect(before.err).toContain('not created yet — run `strangler serve` or `strangler seed`');
    expect(before.err).not.toContain('LOST');
    const seed = await strangler('seed');
    expect(seed.code, seed.err).toBe(0);
    const routes = await strangler('routes');
    expect(routes.code, routes.err).toBe(0);
  });

  it('refuses to overwrite an existing file and leaves it as it was', async () => {
    const file = path.join(tmp.dir, 'mine.yaml');
    writeFileSync(file, 'legacy: { url: http://127.0.0.1:1 }\n');
    const r = await strangler('init', '--legacy', 'http://127.0.0.1:8000', '--config', 'mine.yaml');
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `strangler: STRANGLER_E_USAGE: ${file} already exists; not overwritten (edit it, or write a new one with --config OTHER.yaml)\n`,
    );
    expect(readFileSync(file, 'utf8')).toBe('legacy: { url: http://127.0.0.1:1 }\n');
  });

  it('names the option when a value is bad, and writes nothing', async () => {
    const r = await strangler('init', '--legacy', 'ftp://x', '--config', 'bad.yaml');
    expect(r.code).toBe(2);
    expect(r.err).toBe('strangler: STRANGLER_E_USAGE: init: --legacy: expected an http:// or https:// URL\n');
    expect(() => readFileSync(path.join(tmp.dir, 'bad.yaml'))).toThrow(/ENOENT/);
  });

  it('cannot be made to write YAML of its own through a value', async () => {
    const r = await strangler(
      'init',
      '--legacy',
      'http://x\nstore: sqlite:/tmp/elsewhere.db',
      '--config',
      'inject.yaml',
    );
    expect(r.code).toBe(2);
    expect(r.err).toContain('--legacy');
  });

  it('needs --legacy', async () => {
    const r = await strangler('init', '--config', 'none.yaml');
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      "strangler: STRANGLER_E_USAGE: required option '--legacy <url>' not specified (see strangler init --help)\n",
    );
  });
});
