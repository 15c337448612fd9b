/** The replay case file: canonical, reproducible text; a parser that names the line and field of a problem. */
import { describe, expect, it } from 'vitest';
import { isStranglerError } from '../../core/errors.js';
import {
  canonicalText,
  formatReplayFile,
  parseReplayFile,
  type StoredCase,
} from '../../shadow/recording-format.js';

const rules = (ignore: string[] = []) => ({
  match: { path: '/api/block/*', methods: ['GET'] },
  idempotent: false,
  ignore,
  compareHeaders: [],
  ignoreArrayOrder: false,
});

function stored(id: string, at: string, over: Partial<StoredCase> = {}): StoredCase {
  return {
    id,
    at,
    request: { method: 'GET', url: `/api/block/${id}`, headers: { accept: 'application/json', 'x-b': '1' } },
    legacy: {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: { text: `{"id":"${id}"}` },
    },
    noise: [],
    redacted: [],
    rules: rules(),
    ...over,
  };
}

function parseError(text: string): { message: string; details: unknown } {
  try {
    parseReplayFile(text, 'c.jsonl');
  } catch (err) {
    if (isStranglerError(err, 'STRANGLER_E_REPLAY_FILE'))
      return { message: err.message, details: err.details };
    throw err;
  }
  throw new Error('expected a STRANGLER_E_REPLAY_FILE error');
}

describe('replay case file format', () => {
  it('sorts keys at every level, so the same value is the same bytes', () => {
    expect(canonicalText({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null }, u: undefined })).toBe(
      '{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}',
    );
  });

  it('exports oldest first (ties by id) whatever order the store gave, with the newest rules in the header', () => {
    const a = stored('a', '2026-01-01T00:00:01.000Z');
    const b = stored('b', '2026-01-01T00:00:02.000Z', { rules: rules(['$.generated_at']) });
    const c = stored('c', '2026-01-01T00:00:01.000Z');
    const text = formatReplayFile('block', [b, c, a], ['$.n', '$.n', 'header:etag']);
    expect(formatReplayFile('block', [a, c, b], ['header:etag', '$.n'])).toBe(text);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(JSON.parse(lines[0])).toEqual({
      format: 'strangler-replay',
      version: 1,
      route: 'block',
      ...rules(['$.generated_at']),
      noise: ['$.n', 'header:etag'],
      cases: 3,
    });
    expect(lines.slice(1).map((l) => JSON.parse(l).id)).toEqual(['a', 'c', 'b']);
    expect(lines[1]).not.toContain('rules');
    expect(lines[1].startsWith('{"at":')).toBe(true);
    const parsed = parseReplayFile(text, 'c.jsonl');
    expect(parsed.header.cases).toBe(3);
    expect(parsed.cases[0]).toEqual((({ rules: _r, ...x }) => x)(a));
  });

  it('names the line and field of a bad case, a bad header, a newer version, a cut file', () => {
    const text = formatReplayFile(
      'block',
      [stored('a', '2026-01-01T00:00:01Z'), stored('b', '2026-01-01T00:00:02Z')],
      [],
    );
    const lines = text.trimEnd().split('\n');
    const withLine = (i: number, line: string) => lines.map((l, k) => (k === i ? line : l)).join('\n');

    const noStatus = JSON.parse(lines[2]);
    delete noStatus.legacy.status;
    expect(parseError(withLine(2, JSON.stringify(noStatus)))).toMatchObject({
      message: expect.stringMatching(/^c\.jsonl:3: legacy\.status: /),
      details: { file: 'c.jsonl', line: 3, field: 'legacy.status' },
    });
    expect(parseError(withLine(1, '{"id": "a",')).message).toMatch(/^c\.jsonl:2: \(line\): not JSON/);
    const method = JSON.parse(lines[1]);
    method.request.method = 'get';
    expect(parseError(withLine(1, JSON.stringify(method))).message).toMatch(
      /^c\.jsonl:2: request\.method: expected an HTTP method/,
    );
    expect(parseError(withLine(0, '{"format":"har","version":1}')).message).toMatch(
      /^c\.jsonl:1: format: expected "strangler-replay"/,
    );
    const newer = JSON.parse(lines[0]);
    newer.version = 2;
    expect(parseError(withLine(0, JSON.stringify(newer))).message).toMatch(
      /^c\.jsonl:1: version: format version 2 is newer/,
    );
    expect(parseError(lines.slice(0, 2).join('\n')).message).toMatch(
      /^c\.jsonl:1: cases: the header says 2 cases, the file holds 1/,
    );
    expect(parseError('').message).toMatch(/^c\.jsonl:1: \(header\): empty file/);
    const badIgnore = JSON.parse(lines[0]);
    badIgnore.ignore = ['$.ok', '$.['];
    expect(parseError(withLine(0, JSON.stringify(badIgnore)))).toMatchObject({
      message: expect.stringMatching(/^c\.jsonl:1: ignore\[1\]: bad JSON path "\$\.\["/),
      details: { line: 1, field: 'ignore[1]' },
    });
  });
});
