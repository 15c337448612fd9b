/**
 * `strangler shadow export` and `strangler replay` in-process: an unknown
 * route and an empty recording are refused (and write nothing); an export is
 * written whole; a replay on a terminal shows a progress bar and on a pipe
 * does not.
 */
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../cli/main.js';
import type { StoredCase } from '../../shadow/recording-format.js';
import { openSqliteStore } from '../../store/sqlite/index.js';
import { captureIO, demoConfigYaml, tempDir, writeConfig } from '../helpers/tmp.js';

const tmp = tempDir('strangler-export-');
let server: http.Server;

function stored(i: number): StoredCase {
  return {
    id: `c${i}`,
    at: new Date(1_800_000_000_000 + i).toISOString(),
    request: { method: 'GET', url: `/api/block/${i}`, headers: {} },
    legacy: { status: 200, headers: { 'content-type': 'application/json' }, body: { text: `{"i":${i}}` } },
    noise: [],
    redacted: [],
    rules: {
      match: { path: '/api/block/*' },
      idempotent: false,
      ignore: [],
      compareHeaders: [],
      ignoreArrayOrder: false,
    },
  };
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(`{"i":${req.url!.split('/').at(-1)}}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  writeConfig(tmp.dir, demoConfigYaml({ store: `sqlite:${path.join(tmp.dir, 'state.db')}` }));
  expect(await run(['seed'], captureIO(tmp.dir).io)).toBe(0);
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  tmp.cleanup();
});

describe('shadow export and replay on the command line', () => {
  it('refuses an unknown route (2, naming the known ones) and an empty recording (1), writing nothing', async () => {
    const unknown = captureIO(tmp.dir);
    expect(await run(['shadow', 'export', 'nope', '--out', 'x.jsonl'], unknown.io)).toBe(2);
    expect(unknown.err()).toMatch(/nope.*block/);
    const empty = captureIO(tmp.dir);
    expect(await run(['shadow', 'export', 'block', '--out', 'x.jsonl'], empty.io)).toBe(1);
    expect(empty.err()).toContain('no recorded cases for block: turn on shadow.record.enabled');
    expect(existsSync(path.join(tmp.dir, 'x.jsonl'))).toBe(false);
  });

  it('exports the recording whole, then replays it with a bar on a terminal only', async () => {
    const store = openSqliteStore(path.join(tmp.dir, 'state.db'), { create: false });
    await store.recordings.add(
      'block',
      [1, 2, 3].map((i) => ({ at: 1_800_000_000_000 + i, value: stored(i) })),
      { maxCases: 10, maxBytes: 1e6, maxAgeMs: 1e12, now: 1_800_000_000_100 },
    );
    await store.close();
    const exp = captureIO(tmp.dir);
    expect(await run(['shadow', 'export', 'block', '--out', 'cases.jsonl'], exp.io)).toBe(0);
    expect(readFileSync(path.join(tmp.dir, 'cases.jsonl'), 'utf8').split('\n')).toHaveLength(5);
    const target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const tty = captureIO(tmp.dir, {}, { stderr: true });
    expect(await run(['replay', 'cases.jsonl', '--target', target], tty.io)).toBe(0);
    expect(tty.err()).toMatch(/replay \[[\u2588\u2591]+\] 3\/3 cases/);
    expect(tty.out()).toContain('3 passed, 0 failed');
    const pipe = captureIO(tmp.dir);
    expect(await run(['replay', 'cases.jsonl', '--target', target], pipe.io)).toBe(0);
    expect(pipe.err()).toBe('');
  });

  it('shadow reset --recording deletes the recorded cases too, and the audit row says how many', async () => {
    const reset = captureIO(tmp.dir);
    expect(
      await run(['shadow', 'reset', 'block', '--recording', '--reason', 'data moved on'], reset.io),
    ).toBe(0);
    expect(reset.out()).toContain('shadow evidence of block cleared (0 comparisons, 3 recorded cases)');
    const store = openSqliteStore(path.join(tmp.dir, 'state.db'), { create: false });
    try {
      expect(await store.recordings.size('block')).toEqual({ cases: 0, bytes: 0 });
      const [row] = await store.audit.list({ route: 'block', action: 'shadow.reset', limit: 1 });
      expect(row).toMatchObject({ reason: 'data moved on', details: { recordedCases: 3 } });
    } finally {
      await store.close();
    }
  });
});
