/**
 * Issue 26, the CLI in scripts (the real bin/strangler.js in real pipes):
 *
 * - `strangler flip … | head -1` committed the flip, then died with an
 *   unhandled EPIPE stack trace and exit 1 (a script read "failed"); the same
 *   for `plan … | head`. A reader that leaves early now ends the output
 *   quietly and the command exits with the code its work earned.
 * - `strangler --config F flip …` was "unknown option '--config'", and
 *   `export grafana --config F` was refused.
 * - `flip --help` said weight 1..99 and the error said 0..100.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runBin } from '../helpers/bin.js';
import { demoConfigYaml, tempDir, writeConfig } from '../helpers/tmp.js';

const tmp = tempDir('strangler-pipe-');
const env = { ...process.env, STRANGLER_LOG_LEVEL: 'silent', STRANGLER_ACTOR: 'script' };
const cli = (...argv: string[]) => runBin(argv, { cwd: tmp.dir, env });
const MONOLITH = path.resolve(import.meta.dirname, '../../examples/monolith');

/**
 * Run the bin with a stdout whose reader is gone before the first write (as
 * after `head -1` has its line): the deterministic form of `| head -1`.
 */
function withClosedStdout(argv: string[]): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve) => {
    const child: ChildProcess = spawn(process.execPath, [BIN, ...argv], {
      cwd: tmp.dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.destroy();
    let err = '';
    child.stderr!.on('data', (c) => (err += c));
    child.once('close', (code) => resolve({ code, err }));
  });
}

/** `bash -o pipefail -c '<bin> ARGV | head -1'`: the exit status is the bin's unless head's is worse. */
function throughHead(argv: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const quoted = [process.execPath, BIN, ...argv].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  return new Promise((resolve) => {
    const child = spawn('bash', ['-o', 'pipefail', '-c', `${quoted} | head -1`], {
      cwd: tmp.dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.once('close', (code) => resolve({ code, out, err }));
  });
}

beforeAll(async () => {
  writeConfig(tmp.dir, demoConfigYaml({ store: 'sqlite:state.db' }), 'other.yaml');
  const seeded = await cli('seed', '--config', 'other.yaml');
  expect(seeded.code, seeded.err).toBe(0);
});
afterAll(() => tmp.cleanup());

describe('the CLI in a pipe whose reader leaves early (EPIPE)', () => {
  it('`flip … | head -1` commits the flip, prints nothing on stderr and exits 0', async () => {
    const r = await withClosedStdout([
      'flip',
      'block',
      'shadow',
      '--config',
      'other.yaml',
      '--reason',
      'pipe',
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const routes = await cli('routes', '--config', 'other.yaml', '--json');
    expect(JSON.parse(routes.out)[0]).toMatchObject({ id: 'block', mode: 'shadow', version: 2 });
  });

  it('`plan … | head` exits 0 quietly with its first lines', async () => {
    const closed = await withClosedStdout(['plan', MONOLITH, '--config', 'other.yaml']);
    expect(closed.err).not.toMatch(/EPIPE|Error|at /);
    expect(closed.code).toBe(0);
    const head = await throughHead(['plan', MONOLITH, '--config', 'other.yaml']);
    expect(head.out).toMatch(/^Extraction plan for .*monolith\n$/);
    expect(head.err).not.toMatch(/EPIPE|Error|at /);
    expect(head.code).toBe(0);
  });

  it('a real `| head -1` after a flip: the first line, exit 0', async () => {
    const r = await throughHead(['flip', 'block', 'legacy', '-c', 'other.yaml', '--reason', 'pipe back']);
    expect(r.out).toBe('block: shadow (v2) -> legacy (v3)\n');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('--config before or after the command, for every command that reads one', () => {
  it('`strangler --config F flip …` and `strangler -c F routes` use F', async () => {
    const flip = await cli('--config', 'other.yaml', 'flip', 'block', 'shadow', '--reason', 'before');
    expect(flip.err).toBe('');
    expect(flip.code).toBe(0);
    expect(flip.out).toContain('block: legacy (v3) -> shadow (v4)');
    const routes = await cli('-c', 'other.yaml', 'routes', '--json');
    expect(routes.code, routes.err).toBe(0);
    expect(JSON.parse(routes.out)[0]).toMatchObject({ id: 'block', mode: 'shadow' });
    // Given twice, the last one wins, as for any option.
    const twice = await cli('--config', 'missing.yaml', 'routes', '--config', 'other.yaml', '--json');
    expect(twice.code, twice.err).toBe(0);
  });

  it('`export grafana --config F` and `--config F export grafana` are accepted; a bad F is refused', async () => {
    for (const argv of [
      ['export', 'grafana', '--config', 'other.yaml'],
      ['--config', 'other.yaml', 'export', 'grafana'],
    ]) {
      const r = await cli(...argv);
      expect(r.code, `${argv.join(' ')}: ${r.err}`).toBe(0);
      expect(JSON.parse(r.out).uid).toBe('strangler');
    }
    const bad = await cli('--config', 'missing.yaml', 'export', 'grafana');
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain('missing.yaml');
    expect(bad.out).toBe('');
  });
});

describe('flip --weight: the help and the error name the same range', () => {
  it('says 1..99 in --help and in the error for 0, 100 and 150', async () => {
    const help = await cli('flip', '--help');
    expect(help.out).toContain('1..99');
    for (const w of ['0', '100', '150']) {
      const r = await cli(
        'flip',
        'block',
        'canary',
        '--weight',
        w,
        '-c',
        'other.yaml',
        '--force',
        '--reason',
        'x',
      );
      expect(r.code, w).toBe(2);
      expect(r.err, w).toContain(`canary needs --weight between 1 and 99 (got ${w})`);
      expect(r.err, w).not.toContain('0..100');
    }
  });
});
