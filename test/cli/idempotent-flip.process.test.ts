/**
 * Issue 17: flipping a route to the mode it is already in exits 0 with
 * "already legacy; nothing changed" and writes nothing (no version bump, no
 * audit row), so a scripted rollback can run twice; --expect-version still
 * refuses a race. A forced flip is marked in `history`'s text as in its JSON.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin } from '../helpers/bin.js';
import { demoConfigYaml, tempDir, writeConfig } from '../helpers/tmp.js';

const tmp = tempDir();
const env = { ...process.env, STRANGLER_LOG_LEVEL: 'silent', STRANGLER_ACTOR: 'ops' };
const strangler = (...argv: string[]) => runBin(argv, { cwd: tmp.dir, env });
const auditRows = async () =>
  (JSON.parse((await strangler('history', 'block', '--json')).out) as unknown[]).length;

beforeAll(async () => {
  writeConfig(tmp.dir, demoConfigYaml({ store: 'sqlite:state.db' }));
  expect((await strangler('seed')).code).toBe(0); // a read never seeds: serve or seed does
});
afterAll(() => tmp.cleanup());

describe('flip to the current mode', () => {
  it('exits 0, says so, and writes nothing', async () => {
    const rows = await auditRows();
    const r = await strangler('flip', 'block', 'legacy', '--reason', 'rollback');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe('block: already legacy (v1); nothing changed\n');
    expect(await auditRows()).toBe(rows);
    const again = await strangler('flip', 'block', 'legacy', '--reason', 'rollback');
    expect(again.code).toBe(0);
  });

  it('--expect-version still refuses a stale version (exit 3)', async () => {
    const r = await strangler('flip', 'block', 'legacy', '--expect-version', '7');
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/^strangler: STRANGLER_E_STALE_VERSION: route "block" is at version 1, not 7/);
  });

  it('a canary at the same weight is a no-op too; --json says unchanged', async () => {
    expect(
      (await strangler('flip', 'block', 'canary', '--weight', '5', '--force', '--reason', 'skip shadow'))
        .code,
    ).toBe(0);
    const rows = await auditRows();
    const r = await strangler('flip', 'block', 'canary', '--weight', '5', '--json');
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({
      unchanged: true,
      before: { mode: 'canary', weight: 5, version: 2 },
    });
    expect((await strangler('flip', 'block', 'canary', '--weight', '5')).out).toBe(
      'block: already canary 5% (v2); nothing changed\n',
    );
    expect(await auditRows()).toBe(rows);
  });

  it('history text marks the forced flip: who, why, which checks were overridden', async () => {
    const r = await strangler('history', 'block');
    expect(r.code).toBe(0);
    const line = r.out.split('\n').find((l) => l.includes('canary 5%'))!;
    expect(line).toMatch(
      /flip \(forced\)\s+legacy v1 -> canary 5% v2\s+ops\s+skip shadow \[overrode: skipShadow, minCompared, minMatchRate, maxP99Ratio\]/,
    );
    const seed = r.out.split('\n').find((l) => l.includes('seed'))!;
    expect(seed).not.toContain('forced');
  });
});
