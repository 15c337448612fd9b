/**
 * Issue 17: `npm run demo` without a terminal (CI, a pipe, a log file) prints
 * no ANSI escape codes and no raw JSON log line, and every command it prints
 * works when pasted into a shell as shown — multi-word reasons quoted.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/bin.js';
import { tempDir } from '../helpers/tmp.js';

const exec = promisify(execFile);
const DEMO = path.resolve(import.meta.dirname, '../../dist/examples/demo.js');
const tmp = tempDir('strangler-demo-');
let output = '';

beforeAll(async () => {
  // stdin/stdout are pipes here: the demo must behave as it does in CI and stop by itself.
  const env = { ...process.env };
  for (const name of [
    'STRANGLER_LOG_LEVEL',
    'STRANGLER_LOG_FORMAT',
    'STRANGLER_ADMIN_TOKEN',
    'STRANGLER_ACTOR',
  ])
    delete env[name];
  const r = await exec(process.execPath, [DEMO], {
    cwd: tmp.dir,
    env,
    timeout: 180_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  output = r.stdout + r.stderr;
}, 200_000);
afterAll(() => tmp.cleanup());

/** What `sh` makes of a printed command line: the argv a user's shell would pass. */
async function shellWords(line: string): Promise<string[]> {
  const { stdout } = await exec('sh', ['-c', `set -- ${line}\nfor a in "$@"; do printf '%s\\0' "$a"; done`]);
  return stdout.split('\0').slice(0, -1);
}

describe('the demo without a terminal', () => {
  it('ran to the end', () => {
    expect(output).toContain('demo stopped cleanly');
  });

  it('replays the recorded block traffic: passes against block-service, fails naming a field against --differ', () => {
    expect(output).toMatch(/\d+ cases of block written to .*block-cases\.jsonl/);
    expect(output).toMatch(/PASS: nothing but noise differs[\s\S]*exit 0: the service build answers/);
    expect(output).toMatch(
      /differing fields \(not noise\):[\s\S]*\$\.served_by[\s\S]*exit 1: the replay names/,
    );
  });

  it('prints no ANSI escape codes', () => {
    expect(output).not.toMatch(/\x1b\[/);
  });

  it('prints no raw JSON log line', () => {
    const jsonLines = output.split('\n').filter((l) => l.trimStart().startsWith('{"level"'));
    expect(jsonLines).toEqual([]);
  });

  it('quotes multi-word reasons, and every printed command works when pasted', async () => {
    const commands = output
      .split('\n')
      .filter((l) => l.startsWith('$ npx strangler '))
      .map((l) => l.slice('$ npx strangler '.length));
    expect(commands.length).toBeGreaterThan(4);
    expect(commands).toContain(
      "flip block shadow --reason 'collect evidence' --config .strangler/demo/strangler.yaml",
    );
    // A replay needs the demo's block-service, stopped with the demo: it is checked by test/replay/round-trip.process.test.ts.
    const replays = commands.filter((c) => c.startsWith('replay '));
    expect(replays).toHaveLength(2);
    for (const cmd of commands.filter((c) => !c.startsWith('replay '))) {
      // Pasted as printed, with `npx strangler` standing for this checkout's bin.
      const words = await shellWords(cmd);
      const reason = words.indexOf('--reason');
      // The whole reason is one word: the word after it is the next option, not the reason's second word.
      if (reason >= 0) expect(words[reason + 2] ?? '--', cmd).toMatch(/^--/);
      const r = await exec('sh', ['-c', `"${process.execPath}" "${BIN}" ${cmd}`], {
        cwd: tmp.dir,
        env: { ...process.env, STRANGLER_LOG_LEVEL: 'silent', STRANGLER_ACTOR: 'pasted' },
      }).then(
        (ok) => ({ code: 0, err: ok.stderr }),
        (e: { code: number; stderr: string }) => ({ code: e.code, err: e.stderr }),
      );
      // A gate may refuse a pasted flip (exit 4); a mangled command line cannot parse (exit 2).
      expect([0, 4], `${cmd}\n${r.err}`).toContain(r.code);
    }
    const history = await exec(
      process.execPath,
      [BIN, 'history', 'block', '--json', '--config', '.strangler/demo/strangler.yaml'],
      {
        cwd: tmp.dir,
      },
    );
    const pasted = (JSON.parse(history.stdout) as Array<{ actor: string; reason: string }>).filter(
      (e) => e.actor === 'pasted',
    );
    expect(pasted.map((e) => e.reason)).toContain('collect evidence');
  });
});
