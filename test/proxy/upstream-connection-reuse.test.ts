/**
 * The per-upstream connection options for servers that stall on kept-alive
 * connections: `reuseConnections: false` opens a fresh connection for every
 * request, `maxRequestsPerConnection: N` closes each after N. Counted at the
 * upstream, per socket, over sequential requests through a real proxy.
 */
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type Stack, startStack, startUpstream, type TestUpstream } from './helpers.js';

const REQUESTS = 12;

let upstream: TestUpstream | undefined;
let stack: Stack | undefined;

afterEach(async () => {
  await stack?.close();
  await upstream?.close();
  stack = undefined;
  upstream = undefined;
});

/** Requests answered on each upstream socket, in the order the sockets opened. */
async function requestsPerSocket(
  legacy: Record<string, unknown>,
): Promise<{ counts: number[]; connection: string[] }> {
  const perSocket = new Map<Socket, number>();
  upstream = await startUpstream((req, res) => {
    perSocket.set(req.socket, (perSocket.get(req.socket) ?? 0) + 1);
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
    res.end('ok');
  });
  stack = await startStack({ legacy: { url: upstream.url, ...legacy } });
  for (let i = 0; i < REQUESTS; i++) {
    const r = await stack.get(`/item/${i}`);
    expect(r.status).toBe(200);
    expect(r.body).toBe('ok');
  }
  return {
    counts: [...perSocket.values()],
    connection: upstream.seen.map((s) => String(s.headers.connection)),
  };
}

describe('upstream connection reuse options', () => {
  it('by default, sequential requests share one kept-alive connection', async () => {
    const { counts, connection } = await requestsPerSocket({});
    expect(counts).toEqual([REQUESTS]);
    expect(new Set(connection)).toEqual(new Set(['keep-alive']));
  });

  it('reuseConnections: false sends Connection: close and opens a connection per request', async () => {
    const { counts, connection } = await requestsPerSocket({ reuseConnections: false });
    expect(counts).toEqual(Array(REQUESTS).fill(1));
    expect(new Set(connection)).toEqual(new Set(['close']));
  });

  it('maxRequestsPerConnection: 1 is the same as no reuse', async () => {
    const { counts } = await requestsPerSocket({ maxRequestsPerConnection: 1 });
    expect(counts).toEqual(Array(REQUESTS).fill(1));
  });

  it('maxRequestsPerConnection: 3 answers exactly three requests per connection', async () => {
    const { counts, connection } = await requestsPerSocket({ maxRequestsPerConnection: 3 });
    expect(counts).toEqual(Array(REQUESTS / 3).fill(3));
    // The third request on each connection announces the close.
    expect(connection.filter((c) => c === 'close')).toHaveLength(REQUESTS / 3);
  });
});
