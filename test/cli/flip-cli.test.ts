import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../store/open.js';
import { runCli, demoConfigYaml, tempDir, writeConfig } from '../helpers/tmp.js';

const tmp = tempDir();
beforeAll(() => {
  writeConfig(tmp.dir, demoConfigYaml({ store: 'sqlite:.strangler/state.db' }));
});
afterAll(() => tmp.cleanup());

const cli = (...argv: string[]) => runCli(tmp.dir, { STRANGLER_ACTOR: 'tester' }, argv);

describe('strangler routes / flip / history against the store named in the config', () => {
  it('a read before any seed is an error (exit 5) and creates no store; `strangler seed` creates and seeds it', async () => {
    for (const argv of [['routes'], ['history'], ['flip', 'block', 'shadow']]) {
      const r = await cli(...argv);
      expect(r.code, argv.join(' ')).toBe(5);
      // Issue 26: never created is not "lost".
      expect(r.err).toContain('STRANGLER_E_STORE_MISSING');
      expect(r.err).toContain('not created yet');
      expect(r.err).not.toContain('LOST');
      expect(r.err).toContain('`strangler serve` or `strangler seed`');
    }
    expect(existsSync(path.join(tmp.dir, '.strangler/state.db'))).toBe(false);
    const seeded = await runCli(tmp.dir, { STRANGLER_ACTOR: 'config' }, ['seed']);
    expect(seeded.code).toBe(0);
    expect(seeded.out).toContain('seeded 1 route(s) from the config: block');
    expect((await cli('seed')).out).toContain('nothing to seed');
  });

  it('lists the seeded route at version 1', async () => {
    const r = await cli('routes', '--json');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.out);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id: 'block',
      mode: 'legacy',
      weight: 0,
      version: 1,
      actor: 'config',
      pattern: '/api/block/*',
    });
    // Issue 12: the trailing-slash rule is shown beside the pattern.
    expect(rows[0].trailingSlash).toBe('ignore');
    const text = (await cli('routes')).out;
    expect(text).toMatch(/match\s+slash\s+service/);
    expect(text).toMatch(/\/api\/block\/\*\s+ignore\s+/);
  });

  it('flips a route, bumping its version, and records who, when and why', async () => {
    const r = await cli('flip', 'block', 'shadow', '--reason', 'collect evidence', '--expect-version', '1');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('block: legacy (v1) -> shadow (v2)');
    const rows = JSON.parse((await cli('routes', '--json')).out);
    expect(rows[0]).toMatchObject({
      mode: 'shadow',
      version: 2,
      actor: 'tester',
      reason: 'collect evidence',
    });
    const text = (await cli('routes')).out;
    expect(text).toMatch(/block\s+shadow\s+0\s+2/);
  });

  it('refuses a stale --expect-version and changes nothing', async () => {
    const r = await cli('flip', 'block', 'legacy', '--expect-version', '1');
    expect(r.code).toBe(3);
    expect(r.err).toContain('STRANGLER_E_STALE_VERSION');
    expect(r.err).toContain('version 2, not 1');
    const rows = JSON.parse((await cli('routes', '--json')).out);
    expect(rows[0]).toMatchObject({ mode: 'shadow', version: 2 });
  });

  it('names the bad field: unknown mode, canary without weight, weight on a non-canary mode, unknown route', async () => {
    const bad = [
      [['flip', 'block', 'turbo'], 'mode: "turbo"'],
      [['flip', 'block', 'canary'], 'weight: canary needs --weight'],
      [['flip', 'block', 'service', '--weight', '5'], 'weight: mode service implies weight 100'],
      [['flip', 'nope', 'service'], 'route: no route "nope"'],
    ] as const;
    for (const [argv, msg] of bad) {
      const r = await cli(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toContain(msg);
    }
    expect(JSON.parse((await cli('routes', '--json')).out)[0].version).toBe(2);
  });

  it('rejects a non-numeric --weight at parse time', async () => {
    const r = await cli('flip', 'block', 'canary', '--weight', 'lots');
    expect(r.code).toBe(2);
    expect(r.err).toContain('expected a whole number');
  });

  it('prints the audit log, all routes or one', async () => {
    const r = await cli('history', 'block', '--json');
    expect(r.code).toBe(0);
    const entries = JSON.parse(r.out);
    expect(entries.map((e: { action: string }) => e.action)).toEqual(['seed', 'flip']);
    expect(entries[1]).toMatchObject({
      actor: 'tester',
      reason: 'collect evidence',
      before: { mode: 'legacy' },
      after: { mode: 'shadow' },
    });
    const text = (await cli('history')).out;
    expect(text).toContain('legacy v1 -> shadow v2');
  });

  it('exits 2 naming the file when the config is missing or invalid, and opens no store', async () => {
    const r = await cli('routes', '--config', 'missing.yaml');
    expect(r.code).toBe(2);
    expect(r.err).toContain(`no config file at ${tmp.dir}/missing.yaml`);
    const broken = writeConfig(
      tmp.dir,
      demoConfigYaml({ store: 'sqlite:other.db' }).replace('mode: legacy', 'mode: nope'),
      'broken.yaml',
    );
    const r2 = await cli('flip', 'block', 'service', '--config', broken);
    expect(r2.code).toBe(2);
    expect(r2.err).toContain('broken.yaml: routes[0].mode');
  });

  it('sees a flip made through another store handle (the proxy process case)', async () => {
    const store = await openStore(`sqlite:${tmp.dir}/.strangler/state.db`);
    try {
      await store.routes.flip({ route: 'block', mode: 'service', weight: 100, actor: 'other', reason: 'x' });
    } finally {
      await store.close();
    }
    expect(JSON.parse((await cli('routes', '--json')).out)[0]).toMatchObject({
      mode: 'service',
      weight: 100,
      version: 3,
    });
  });
});
