import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack, startUpstream, type TestUpstream } from './helpers.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const accept = (key: string) =>
  createHash('sha1')
    .update(key + GUID)
    .digest('base64');

/** A one-frame text frame (payload < 126 bytes), masked when sent by a client (RFC 6455 §5.3). */
function frame(text: string, mask: boolean): Buffer {
  const payload = Buffer.from(text);
  const head = Buffer.from([0x81, (mask ? 0x80 : 0) | payload.length]);
  if (!mask) return Buffer.concat([head, payload]);
  const key = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((b, i) => b ^ key[i % 4]));
  return Buffer.concat([head, key, masked]);
}

function unframe(buf: Buffer): string {
  const len = buf[1] & 0x7f;
  if (buf[1] & 0x80) {
    const key = buf.subarray(2, 6);
    return Buffer.from(buf.subarray(6, 6 + len).map((b, i) => b ^ key[i % 4])).toString();
  }
  return buf.subarray(2, 2 + len).toString();
}

/** Handshake through the proxy, send one frame, return the 101 head and the echoed text. */
function wsRoundTrip(
  port: number,
  path: string,
  text: string,
  extraHeaders = '',
): Promise<{ head: string; echo: string }> {
  return new Promise((resolve, reject) => {
    const sock: Socket = connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let head = '';
    const key = Buffer.from('0123456789abcdef').toString('base64');
    sock.on('error', reject);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!head) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        head = buf.subarray(0, end).toString();
        buf = buf.subarray(end + 4);
        if (!head.startsWith('HTTP/1.1 101')) {
          sock.destroy();
          resolve({ head, echo: '' });
          return;
        }
        expect(head.toLowerCase()).toContain(`sec-websocket-accept: ${accept(key).toLowerCase()}`);
        sock.write(frame(text, true));
      }
      if (buf.length >= 2 && buf.length >= 2 + (buf[1] & 0x7f)) {
        sock.destroy();
        resolve({ head, echo: unframe(buf) });
      }
    });
    sock.on('close', () => resolve({ head, echo: '' }));
    sock.write(
      `GET ${path} HTTP/1.1\r\nHost: t\r\n${extraHeaders}Upgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
}

/** Upgrades each echo upstream accepted, by name. */
const upgrades: Record<string, number> = {};

function echoUpstream(name: string): Promise<TestUpstream> {
  return startUpstream(
    (_req, res) => res.end(name),
    (server) => {
      server.on('upgrade', (req, socket: Socket) => {
        upgrades[name] = (upgrades[name] ?? 0) + 1;
        const key = String(req.headers['sec-websocket-key']);
        socket.write(
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            `Sec-WebSocket-Accept: ${accept(key)}\r\n\r\n`,
        );
        socket.once('data', (d: Buffer) => socket.write(frame(`${name}:${unframe(d)}`, false)));
        socket.on('error', () => {});
      });
    },
  );
}

describe('WebSocket upgrades pass through to the chosen side', () => {
  let legacy: TestUpstream;
  let service: TestUpstream;
  let stack: Stack;

  beforeAll(async () => {
    legacy = await echoUpstream('legacy');
    service = await echoUpstream('service');
    stack = await startStack({
      legacy: { url: legacy.url },
      services: { chat: { url: service.url }, gone: { url: 'http://127.0.0.1:1' } },
      routes: [
        { id: 'chat', match: { path: '/ws/chat' }, service: 'chat', mode: 'service' },
        { id: 'gone', match: { path: '/ws/gone' }, service: 'gone', mode: 'service' },
      ],
    });
  });

  afterAll(async () => {
    await stack?.close();
    await legacy?.close();
    await service?.close();
  });

  it('a service-mode route tunnels to the service', async () => {
    const r = await wsRoundTrip(stack.proxy.port, '/ws/chat', 'hello');
    expect(r.head).toMatch(/^HTTP\/1\.1 101/);
    expect(r.echo).toBe('service:hello');
  });

  it('unmatched upgrades go to legacy', async () => {
    const r = await wsRoundTrip(stack.proxy.port, '/ws/other', 'hi');
    expect(r.echo).toBe('legacy:hi');
  });

  it('an upgrade with two Host headers gets 400 and never reaches an upstream', async () => {
    const before = { ...upgrades };
    const r = await wsRoundTrip(stack.proxy.port, '/ws/chat', 'x', 'Host: other.test\r\n');
    expect(r.head).toMatch(/^HTTP\/1\.1 400/);
    expect(r.head).toContain('content-type: application/json');
    expect(r.echo).toBe('');
    expect(upgrades).toEqual(before);
    expect((await wsRoundTrip(stack.proxy.port, '/ws/chat', 'ok')).echo).toBe('service:ok');
    expect(upgrades.service).toBe((before.service ?? 0) + 1);
  });

  it('a refused upstream closes the client socket and the proxy keeps running', async () => {
    const r = await wsRoundTrip(stack.proxy.port, '/ws/gone', 'x');
    expect(r.echo).toBe('');
    const again = await wsRoundTrip(stack.proxy.port, '/ws/chat', 'still here');
    expect(again.echo).toBe('service:still here');
    expect((await stack.get('/plain')).body).toBe('legacy');
  });
});
