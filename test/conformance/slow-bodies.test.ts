/**
 * Bounded resources (issue 12): a slow uploader never holds an upstream
 * connection it is not using, a stalled or crawling body is answered 408,
 * one global cap bounds the bodies held for resending, and the listener
 * has a connection cap with a metric.
 */
import { connect, type Socket } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../proxy/helpers.js';
import { type RawUpstream, sendRaw, startRawUpstream } from './raw-tcp.js';

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

/** Read what comes back on a socket until it closes (or `ms` pass). */
function answerOf(s: Socket, ms = 15_000): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    const t = setTimeout(() => resolve(out), ms);
    s.on('data', (d) => {
      out += d.toString('latin1');
    });
    s.on('close', () => {
      clearTimeout(t);
      resolve(out);
    });
    s.on('error', () => {});
  });
}

describe('slow request bodies', () => {
  let service: RawUpstream;
  let legacy: RawUpstream;
  let stack: Stack;

  beforeAll(async () => {
    service = await startRawUpstream();
    legacy = await startRawUpstream();
    stack = await startStack(
      {
        legacy: { url: legacy.url },
        // Four pooled connections: four slow uploaders holding them would starve every GET.
        services: { svc: { url: service.url, connections: 4 } },
        proxy: { bodyIdleTimeoutMs: 800, bodyMinBytesPerSecond: 20, requestBufferBytes: 1024 },
        routes: [
          {
            id: 'up',
            match: { path: '/up/*' },
            service: 'svc',
            mode: 'service',
            failover: { enabled: false },
          },
        ],
      },
      { clientConnections: 64 },
    );
  });

  afterAll(async () => {
    await stack?.close();
    await service?.close();
    await legacy?.close();
  });

  it('a body that stalls before the hold size is answered 408 and never reaches the upstream', async () => {
    const before = service.seen.length;
    const s = await open(stack.proxy.port);
    const answer = answerOf(s);
    s.write('POST /up/stall HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n12345');
    const text = await answer;
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(text).toContain('STRANGLER_E_REQUEST_TIMEOUT');
    expect(service.seen.length).toBe(before);
  });

  it('a body that keeps crawling below the minimum rate is answered 408 too', async () => {
    const s = await open(stack.proxy.port);
    const answer = answerOf(s);
    s.write('POST /up/crawl HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n');
    // A byte every 100 ms: never idle for 800 ms, but 10 B/s < 20 B/s.
    const t = setInterval(() => s.writable && s.write('a'), 100);
    const text = await answer;
    clearInterval(t);
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('a large body that stalls while streaming to the upstream is cut with 408', async () => {
    const s = await open(stack.proxy.port);
    const answer = answerOf(s);
    s.write(`POST /up/big HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n${'b'.repeat(4096)}`);
    const text = await answer;
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('12 slow uploaders on a 4-connection service do not starve GETs on the same route', async () => {
    const uploaders: Socket[] = [];
    for (let i = 0; i < 12; i++) {
      const s = await open(stack.proxy.port);
      s.on('error', () => {});
      s.write('POST /up/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\nx');
      uploaders.push(s);
    }
    // Keep them alive (above the minimum rate) without ever reaching the hold size.
    const trickle = setInterval(() => {
      for (const s of uploaders) if (s.writable) s.write('xxxxxxxxxxxxxxxxxxxxxxxxx');
    }, 500);
    try {
      const gets = Array.from({ length: 40 }, (_, i) =>
        request(`${stack.proxy.url}/up/get-${i}`, { dispatcher: stack.agent }).then(async (r) => {
          await r.body.text();
          return r.statusCode;
        }),
      );
      const hung = new Promise<string>((r) => setTimeout(() => r('hung'), 20_000).unref());
      const statuses = await Promise.race([Promise.all(gets), hung]);
      expect(statuses).toEqual(Array(40).fill(200));
      // The uploaders were still connected while the GETs were served.
      expect(uploaders.filter((s) => !s.destroyed).length).toBe(12);
    } finally {
      clearInterval(trickle);
      for (const s of uploaders) s.destroy();
    }
  });
});

describe('one global cap on bodies held for resending', () => {
  let legacy: RawUpstream;

  beforeAll(async () => {
    legacy = await startRawUpstream();
  });
  afterAll(async () => {
    await legacy?.close();
  });

  async function postThrough(maxBufferedBodyBytes: number): Promise<{ status?: number; legacyGot: number }> {
    const stack: Stack = await startStack({
      legacy: { url: legacy.url },
      // Nothing listens on port 1: every service attempt is refused.
      services: { svc: { url: 'http://127.0.0.1:1' } },
      proxy: { maxBufferedBodyBytes },
      routes: [{ id: 'w', match: { path: '/w' }, service: 'svc', mode: 'service', idempotent: true }],
    });
    try {
      const before = legacy.seen.length;
      const body = 'z'.repeat(8000);
      const r = await sendRaw(
        stack.proxy.port,
        `POST /w HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      );
      return { status: r.statuses.at(-1), legacyGot: legacy.seen.length - before };
    } finally {
      await stack.close();
    }
  }

  it('within the cap the body is kept and resent to legacy when the service is down', async () => {
    expect(await postThrough(1024 * 1024)).toEqual({ status: 200, legacyGot: 1 });
  });

  it('over the cap the request still flows (streamed) but is not resendable: 502, legacy untouched', async () => {
    const r = await postThrough(0);
    expect(r).toEqual({ status: 502, legacyGot: 0 });
  });
});

describe('connection cap on the data-plane listener', () => {
  let legacy: RawUpstream;
  let stack: Stack;
  beforeAll(async () => {
    legacy = await startRawUpstream();
    stack = await startStack({ legacy: { url: legacy.url }, proxy: { maxConnections: 20 } });
  });
  afterAll(async () => {
    await stack?.close();
    await legacy?.close();
  });

  it('closes connections over the cap at once, counts them, and serves again once below it', async () => {
    const socks: Socket[] = [];
    for (let i = 0; i < 30; i++) {
      const s = await open(stack.proxy.port);
      s.on('error', () => {});
      socks.push(s);
    }
    await new Promise((r) => setTimeout(r, 300));
    const text = await stack.proxy.metrics();
    const dropped = Number(/strangler_connections_dropped_total (\d+)/.exec(text)?.[1]);
    expect(dropped).toBe(10);
    expect(text).toMatch(/strangler_connections_max 20/);
    expect(socks.filter((s) => s.destroyed || s.readableEnded).length).toBe(10);
    for (const s of socks) s.destroy();
    await new Promise((r) => setTimeout(r, 200));
    const r = await sendRaw(stack.proxy.port, 'GET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(r.statuses).toEqual([200]);
  });
});
