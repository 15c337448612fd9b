/** The replay reporters: pure renderers whose exit code is the replay's verdict. */
import { describe, expect, it } from 'vitest';
import type { ReplayResult } from '../../control/replay.js';
import { REPLAY_REPORTERS } from '../../reports/replay/index.js';

function result(over: Partial<ReplayResult> = {}): ReplayResult {
  return {
    ok: false,
    file: 'cases.jsonl',
    route: 'block',
    target: 'http://127.0.0.1:9000',
    total: 4,
    passed: 1,
    failed: 1,
    errors: 1,
    skipped: { unsafe: 1 },
    durationMs: 1234,
    concurrency: 8,
    fields: [
      {
        field: '$.count',
        cases: 1,
        example: {
          caseId: 'abc123',
          method: 'GET',
          url: '/api/block/1?a=<b>&c',
          differences: [{ path: '$.count', field: '$.count', kind: 'changed', legacy: '2', service: '3' }],
          legacy: { status: 200, body: '{"count":2}' },
          service: { status: 200, body: '{"count":3}' },
        },
      },
    ],
    noise: { '$.generated_at': 2 },
    cases: [
      {
        id: 'p1',
        method: 'GET',
        url: '/api/block/2',
        verdict: 'pass',
        fields: [],
        noise: ['$.generated_at'],
        durationMs: 3,
      },
      {
        id: 'abc123',
        method: 'GET',
        url: '/api/block/1?a=<b>&c',
        verdict: 'fail',
        fields: ['$.count'],
        noise: [],
        durationMs: 4,
      },
      {
        id: 'e1',
        method: 'GET',
        url: '/api/block/3',
        verdict: 'error',
        fields: [],
        noise: [],
        reason: 'ECONNRESET',
        durationMs: 5,
      },
      {
        id: 's1',
        method: 'POST',
        url: '/api/block/3',
        verdict: 'skipped',
        fields: [],
        noise: [],
        reason: 'unsafe',
        durationMs: 0,
      },
    ],
    ...over,
  };
}

describe('replay reporters', () => {
  it('text: counts, skips in words, noise, each differing field with an example pair; exit 1 on a failure', () => {
    const out = REPLAY_REPORTERS.text(result());
    expect(out.exitCode).toBe(1);
    expect(out.output).toContain('1 passed, 1 failed, 1 errors, 1 skipped');
    expect(out.output).toContain('skipped 1: an unsafe method on a route the file does not mark idempotent');
    expect(out.output).toContain('tolerated as noise: $.generated_at (2)');
    expect(out.output).toContain('$.count  in 1 case; e.g. case abc123: GET /api/block/1?a=<b>&c');
    expect(out.output).toContain('$.count (changed): legacy 2  service 3');
    expect(out.output).toContain('case e1: GET /api/block/3: ECONNRESET');
    expect(out.output.trimEnd().split('\n').at(-1)).toMatch(/^FAIL: 2 cases differ/);
    const pass = REPLAY_REPORTERS.text(result({ ok: true, failed: 0, errors: 0, fields: [], cases: [] }));
    expect(pass.exitCode).toBe(0);
    expect(pass.output).toContain('PASS: nothing but noise differs');
  });

  it('junit: one testcase per case with failure, error and skipped elements, escaped', () => {
    const out = REPLAY_REPORTERS.junit(result());
    expect(out.exitCode).toBe(1);
    expect(out.output).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="strangler replay" tests="4" failures="1" errors="1" skipped="1" time="1.234">/,
    );
    expect(out.output).toContain(
      '<testcase classname="replay.block" name="GET /api/block/2 [p1]" time="0.003"/>',
    );
    expect(out.output).toContain('name="GET /api/block/1?a=&lt;b&gt;&amp;c [abc123]"');
    expect(out.output).toContain(
      '<failure message="differs from legacy: $.count" type="mismatch">$.count: legacy 2, service 3 (example: case abc123)</failure>',
    );
    expect(out.output).toContain('<error message="no answer: ECONNRESET" type="ECONNRESET"/>');
    expect(out.output).toMatch(/<skipped message="an unsafe method[^"]*"\/>/);
    expect(out.output.trimEnd().endsWith('</testsuites>')).toBe(true);
  });

  it('json and html carry the same verdict', () => {
    const json = REPLAY_REPORTERS.json(result());
    expect(JSON.parse(json.output)).toMatchObject({ ok: false, failed: 1, fields: [{ field: '$.count' }] });
    expect(json.exitCode).toBe(1);
    const html = REPLAY_REPORTERS.html(result({ ok: true }));
    expect(html.exitCode).toBe(0);
    expect(html.output).toContain('data-testid="verdict"><strong>PASS</strong>');
    expect(html.output).toContain('<code>GET /api/block/1?a=&lt;b&gt;&amp;c</code>');
    expect(html.output).not.toContain('<script>');
  });
});
