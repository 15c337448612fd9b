/**
 * Issue 17: logs are one readable line per event on a terminal and JSON lines
 * otherwise (pipes, files, CI), as pino-pretty and pino are meant to be used;
 * STRANGLER_LOG_FORMAT overrides the guess. The terminal case runs `serve`
 * under util-linux `script`, which gives it a real pseudo-terminal.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logFormat } from '../../core/log.js';
import { BIN } from '../helpers/bin.js';
import { demoConfigYaml, tempDir, writeConfig } from '../helpers/tmp.js';

const tmp = tempDir();
beforeAll(() => {
  writeConfig(tmp.dir, demoConfigYaml({ store: 'sqlite:state.db' }));
});
afterAll(() => tmp.cleanup());

/** Start `serve`, wait for the "proxy listening" log line, stop it; everything it wrote. */
function serveLogs(argv: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    // Its own process group, so SIGTERM reaches serve under `script` too (script does not relay it).
    const child = spawn(argv[0], argv.slice(1), {
      cwd: tmp.dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const stop = (sig: NodeJS.Signals) => process.kill(-child.pid!, sig);
    let all = '';
    let stopping = false;
    const timer = setTimeout(() => {
      stop('SIGKILL');
      reject(new Error(`no "proxy listening" line in 30 s:\n${all}`));
    }, 30_000);
    const onData = (c: Buffer) => {
      all += c;
      // Once: a second SIGTERM would kill serve before it releases the guard lease the next test needs.
      if (!stopping && all.includes('proxy listening') && all.includes('guard lease acquired')) {
        stopping = true;
        stop('SIGTERM');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(all);
    });
  });
}

const baseEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, STRANGLER_LOG_LEVEL: 'info' };
  delete env.STRANGLER_LOG_FORMAT;
  delete env.STRANGLER_ADMIN_TOKEN;
  delete env.NO_COLOR;
  return env;
};

describe('log format', () => {
  it('picks pretty for a terminal and JSON otherwise; STRANGLER_LOG_FORMAT wins', () => {
    expect(logFormat({}, true)).toBe('pretty');
    expect(logFormat({}, false)).toBe('json');
    expect(logFormat({ STRANGLER_LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(logFormat({ STRANGLER_LOG_FORMAT: 'pretty' }, false)).toBe('pretty');
  });

  it('writes JSON lines to a pipe', async () => {
    const logs = await serveLogs([process.execPath, BIN, 'serve'], baseEnv());
    const line = logs.split('\n').find((l) => l.includes('proxy listening'))!;
    expect(JSON.parse(line)).toMatchObject({ level: 30, name: 'strangler', msg: 'proxy listening' });
    expect(logs).not.toMatch(/\x1b\[/);
  });

  it('writes one plain line per event with STRANGLER_LOG_FORMAT=pretty off a terminal (no colour codes)', async () => {
    const logs = await serveLogs([process.execPath, BIN, 'serve'], {
      ...baseEnv(),
      STRANGLER_LOG_FORMAT: 'pretty',
    });
    expect(logs).toMatch(
      /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(strangler\): proxy listening \{"url":"http:\/\/127\.0\.0\.1:\d+","routes":1\}$/m,
    );
    expect(logs).toMatch(
      /^\[[\d:.]+\] WARN \(strangler\): STRANGLER_ADMIN_TOKEN is not set: admin mutations are refused$/m,
    );
    expect(logs).not.toContain('{"level"');
    expect(logs).not.toMatch(/\x1b\[/);
  });

  it('writes one coloured line per event on a real terminal', async () => {
    if (!existsSync('/usr/bin/script')) {
      if (process.env.CI)
        throw new Error('util-linux `script` is missing: it gives the test a pseudo-terminal');
      return;
    }
    // script -q -e -c CMD /dev/null: run CMD on a new pty, exit with its code.
    const cmd = `"${process.execPath}" "${BIN}" serve`;
    const logs = (
      await serveLogs(['/usr/bin/script', '-q', '-e', '-c', cmd, '/dev/null'], baseEnv())
    ).replace(/\r/g, '');
    const line = logs.split('\n').find((l) => l.includes('proxy listening'))!;
    expect(line).toBeDefined();
    expect(line).toMatch(/\x1b\[/); // colour on a terminal
    expect(line.replace(/\x1b\[[0-9;]*m/g, '')).toMatch(
      /^\[[\d:.]+\] INFO \(strangler\): proxy listening \{"url"/,
    );
    expect(logs).not.toContain('{"level"');
  });
});
