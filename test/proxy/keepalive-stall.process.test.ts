/**
 * An upstream that stalls on kept-alive connections (a real Python
 * http.server writing head and body in two sends with Nagle on): the proxy
 * notices that answers on reused connections come ~40 ms later than on fresh
 * ones, says so once in its log and saves the finding in the store; the same
 * server with TCP_NODELAY, or with reuseConnections: false, is not reported.
 *
 * The verdict rests on the kernel's delayed-ACK time (40 ms minimum on Linux),
 * not on this machine's speed; medians over 5 fresh and 24 reused answers keep
 * a busy moment from deciding it, and a retry covers a very busy one.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { judgeStall, type KeepAliveStallFinding } from '../../core/keepalive-stall.js';
import { readStallFindings } from '../../control/findings.js';
import { parseConfig } from '../../core/config.js';
import { type Stack, startStack } from './helpers.js';

const SERVER = fileURLToPath(new URL('../fixtures/proxy/nagle_server.py', import.meta.url));
const PYTHON = process.env.STRANGLER_PYTHON ?? '/usr/bin/python3';

let py: ChildProcess | undefined;
let stack: Stack | undefined;

afterEach(async () => {
  await stack?.close();
  py?.stdin?.end();
  py?.kill();
  stack = undefined;
  py = undefined;
});

async function startNagleServer(nodelay: boolean, port?: number): Promise<string> {
  const args = [SERVER, ...(nodelay ? ['--nodelay'] : []), ...(port ? ['--port', String(port)] : [])];
  py = spawn(PYTHON, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const [line] = (await once(py.stdout!, 'data')) as [Buffer];
  return `http://127.0.0.1:${Number(line.toString().trim())}`;
}

/** A logger whose warn lines the test can read. */
function capturingLogger() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...chunk.toString().trim().split('\n'));
      cb();
    },
  });
  return {
    logger: pino({ level: 'warn' }, sink),
    warnings: () => lines.map((l) => JSON.parse(l).msg as string),
  };
}

/**
 * Sequential traffic with pauses longer than the pooled sockets' idle time, so
 * some answers come on fresh connections, then a run on one kept-alive one.
 */
async function sequentialTraffic(s: Stack): Promise<void> {
  for (let i = 0; i < 4; i++) {
    expect((await s.get(`/idle/${i}`)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
  }
  for (let i = 0; i < 25; i++) expect((await s.get(`/busy/${i}`)).status).toBe(200);
}

async function verdicts(s: Stack): Promise<KeepAliveStallFinding[]> {
  return (await s.store.results.list('finding')).map((r) => r.value as KeepAliveStallFinding);
}
const findings = async (s: Stack) => (await verdicts(s)).filter((f) => f.stall);

describe('judgeStall', () => {
  it('needs enough samples, and a gap of a delayed ACK, not of a slow backend', () => {
    expect(judgeStall([2, 2], Array(30).fill(44))).toBeUndefined();
    expect(judgeStall([2, 2, 2], Array(19).fill(44))).toBeUndefined();
    expect(judgeStall([1.5, 2, 30], Array(20).fill(44))).toMatchObject({
      stall: true,
      freshP50Ms: 2,
      reusedP50Ms: 44,
    });
    expect(judgeStall([2, 2, 2], Array(20).fill(3))?.stall).toBe(false);
    // A busy machine slows some fresh answers too: the lower quartiles still tell.
    expect(judgeStall([2, 38, 40], [...Array(15).fill(44), 60, 80, 90, 120, 150])).toMatchObject({
      stall: true,
      freshP50Ms: 38,
    });
    // A backend slow on every connection is slow, not stalling.
    expect(judgeStall([300, 310, 290], Array(20).fill(340))?.stall).toBe(false);
    // A gap far past the 200 ms delayed-ACK maximum is something else.
    expect(judgeStall([2, 2, 2], Array(20).fill(900))?.stall).toBe(false);
  });
});

describe('keep-alive stall detection', { retry: 2 }, () => {
  it('reports an upstream that stalls on reused connections, once, in the log and the store', async () => {
    const url = await startNagleServer(false);
    const log = capturingLogger();
    stack = await startStack({ legacy: { url, keepAliveTimeoutMs: 150 } }, { logger: log.logger });
    await sequentialTraffic(stack);
    const [f, ...more] = await findings(stack);
    expect(more).toEqual([]);
    expect(f).toMatchObject({ kind: 'keepalive-stall', stall: true, upstream: 'legacy', origin: url });
    expect(f.reusedP50Ms).toBeGreaterThan(f.freshP50Ms);
    expect(f.advice).toContain('TCP_NODELAY');
    expect(f.advice).toContain('reuseConnections: false');
    // More of the same traffic: still one warning.
    await sequentialTraffic(stack);
    const warned = log.warnings().filter((m) => m.includes('stalls on kept-alive connections'));
    expect(warned).toHaveLength(1);
    expect(warned[0]).toContain(`upstream legacy (${url})`);
    expect(await findings(stack)).toHaveLength(1);
  });

  it('does not report the same server with TCP_NODELAY set, and saves a healthy verdict after a full window', async () => {
    const url = await startNagleServer(true);
    stack = await startStack({ legacy: { url, keepAliveTimeoutMs: 150 } });
    await sequentialTraffic(stack);
    expect(await verdicts(stack)).toEqual([]);
    for (let i = 0; i < 110; i++) expect((await stack.get(`/more/${i}`)).status).toBe(200);
    const [v, ...more] = await verdicts(stack);
    expect(more).toEqual([]);
    expect(v).toMatchObject({
      kind: 'keepalive-stall',
      stall: false,
      upstream: 'legacy',
      origin: url,
      reusedSamples: 128,
    });
  });

  it('notices the stall in sequential traffic on one kept-alive connection (issue 26)', async () => {
    // 40 requests one after another, never idle long enough for a fresh
    // connection: the watch asks for fresh ones itself to compare with.
    const url = await startNagleServer(false);
    stack = await startStack({ legacy: { url } });
    for (let i = 0; i < 40; i++) expect((await stack.get(`/seq/${i}`)).status).toBe(200);
    const [f, ...more] = await findings(stack);
    expect(more).toEqual([]);
    expect(f).toMatchObject({ stall: true, upstream: 'legacy', origin: url });
    expect(f.freshSamples).toBeGreaterThanOrEqual(3);
  });

  it('replaces the stall with a healthy verdict once the server is fixed, so the note goes (issue 26)', async () => {
    const url = await startNagleServer(false);
    stack = await startStack({ legacy: { url } });
    for (let i = 0; i < 40; i++) expect((await stack.get(`/seq/${i}`)).status).toBe(200);
    const config = parseConfig({ store: `sqlite:${stack.storeFile}`, legacy: { url } });
    expect(await readStallFindings(stack.store, config)).toHaveLength(1);
    // The fix: the same server restarted with TCP_NODELAY, on the same port.
    py!.stdin!.end();
    await once(py!, 'exit');
    await startNagleServer(true, Number(new URL(url).port));
    for (let i = 0; i < 200; i++) expect((await stack.get(`/fixed/${i}`)).status).toBe(200);
    const [latest] = await stack.store.results.list('finding');
    expect(latest.value).toMatchObject({ stall: false, upstream: 'legacy', origin: url });
    // What `strangler routes` and `report latency` show: no note any more.
    expect(await readStallFindings(stack.store, config)).toEqual([]);
  });

  it('does not watch an upstream configured with reuseConnections: false', async () => {
    const url = await startNagleServer(false);
    stack = await startStack({ legacy: { url, keepAliveTimeoutMs: 150, reuseConnections: false } });
    await sequentialTraffic(stack);
    expect(await verdicts(stack)).toEqual([]);
  });
});
