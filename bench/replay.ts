/**
 * Replay throughput (issue 28): a case file of N cases (default 10,000) made
 * from the Python demo monolith's real answers, recorded through the real
 * recording code (shadow/recording.ts caseOf), replayed by `strangler replay`
 * (bin/strangler.js, a child process, as CI runs it) against the TypeScript
 * block-service on the same SQLite data, at each concurrency asked for.
 * Prints the wall time of the whole command (start-up, parse, replay,
 * report) and the replay's own time, cases/s, and the verdict counts.
 *
 *   npm run build && node dist/bench/replay.js [--cases 10000] [--concurrency 8,32]
 *
 * The monolith is asked 200 distinct GETs (lists and pairs of 100 users); the
 * file repeats them with distinct recording times, as a busy route's
 * recording does. Its generated_at differs on every answer: it is in the
 * file's noise, as learned shadow evidence would put it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { parseConfig } from '../core/config.js';
import { REPO_ROOT, startBlockService, startMonolith } from '../examples/run.js';
import { formatReplayFile } from '../shadow/recording-format.js';
import { caseOf } from '../shadow/recording.js';
import { routeRedaction } from '../shadow/redaction.js';

const { values } = parseArgs({
  options: { cases: { type: 'string', default: '10000' }, concurrency: { type: 'string', default: '8,32' } },
});
const total = Number(values.cases);
const concurrencies = String(values.concurrency).split(',').map(Number);

function run(argv: string[], cwd: string): Promise<{ code: number | null; ms: number; err: string }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/strangler.js'), ...argv], {
      cwd,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    child.on('exit', (code) => resolve({ code, ms: performance.now() - t0, err }));
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'strangler-bench-replay-'));
  const dbPath = path.join(dir, 'monolith.db');
  const monolith = await startMonolith({ dbPath });
  const service = await startBlockService({ dbPath });
  try {
    const config = parseConfig({
      legacy: { url: monolith.url },
      services: { 'block-service': { url: service.url } },
      routes: [{ id: 'block', match: { path: '/api/block/*' }, service: 'block-service', mode: 'shadow' }],
    });
    const route = config.routes[0];
    const redaction = routeRedaction(route);
    const distinct: Array<{ url: string; status: number; headers: Record<string, string>; body: Buffer }> =
      [];
    for (let u = 1; u <= 100; u++)
      for (const url of [`/api/block/${u}`, `/api/block/${u}/${1 + ((u * 7) % 100)}`]) {
        const res = await request(monolith.url + url);
        distinct.push({
          url,
          status: res.statusCode,
          headers: res.headers as Record<string, string>,
          body: Buffer.from(await res.body.arrayBuffer()),
        });
      }
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const cases = Array.from({ length: total }, (_, i) => {
      const d = distinct[i % distinct.length];
      const ex = {
        requestId: String(i),
        routeId: 'block',
        pattern: '/api/block/*',
        method: 'GET',
        url: d.url,
        requestHeaders: { accept: 'application/json', 'user-agent': 'bench' },
        requestBody: null,
        target: 'legacy' as const,
        status: d.status,
        responseHeaders: d.headers,
        responseBody: d.body,
        durationMs: 1,
      };
      return caseOf(route, ex, { ...d, durationMs: 1 }, redaction, new Date(t0 + i));
    });
    const file = path.join(dir, 'cases.jsonl');
    writeFileSync(file, formatReplayFile('block', cases, ['$.generated_at']));
    console.log(
      `${total} cases (${distinct.length} distinct monolith answers), block-service ${service.url}`,
    );
    console.log('concurrency   command wall   replay     cases/s   passed  failed  errors  exit');
    for (const c of concurrencies) {
      const out = path.join(dir, `r${c}.json`);
      const r = await run(
        [
          'replay',
          file,
          '--target',
          service.url,
          '--concurrency',
          String(c),
          '--format',
          'json',
          '--out',
          out,
        ],
        dir,
      );
      const res = JSON.parse(readFileSync(out, 'utf8'));
      console.log(
        `${String(c).padStart(11)}   ${(r.ms / 1000).toFixed(2).padStart(10)} s ${(res.durationMs / 1000).toFixed(2).padStart(7)} s ${String(Math.round(res.total / (res.durationMs / 1000))).padStart(9)}   ${String(res.passed).padStart(6)}  ${String(res.failed).padStart(6)}  ${String(res.errors).padStart(6)}  ${r.code}`,
      );
    }
  } finally {
    await service.stop();
    await monolith.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
