/**
 * replayCases against a real server on loopback: what is sent (never an unsafe
 * request unless the file says idempotent and the operator allows it; no
 * redaction markers), how answers are judged (the shadow diff, ignore rules,
 * header and per-case noise), and the verdict.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { replayCases } from '../../control/replay.js';
import type { ReplayCase, ReplayFile, ReplayHeader } from '../../shadow/recording-format.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}
let seen: Seen[] = [];
let server: http.Server;
let target = '';

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      res.setHeader('content-type', 'application/json');
      // The "service build": n is always 2, ts always new, name as legacy recorded it.
      res.end(JSON.stringify({ name: 'ann', n: 2, ts: Date.now(), when: 'now' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  target = `http://127.0.0.1:${(server.address() as AddressInfo).port}/base`;
});
afterAll(() => new Promise((r) => server.close(r)));
beforeEach(() => {
  seen = [];
});

const header = (over: Partial<ReplayHeader> = {}): ReplayHeader => ({
  format: 'strangler-replay',
  version: 1,
  route: 'block',
  match: { path: '/api/*' },
  idempotent: false,
  ignore: ['$.when'],
  compareHeaders: [],
  ignoreArrayOrder: false,
  noise: ['$.ts'],
  cases: 0,
  ...over,
});

function kase(
  id: string,
  over: Partial<ReplayCase['request']> = {},
  n = 2,
  noise: string[] = [],
): ReplayCase {
  return {
    id,
    at: '2026-01-01T00:00:00.000Z',
    request: { method: 'GET', url: `/api/${id}`, headers: { accept: 'application/json' }, ...over },
    legacy: {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: { text: JSON.stringify({ name: 'ann', n, ts: 1, when: 'then' }) },
    },
    noise,
    redacted: [],
  };
}

const file = (cases: ReplayCase[], over: Partial<ReplayHeader> = {}): ReplayFile => ({
  header: header({ cases: cases.length, ...over }),
  cases,
});
const opts = { target: '', concurrency: 3, allowUnsafe: false, timeoutMs: 5000 };

describe('replayCases', () => {
  it('passes when only ignored and noise fields differ; sends under the target base path without redaction markers', async () => {
    const r = await replayCases(
      'c.jsonl',
      file([kase('a', { headers: { authorization: '[redacted: authorization]', accept: 'x/y' } })]),
      {
        ...opts,
        target,
        headers: { Authorization: 'Bearer test' },
      },
    );
    expect(r).toMatchObject({ ok: true, total: 1, passed: 1, failed: 0, errors: 0, noise: { '$.ts': 1 } });
    expect(seen).toHaveLength(1);
    expect(seen[0].url).toBe('/base/api/a');
    expect(seen[0].headers.authorization).toBe('Bearer test');
    expect(seen[0].headers.accept).toBe('x/y');
  });

  it("fails naming the field, with an example pair; a case's own noise is tolerated for that case only", async () => {
    const r = await replayCases('c.jsonl', file([kase('a', {}, 1), kase('b', {}, 1, ['$.n']), kase('c')]), {
      ...opts,
      target,
    });
    expect(r).toMatchObject({ ok: false, passed: 2, failed: 1 });
    expect(r.fields).toEqual([
      expect.objectContaining({
        field: '$.n',
        cases: 1,
        example: expect.objectContaining({
          caseId: 'a',
          url: '/api/a',
          legacy: expect.objectContaining({ status: 200 }),
        }),
      }),
    ]);
    expect(r.fields[0].example.differences).toEqual([
      expect.objectContaining({ path: '$.n', legacy: '1', service: '2' }),
    ]);
    expect(r.cases.map((c) => c.verdict)).toEqual(['fail', 'pass', 'pass']);
  });

  it('never sends an unsafe request unless the file says idempotent and allowUnsafe is given; never one whose body was not kept', async () => {
    const post = kase('p', {
      method: 'POST',
      body: { text: '{"target":2}' },
      headers: { 'content-type': 'application/json' },
    });
    const omitted = kase('o', { method: 'POST', bodyOmitted: true });
    let r = await replayCases('c.jsonl', file([post, omitted, kase('g')]), {
      ...opts,
      target,
      allowUnsafe: true,
    });
    expect(r.skipped).toEqual({ unsafe: 1, 'body-not-recorded': 1 });
    expect(seen.map((s) => s.method)).toEqual(['GET']);
    seen = [];
    r = await replayCases('c.jsonl', file([post], { idempotent: true }), { ...opts, target });
    expect(r).toMatchObject({ ok: false, passed: 0, skipped: { 'unsafe-needs-allow-unsafe': 1 } });
    expect(seen).toEqual([]);
    r = await replayCases('c.jsonl', file([post, omitted], { idempotent: true }), {
      ...opts,
      target,
      allowUnsafe: true,
    });
    expect(r).toMatchObject({ ok: true, passed: 1, skipped: { 'body-not-recorded': 1 } });
    expect(seen.map((s) => [s.method, s.body])).toEqual([['POST', '{"target":2}']]);
  });

  it('a target that does not answer is an error per case, and the replay fails', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const r = await replayCases('c.jsonl', file([kase('a'), kase('b')]), {
      ...opts,
      target: `http://127.0.0.1:${port}`,
    });
    expect(r).toMatchObject({ ok: false, errors: 2, passed: 0 });
    expect(r.cases[0].reason).toBe('ECONNREFUSED');
  });
});
