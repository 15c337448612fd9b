/**
 * Raw-TCP tools for the edge conformance suite: a client that writes exact
 * bytes and reads whatever comes back, and an upstream that parses requests
 * itself (strictly: Content-Length or chunked, nothing else) and records
 * exactly what it parsed — so a test can assert what reached an upstream,
 * not what the proxy meant to send.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface ParsedRequest {
  method: string;
  target: string;
  version: string;
  /** Header fields in order, names lowercased. */
  headers: Array<[string, string]>;
  body: Buffer;
}

export function header(r: ParsedRequest, name: string): string | undefined {
  return r.headers.find(([n]) => n === name)?.[1];
}

export function headerCount(r: ParsedRequest, name: string): number {
  return r.headers.filter(([n]) => n === name).length;
}

export interface RawUpstream {
  port: number;
  url: string;
  /** Every request parsed so far, across connections. */
  seen: ParsedRequest[];
  /** Bytes that could not be parsed as a request (a desync shows up here). */
  garbage: string[];
  close(): Promise<void>;
}

/** Raw bytes to answer a parsed request with; default 200 with a short body. */
export type RawResponder = (req: ParsedRequest) => string | Buffer;

const OK: RawResponder = () => 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok';

export async function startRawUpstream(respond: RawResponder = OK): Promise<RawUpstream> {
  const seen: ParsedRequest[] = [];
  const garbage: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const got = parseOne(buf);
        if (got === 'incomplete') return;
        if (got === 'bad') {
          garbage.push(buf.toString('latin1'));
          sock.destroy();
          return;
        }
        buf = buf.subarray(got.used);
        seen.push(got.req);
        sock.write(respond(got.req));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    seen,
    garbage,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

function parseOne(buf: Buffer): { req: ParsedRequest; used: number } | 'incomplete' | 'bad' {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return buf.length > 64 * 1024 ? 'bad' : 'incomplete';
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^([A-Z]+) (\S+) HTTP\/(1\.[01])$/.exec(lines[0]);
  if (!m) return 'bad';
  const headers: Array<[string, string]> = [];
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i <= 0 || /\s/.test(line[0])) return 'bad';
    headers.push([line.slice(0, i).toLowerCase(), line.slice(i + 1).trim()]);
  }
  const req: ParsedRequest = { method: m[1], target: m[2], version: m[3], headers, body: Buffer.alloc(0) };
  let at = end + 4;
  const te = headers.filter(([n]) => n === 'transfer-encoding');
  const cl = headers.filter(([n]) => n === 'content-length');
  if (te.length > 0 && cl.length > 0) return 'bad';
  if (te.length > 0) {
    if (te.length > 1 || te[0][1].toLowerCase() !== 'chunked') return 'bad';
    const parts: Buffer[] = [];
    for (;;) {
      const eol = buf.indexOf('\r\n', at);
      if (eol < 0) return 'incomplete';
      const size = Number.parseInt(buf.subarray(at, eol).toString('latin1'), 16);
      if (!Number.isFinite(size)) return 'bad';
      at = eol + 2;
      if (size === 0) {
        const fin = buf.indexOf('\r\n', at);
        if (fin < 0) return 'incomplete';
        at = fin + 2;
        break;
      }
      if (buf.length < at + size + 2) return 'incomplete';
      parts.push(buf.subarray(at, at + size));
      at += size + 2;
    }
    req.body = Buffer.concat(parts);
  } else if (cl.length > 0) {
    if (cl.length > 1) return 'bad';
    const n = Number(cl[0][1]);
    if (buf.length < at + n) return 'incomplete';
    req.body = Buffer.from(buf.subarray(at, at + n));
    at += n;
  }
  return { req, used: at };
}

export interface RawExchange {
  /** Everything the proxy wrote back. */
  text: string;
  /** Status codes of every response head in `text`, in order (1xx included). */
  statuses: number[];
  /** Response headers of the last head, names lowercased. */
  headers: Record<string, string>;
  /** Whether the proxy closed the connection before the timeout. */
  closed: boolean;
}

/** Write `bytes` to the proxy and collect the answer until it closes or `waitMs` of silence passes. */
export function sendRaw(port: number, bytes: string | Buffer, waitMs = 1500): Promise<RawExchange> {
  return sendRawSteps(port, [bytes], waitMs);
}

/**
 * Like sendRaw, with pauses: `steps` are bytes to write and numbers of
 * milliseconds to wait between writes (e.g. stray bytes 50 ms after a request).
 * The silence timer starts after the last write.
 */
export function sendRawSteps(
  port: number,
  steps: Array<string | Buffer | number>,
  waitMs = 1500,
): Promise<RawExchange> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout;
    let closed = false;
    const done = () => {
      clearTimeout(timer);
      sock.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      resolve({ text, ...splitResponses(text), closed });
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(done, waitMs);
    };
    sock.on('connect', async () => {
      for (const step of steps) {
        if (typeof step === 'number') await new Promise((r) => setTimeout(r, step));
        else if (!sock.destroyed) sock.write(step);
      }
      arm();
    });
    sock.on('data', (c: Buffer) => {
      chunks.push(c);
      arm();
    });
    sock.on('error', () => {});
    sock.on('close', () => {
      closed = true;
      done();
    });
  });
}

/** Walk the answers one by one (heads, then bodies by Content-Length or chunked). */
function splitResponses(text: string): { statuses: number[]; headers: Record<string, string> } {
  const statuses: number[] = [];
  let headers: Record<string, string> = {};
  let at = 0;
  while (at < text.length) {
    const end = text.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const lines = text.slice(at, end).split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
    if (!m) break;
    const status = Number(m[1]);
    statuses.push(status);
    headers = {};
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
    }
    at = end + 4;
    if (status < 200) continue;
    if (headers['content-length'] !== undefined) at += Number(headers['content-length']);
    else if (headers['transfer-encoding'] === 'chunked') {
      for (;;) {
        const eol = text.indexOf('\r\n', at);
        if (eol < 0) return { statuses, headers };
        const size = Number.parseInt(text.slice(at, eol), 16);
        at = eol + 2 + size + 2;
        if (size === 0) break;
      }
    } else break;
  }
  return { statuses, headers };
}

/** A minimal request: `req('GET', '/x')` with Host and Connection: close. */
export function req(method: string, target: string, extra = '', body = ''): string {
  const len = body ? `Content-Length: ${Buffer.byteLength(body)}\r\n` : '';
  return `${method} ${target} HTTP/1.1\r\nHost: proxy.test\r\n${extra}${len}Connection: close\r\n\r\n${body}`;
}
