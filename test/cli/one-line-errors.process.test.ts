/**
 * Issue 17, "fail in one clear line": every way a new user gets a command
 * wrong ends in `strangler: STRANGLER_E_…: message` on stderr, the code's exit
 * status, and no stack trace. Run as the user runs it: bin/strangler.js in a
 * child process (exit codes and stderr are the process's behaviour).
 */
import net from 'node:net';
import { userInfo } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BinRun, runBin } from '../helpers/bin.js';
import { demoConfigYaml, tempDir, writeConfig } from '../helpers/tmp.js';

const tmp = tempDir();
let busy: net.Server;
let busyPort: number;

type Ran = BinRun;

function strangler(argv: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Ran> {
  return runBin(argv, { cwd: opts.cwd ?? tmp.dir, env: opts.env });
}

/** One line, the documented form, and nothing that looks like a stack trace. */
function expectOneLine(r: Ran, code: string, exit: number): string {
  expect(r.code, r.err).toBe(exit);
  expect(r.err).toMatch(new RegExp(`^strangler: ${code}: `));
  expect(r.err.trimEnd().split('\n'), r.err).toHaveLength(1);
  expect(r.err).not.toMatch(/\n\s+at |unexpected error/);
  return r.err;
}

beforeAll(async () => {
  writeConfig(
    tmp.dir,
    demoConfigYaml({
      store: 'sqlite:state.db',
      extraRoute: '  - id: feed\n    match: { path: /api/feed/* }\n    service: block-service\n',
    }),
  );
  // Only serve and `strangler seed` write routes into a new store (a read never seeds).
  expect((await strangler(['seed'])).code).toBe(0);
  busy = net.createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  busyPort = (busy.address() as net.AddressInfo).port;
});

afterAll(async () => {
  await new Promise((r) => busy.close(r));
  tmp.cleanup();
});

describe('serve cannot listen: STRANGLER_E_LISTEN, exit 2', () => {
  it('a busy port names the option, the address and the fix', async () => {
    const err = expectOneLine(
      await strangler(['serve', '--listen', `127.0.0.1:${busyPort}`]),
      'STRANGLER_E_LISTEN',
      2,
    );
    expect(err).toContain(`--listen: cannot listen on 127.0.0.1:${busyPort}: the port is already in use`);
  });

  it('a busy admin port too', async () => {
    const err = expectOneLine(
      await strangler(['serve', '--listen', '127.0.0.1:0', '--admin-listen', `127.0.0.1:${busyPort}`]),
      'STRANGLER_E_LISTEN',
      2,
    );
    expect(err).toContain(`--admin-listen: cannot listen on 127.0.0.1:${busyPort}`);
  });

  it('--listen nonsense is refused before anything starts', async () => {
    const err = expectOneLine(await strangler(['serve', '--listen', 'nonsense']), 'STRANGLER_E_LISTEN', 2);
    expect(err).toContain('--listen: "nonsense" is not HOST:PORT');
  });

  it('with --workers, a busy port ends the primary with exit 2 instead of respawning workers forever', async () => {
    const r = await strangler(['serve', '--workers', '2', '--listen', `127.0.0.1:${busyPort}`]);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toContain('STRANGLER_E_LISTEN');
    expect(r.err).not.toMatch(/\n\s+at /);
  });
});

describe('argument-parser errors in the same form as every other error', () => {
  it.each([
    [
      ['flip', 'block', 'canary', '--weight', 'abc'],
      "argument 'abc' is invalid: expected a whole number (see strangler flip --help)",
    ],
    [
      ['canary', 'block', '--steps', '1,5', '--interval', 'soon'],
      "argument 'soon' is invalid: expected a duration",
    ],
    [['serve', '--workers', '0'], "argument '0' is invalid: expected a whole number >= 1"],
    [['flp'], "unknown command 'flp' (Did you mean flip?) (see strangler --help)"],
    [
      ['shadow', 'report', '--frmat', 'md'],
      "unknown option '--frmat' (Did you mean --format?) (see strangler shadow report --help)",
    ],
  ])('strangler %j', async (argv, message) => {
    expect(expectOneLine(await strangler(argv), 'STRANGLER_E_USAGE', 2)).toContain(message);
  });
});

describe('unknown routes: exit 2, and the message lists the known routes', () => {
  it.each([
    [['history', 'UNKNOWN']],
    [['flip', 'UNKNOWN', 'shadow']],
    [['shadow', 'report', 'UNKNOWN']],
    [['shadow', 'reset', 'UNKNOWN']],
    [['report', 'latency', 'UNKNOWN']],
    [['report', 'loadtest', 'UNKNOWN']],
    [['canary', 'UNKNOWN', '--steps', '1,5']],
  ])('strangler %j', async (argv) => {
    const err = expectOneLine(await strangler(argv), 'STRANGLER_E_UNKNOWN_ROUTE', 2);
    expect(err).toContain('no route "UNKNOWN"');
    expect(err).toContain('known routes: block, feed');
  });

  it('history of a known route still prints its table', async () => {
    const r = await strangler(['history', 'block']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/block\s+seed/);
  });
});

it('a known route without a saved load test has its own code', async () => {
  const err = expectOneLine(await strangler(['report', 'loadtest', 'block']), 'STRANGLER_E_NO_LOADTEST', 2);
  expect(err).toContain('run `strangler loadtest block` first');
});

describe('config files', () => {
  it('no config file: the path tried and how to start one', async () => {
    const empty = tempDir();
    try {
      const err = expectOneLine(await strangler(['routes'], { cwd: empty.dir }), 'STRANGLER_E_CONFIG', 2);
      expect(err).toContain(`no config file at ${path.join(empty.dir, 'strangler.yaml')}`);
      expect(err).toContain('strangler init --legacy http://127.0.0.1:8000');
    } finally {
      empty.cleanup();
    }
  });

  it('broken YAML: the offending line with a caret under the column', async () => {
    const file = writeConfig(
      tmp.dir,
      'listen: 127.0.0.1:0\nlegacy: { url: http://x }\n  bad: indent\n',
      'broken.yaml',
    );
    const r = await strangler(['routes', '--config', 'broken.yaml']);
    expect(r.code).toBe(2);
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(r.err).toBe(
      `strangler: STRANGLER_E_CONFIG: ${file}:3:1: YAML: All mapping items must start at the same column\n` +
        '  2 | legacy: { url: http://x }\n' +
        '  3 |   bad: indent\n' +
        '    | ^\n',
    );
  });

  it('the caret follows the column the parser names', async () => {
    writeConfig(tmp.dir, 'listen: 127.0.0.1:0\nlegacy: {url: [http://x}\n', 'bracket.yaml');
    const r = await strangler(['routes', '--config', 'bracket.yaml']);
    expect(r.code).toBe(2);
    const lines = r.err.trimEnd().split('\n');
    const caret = lines.at(-1)!;
    const offending = lines.at(-2)!;
    const col = Number(/bracket\.yaml:\d+:(\d+):/.exec(lines[0])![1]);
    // Both lines share the "  N | " gutter, so the caret sits under character `col` of the line.
    expect(caret.indexOf('^') - caret.indexOf('|')).toBe(col + 1);
    expect(offending.length).toBeGreaterThan(offending.indexOf('|') + 1);
  });
});

describe('the admin token and the actor', () => {
  it('refuses an admin token shorter than 16 characters at start, saying why', async () => {
    const r = await strangler(['serve'], {
      env: { ...process.env, STRANGLER_LOG_LEVEL: 'silent', STRANGLER_ADMIN_TOKEN: 'short-token' },
    });
    const err = expectOneLine(r, 'STRANGLER_E_CONFIG', 2);
    expect(err).toContain('STRANGLER_ADMIN_TOKEN: the admin token has 11 characters; use at least 16');
    expect(r.out).toBe(''); // nothing started: no "proxy http://…" line
  });

  it('records the OS user as the actor when $USER and $LOGNAME are unset', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, STRANGLER_LOG_LEVEL: 'silent' };
    delete env.USER;
    delete env.LOGNAME;
    delete env.STRANGLER_ACTOR;
    const flip = await strangler(['flip', 'feed', 'shadow', '--reason', 'actor test'], { env });
    expect(flip.code, flip.err).toBe(0);
    const history = JSON.parse((await strangler(['history', 'feed', '--json'])).out) as Array<{
      actor: string;
    }>;
    expect(history.at(-1)!.actor).toBe(`cli:${userInfo().username}`);
    expect(history.at(-1)!.actor).not.toBe('cli:unknown');
  });
});
