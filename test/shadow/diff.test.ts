import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type CapturedResponse, diffResponses } from '../../shadow/diff.js';

const json = (body: string, headers: Record<string, string> = {}): CapturedResponse => ({
  status: 200,
  headers: { 'content-type': 'application/json', ...headers },
  body: Buffer.from(body),
});
const brief = (a: CapturedResponse, b: CapturedResponse, o = {}) =>
  diffResponses(a, b, o).differences.map((d) => [d.path, d.kind, d.legacy, d.service]);

describe('diffResponses golden cases', () => {
  it('equal documents have no differences, whatever the key order and whitespace', () => {
    const d = diffResponses(json('{"a":1,"b":[1,2]}'), json('{ "b": [1, 2], "a": 1 }'));
    expect(d).toEqual({ differences: [], fields: [], json: true, truncated: false });
  });

  it('nested objects: changed value, missing and extra keys, by path', () => {
    const a = json('{"user":{"id":7,"name":"ann","address":{"city":"Oslo","zip":"0150"}}}');
    const b = json('{"user":{"id":7,"name":"Ann","address":{"city":"Oslo","country":"NO"}}}');
    expect(brief(a, b)).toEqual([
      ['$.user.name', 'changed', '"ann"', '"Ann"'],
      ['$.user.address.zip', 'missing', '"0150"', undefined],
      ['$.user.address.country', 'extra', undefined, '"NO"'],
    ]);
  });

  it('arrays: per-index paths generalised to [*] as the counting field; length differences', () => {
    const d = diffResponses(
      json('{"items":[{"n":"a","ts":1},{"n":"b","ts":2},{"n":"c","ts":3}]}'),
      json('{"items":[{"n":"a","ts":9},{"n":"b","ts":8},{"n":"c","ts":3}]}'),
    );
    expect(d.differences.map((x) => x.path)).toEqual(['$.items[0].ts', '$.items[1].ts']);
    expect(d.fields).toEqual(['$.items[*].ts']);
    expect(brief(json('[1,2,3]'), json('[1,5]'))).toEqual([
      ['$', 'length', '3', '2'],
      ['$[1]', 'changed', '2', '5'],
    ]);
  });

  it('order-only difference is its own kind, and ignoreArrayOrder drops it', () => {
    const a = json('{"tags":["x","y",{"k":1}]}');
    const b = json('{"tags":[{"k":1},"y","x"]}');
    expect(brief(a, b)).toEqual([['$.tags', 'order', '["x","y",{"k":1}]', '[{"k":1},"y","x"]']]);
    expect(brief(a, b, { ignoreArrayOrder: true })).toEqual([]);
    // Not a permutation: element differences are listed, not "order".
    expect(brief(json('[1,2]'), json('[2,3]'))).toEqual([
      ['$[0]', 'changed', '1', '2'],
      ['$[1]', 'changed', '2', '3'],
    ]);
  });

  it('"__proto__" is an ordinary key, on both parser paths', () => {
    expect(brief(json('{"__proto__":{"x":1}}'), json('{"__proto__":{"x":2}}'))).toEqual([
      ['$.__proto__.x', 'changed', '1', '2'],
    ]);
    expect(
      brief(json('{"__proto__":1,"n":12345678901234567891}'), json('{"n":12345678901234567891}')),
    ).toEqual([['$.__proto__', 'missing', '1', undefined]]);
  });

  it('type changes: number vs string, object vs null, array vs object', () => {
    expect(brief(json('{"a":1,"b":{"c":1},"d":[]}'), json('{"a":"1","b":null,"d":{}}'))).toEqual([
      ['$.a', 'type', '1', '"1"'],
      ['$.b', 'type', '{"c":1}', 'null'],
      ['$.d', 'type', '[]', '{}'],
    ]);
  });

  it('unicode: escapes and literal characters are the same string; real changes are reported', () => {
    expect(brief(json('{"s":"caf\\u00e9 ☕"}'), json('{"s":"café ☕"}'))).toEqual([]);
    expect(brief(json('{"s":"naïve 😀","k":"ü"}'), json('{"s":"naive 😀","k":"ü"}'))).toEqual([
      ['$.s', 'changed', '"naïve 😀"', '"naive 😀"'],
    ]);
    // Non-identifier keys are quoted in paths.
    expect(brief(json('{"größe":1,"a b":2}'), json('{"größe":2,"a b":3}'))).toEqual([
      ['$["größe"]', 'changed', '1', '2'],
      ['$["a b"]', 'changed', '2', '3'],
    ]);
  });

  it('large numbers beyond 2^53 compare by their text, not a lossy double', () => {
    // Both parse to the same double (12345678901234567000) but are different ids.
    expect(brief(json('{"id":12345678901234567891}'), json('{"id":12345678901234567892}'))).toEqual([
      ['$.id', 'changed', '12345678901234567891', '12345678901234567892'],
    ]);
    expect(brief(json('{"id":9007199254740993}'), json('{"id":9007199254740993}'))).toEqual([]);
    // One side exact-parsed (a 16-digit run), the other natively: still one number.
    expect(brief(json('{"a":1e21,"b":[1.5]}'), json('{"a":1000000000000000000000,"b":[1.5]}'))).toEqual([]);
    // Python writes 1.0 where JavaScript writes 1; 1e2 and 100 are one number.
    expect(brief(json('{"a":1.0,"b":1e2,"c":0.1}'), json('{"a":1,"b":100,"c":0.10}'))).toEqual([]);
  });

  it('status and headers: content-type always, others when named', () => {
    const a: CapturedResponse = {
      status: 200,
      headers: { 'content-type': 'text/plain', etag: '"1"' },
      body: Buffer.from('x'),
    };
    const b: CapturedResponse = {
      status: 404,
      headers: { 'Content-Type': 'text/html', ETag: '"2"' },
      body: Buffer.from('x'),
    };
    expect(brief(a, b)).toEqual([
      ['status', 'status', '200', '404'],
      ['header:content-type', 'header', 'text/plain', 'text/html'],
    ]);
    expect(brief(a, b, { compareHeaders: ['ETag'] }).map((d) => d[0])).toEqual([
      'status',
      'header:content-type',
      'header:etag',
    ]);
  });

  it('non-JSON bodies: text difference with an excerpt at the first differing character; bytes when not UTF-8', () => {
    const t = (s: string | Buffer, ct = 'text/plain') => ({
      status: 200,
      headers: { 'content-type': ct },
      body: Buffer.from(s),
    });
    expect(brief(t('hello world'), t('hello there'))).toEqual([
      ['body', 'text', 'hello world', 'hello there'],
    ]);
    const d = diffResponses(
      t(Buffer.from([0xff, 0x00, 0x01]), 'image/png'),
      t(Buffer.from([0xff, 0x00, 0x02]), 'image/png'),
    );
    expect(d.differences).toHaveLength(1);
    expect(d.differences[0].kind).toBe('bytes');
    expect(d.differences[0].legacy).toMatch(/^3 bytes sha256:[0-9a-f]{16}$/);
    expect(d.differences[0].legacy).not.toBe(d.differences[0].service);
    // JSON on one side only is a type change of the whole body.
    expect(brief(json('{"a":1}'), json('<html>oops</html>'))).toEqual([
      ['body', 'type', '{"a":1}', '<html>oops</html>'],
    ]);
  });

  it('gzip, br and deflate bodies are decoded before comparing', () => {
    const body = '{"a":1,"list":[1,2,3]}';
    const plain = json(body);
    const gz = json('', { 'content-encoding': 'gzip' });
    gz.body = gzipSync(body);
    const br = json('', { 'content-encoding': 'br' });
    br.body = brotliCompressSync(body);
    const df = json('', { 'content-encoding': 'deflate' });
    df.body = deflateSync(body);
    expect(brief(plain, gz)).toEqual([]);
    expect(brief(gz, br)).toEqual([]);
    expect(brief(br, df)).toEqual([]);
    const gz2 = json('', { 'content-encoding': 'gzip' });
    gz2.body = gzipSync('{"a":2,"list":[1,2,3]}');
    expect(brief(gz, gz2)).toEqual([['$.a', 'changed', '1', '2']]);
    const broken = json('', { 'content-encoding': 'gzip' });
    broken.body = Buffer.from('not gzip');
    expect(diffResponses(plain, broken).differences[0]).toMatchObject({ path: 'body', kind: 'undecodable' });
  });

  it('ignore patterns with wildcards drop fields (and everything below them) before counting', () => {
    const a = json('{"items":[{"id":1,"updated_at":"t1","meta":{"x":1}}],"etag":"a"}');
    const b = json('{"items":[{"id":2,"updated_at":"t2","meta":{"x":2}}],"etag":"b"}');
    expect(brief(a, b, { ignore: ['$.items[*].updated_at', '$.items[*].meta', '$.etag'] })).toEqual([
      ['$.items[0].id', 'changed', '1', '2'],
    ]);
    expect(brief(a, b, { ignore: ['$.*'] })).toEqual([]);
    expect(() => diffResponses(a, b, { ignore: ['items.x'] })).not.toThrow(); // non-$ entries name status/header fields
    expect(() => diffResponses(a, b, { ignore: ['$.items[x]'] })).toThrow(
      /shadow\.ignore\[0\]: bad JSON path/,
    );
  });

  it('stops listing at maxDifferences and says so', () => {
    const many = (v: number) =>
      json(JSON.stringify(Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, v]))));
    const d = diffResponses(many(1), many(2), { maxDifferences: 10 });
    expect(d.differences).toHaveLength(10);
    expect(d.truncated).toBe(true);
  });
});
