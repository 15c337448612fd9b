/**
 * Regression for issue 13 item 1: SQLite writes from several processes failed
 * with SQLITE_BUSY instead of waiting (DEFERRED read-then-write transactions,
 * and migrations run at every open). Real processes, a real file: writer
 * processes doing what proxy workers do, plus the real CLI flipping a route
 * in a loop, for several seconds; then every error is counted and every
 * count must reconcile with what the store holds (nothing dropped).
 */
import { type ChildProcess, execFile, fork } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { seedFromConfig } from '../../cli/context.js';
import { loadConfig } from '../../core/config.js';
import { openStore } from '../../store/open.js';
import { demoConfigYaml, tempDir, writeConfig } from '../helpers/tmp.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures');
const BIN = path.resolve(import.meta.dirname, '../../bin/strangler.js');
const WRITERS = 3;
const RUN_MS = 5000;
const tmp = tempDir('strangler-writers-');
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  tmp.cleanup();
});

interface WriterReport {
  name: string;
  wrote: { opens: number; shadow: number; stats: number; audit: number };
  errors: string[];
}

/** Fork a writer; resolves once it is loaded, with a function that starts it and awaits its report. */
async function forkWriter(file: string, name: string): Promise<(until: number) => Promise<WriterReport>> {
  const child = fork(path.join(FIXTURES, 'store/store-writer.ts'), [file, name], {
    execArgv: ['--import', path.join(FIXTURES, 'proxy/ts-register.mjs')],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  const exited = once(child, 'exit');
  await once(child, 'message');
  return async (until) => {
    child.send({ until });
    const [code] = await exited;
    if (code !== 0) throw new Error(`writer ${name} exited ${code}: ${out}`);
    return JSON.parse(out.trim().split('\n').pop()!) as WriterReport;
  };
}

/** The real CLI, one process per flip, back and forth between legacy and shadow until the writers stop. */
async function flipLoop(configFile: string, until: number): Promise<{ flips: number; errors: string[] }> {
  const run = promisify(execFile);
  let flips = 0;
  const errors: string[] = [];
  const modes = ['shadow', 'legacy'];
  while (Date.now() < until) {
    try {
      await run(process.execPath, [BIN, 'flip', 'block', modes[flips % 2], '--config', configFile, '--reason', 'contention test'], {
        env: { ...process.env, STRANGLER_LOG_LEVEL: 'silent' },
      });
      flips++;
    } catch (err) {
      errors.push(`${(err as { stderr?: string }).stderr ?? (err as Error).message}`.slice(0, 300));
    }
  }
  return { flips, errors };
}

describe('SQLite store under concurrent writers (real processes)', () => {
  it(`${WRITERS} writer processes and the CLI flipping, for ${RUN_MS / 1000} s: no errors, nothing dropped`, async () => {
    const file = path.join(tmp.dir, 'state.db');
    const configFile = writeConfig(tmp.dir, demoConfigYaml({ store: `sqlite:${file}` }));
    const config = loadConfig(configFile);
    const setup = await openStore(config.store);
    await seedFromConfig(setup, config);
    await setup.close();

    const starts = await Promise.all(Array.from({ length: WRITERS }, (_, i) => forkWriter(file, `writer-${i + 1}`)));
    const until = Date.now() + RUN_MS;
    const [flipper, ...reports] = await Promise.all([flipLoop(configFile, until), ...starts.map((start) => start(until))]);

    const store = await openStore(config.store, { create: false });
    try {
      const writerErrors = reports.flatMap((r) => r.errors);
      const total = (k: keyof WriterReport['wrote']) => reports.reduce((n, r) => n + r.wrote[k], 0);
      const evidence = await store.shadow.evidence('block');
      const windows = await store.stats.query({ route: 'block', since: 0 });
      const statsRequests = windows.reduce((n, w) => n + w.requests, 0);
      const testRows = (await store.audit.list({ route: 'block', action: 'test.write', limit: 1_000_000 })).length;
      const flipRows = (await store.audit.list({ route: 'block', action: 'flip', limit: 1_000_000 })).length;
      const state = await store.routes.get('block');
      console.log(
        `concurrent writers: ${WRITERS} writer processes + ${flipper.flips} CLI flip processes over ${RUN_MS} ms; ` +
          `writes: shadow ${total('shadow')}, stats ${total('stats')}, audit ${total('audit')}, opens ${total('opens')}, flips ${flipper.flips}; ` +
          `errors: writers ${writerErrors.length}, CLI ${flipper.errors.length}; ` +
          `dropped: shadow ${total('shadow') - evidence.compared}, stats ${total('stats') - statsRequests}, audit ${total('audit') - testRows}, flips ${flipper.flips - flipRows}`,
      );
      expect(writerErrors.slice(0, 3)).toEqual([]);
      expect(flipper.errors.slice(0, 3)).toEqual([]);
      expect(total('shadow')).toBeGreaterThan(0);
      expect(flipper.flips).toBeGreaterThan(0);
      expect(evidence.compared).toBe(total('shadow'));
      expect(statsRequests).toBe(total('stats'));
      expect(testRows).toBe(total('audit'));
      expect(flipRows).toBe(flipper.flips);
      // Seeded at version 1, one version per flip.
      expect(state?.version).toBe(1 + flipper.flips);
    } finally {
      await store.close();
    }
  }, 120_000);
});
