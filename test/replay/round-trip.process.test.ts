/**
 * The replay workflow with real processes, as a team runs it: `strangler serve`
 * (a child process) shadows the Python demo monolith's /api/block to the
 * example block-service and records cases; `strangler shadow export` writes
 * them; `strangler replay` runs them against block-service (passes: only the
 * learned noise, generated_at, differs) and against a block-service started
 * with --differ (fails, naming the changed fields). Issue 28.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, startBlockService, startMonolith } from '../../examples/run.js';
import { openSqliteStore } from '../../store/sqlite/index.js';
import { runBin, type Served, startServe } from '../helpers/bin.js';
import { tempDir } from '../helpers/tmp.js';

const TOKEN = 'Bearer round-trip-secret-7f3a';
const CASES = 40;

describe('record → shadow export → replay, with the real monolith and block-service', () => {
  let dir: { dir: string; cleanup(): void };
  let monolith: RunningApp;
  let service: RunningApp;
  let changed: RunningApp;
  let served: Served;
  let config: string;
  const env = { ...process.env, STRANGLER_LOG_LEVEL: 'silent', STRANGLER_ADMIN_TOKEN: '' };
  const bin = (...argv: string[]) => runBin(argv, { cwd: dir.dir, env });

  beforeAll(async () => {
    dir = tempDir('strangler-replay-');
    const dbPath = path.join(dir.dir, 'monolith.db');
    monolith = await startMonolith({ dbPath });
    [service, changed] = await Promise.all([
      startBlockService({ dbPath }),
      startBlockService({ dbPath, differ: true }),
    ]);
    config = path.join(dir.dir, 'strangler.yaml');
    writeFileSync(
      config,
      `listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
store: sqlite:state.db
legacy: { url: ${monolith.url} }
services:
  block-service: { url: ${service.url} }
routes:
  - id: block
    match: { path: /api/block/*, methods: [GET, POST, DELETE] }
    service: block-service
    mode: shadow
    shadow:
      noiseSampleRate: 1
      record: { enabled: true }
`,
    );
    served = await startServe(config, { STRANGLER_LOG_LEVEL: 'warn', STRANGLER_ADMIN_TOKEN: '' });
    for (let i = 0; i < CASES; i++) {
      const url = i % 2 ? `/api/block/${1 + (i % 10)}` : `/api/block/${1 + (i % 10)}/${2 + (i % 7)}`;
      const res = await request(`${served.proxy}${url}`, { headers: { authorization: TOKEN } });
      expect(res.statusCode).toBeLessThan(500);
      await res.body.dump();
    }
    // The proxy writes cases a flush interval after their comparison.
    const store = openSqliteStore(path.join(dir.dir, 'state.db'), { create: false });
    try {
      const t0 = Date.now();
      while ((await store.recordings.size('block')).cases < CASES) {
        if (Date.now() - t0 > 15_000) throw new Error('cases were not recorded within 15 s');
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await store.close();
    }
  }, 60_000);

  afterAll(async () => {
    await served?.stop();
    await Promise.all([service?.stop(), changed?.stop()]);
    await monolith?.stop();
    dir?.cleanup();
  });

  it('exports a versioned, reproducible case file without the credential', async () => {
    const first = await bin('shadow', 'export', 'block', '--config', config, '--out', 'cases.jsonl');
    expect(first.err).toContain(`${CASES} cases of block written to cases.jsonl`);
    expect(first.code).toBe(0);
    const text = readFileSync(path.join(dir.dir, 'cases.jsonl'), 'utf8');
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(CASES + 1);
    const header = JSON.parse(lines[0]);
    expect(header).toMatchObject({ format: 'strangler-replay', version: 1, route: 'block', cases: CASES });
    expect(header.noise).toContain('$.generated_at');
    const c = JSON.parse(lines[1]);
    expect(c.request.headers.authorization).toBe('[redacted: authorization]');
    expect(c.redacted).toContain('header:authorization');
    expect(text).not.toContain('round-trip-secret');
    // Exporting again gives the same bytes.
    const again = await bin('shadow', 'export', 'block', '--config', config);
    expect(again.code).toBe(0);
    expect(again.out).toBe(text);
  });

  it('replay against block-service passes: only noise differs', async () => {
    const r = await bin('replay', 'cases.jsonl', '--target', service.url, '--concurrency', '4');
    expect(r.out).toContain(`${CASES} passed, 0 failed, 0 errors, 0 skipped`);
    expect(r.out).toContain('tolerated as noise: $.generated_at');
    expect(r.out).toContain('PASS');
    expect(r.code).toBe(0);
  });

  it('replay against a block-service with a changed field fails, naming the field, with JUnit for CI', async () => {
    // Both reports at once: the two runs only read the file and the service.
    const [r, j] = await Promise.all([
      bin('replay', 'cases.jsonl', '--target', changed.url),
      bin('replay', 'cases.jsonl', '--target', changed.url, '--format', 'junit', '--out', 'r.xml'),
    ]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/differing fields \(not noise\):/);
    expect(r.out).toContain('$.count');
    expect(r.out).toContain('$.served_by');
    expect(r.out).toContain('FAIL');
    expect(j.code).toBe(1);
    const xml = readFileSync(path.join(dir.dir, 'r.xml'), 'utf8');
    expect(xml).toMatch(/<testsuite name="replay block" tests="40" failures="40" errors="0" skipped="0"/);
    expect(xml).toContain('differs from legacy:');
  });

  it('a bad case file exits 2 naming the line and the field, and sends nothing', async () => {
    const lines = readFileSync(path.join(dir.dir, 'cases.jsonl'), 'utf8').trimEnd().split('\n');
    const bad = JSON.parse(lines[2]);
    bad.request.method = 'get me';
    lines[2] = JSON.stringify(bad);
    writeFileSync(path.join(dir.dir, 'bad.jsonl'), `${lines.join('\n')}\n`);
    const r = await bin('replay', 'bad.jsonl', '--target', 'http://127.0.0.1:9');
    expect(r.code).toBe(2);
    expect(r.err).toContain('bad.jsonl:3: request.method');
  });
});
