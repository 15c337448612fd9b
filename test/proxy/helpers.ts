/**
 * Shared set-up for the proxy tests: real upstream servers on listen(0), a
 * real SQLite store file in a temp dir, a proxy on port 0.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import { parseConfig } from '../../core/config.js';
import type { Logger } from '../../core/log.js';
import type { ShadowHook } from '../../shadow/types.js';
import { type ProxyServer, startProxy } from '../../proxy/server.js';
import { openStore } from '../../store/open.js';
import type { Store } from '../../store/types.js';

export interface TestUpstream {
  server: Server;
  url: string;
  port: number;
  /** Sockets currently open on this upstream. */
  openSockets(): number;
  /** Requests received so far (method, url, headers). */
  seen: Array<{ method: string; url: string; headers: IncomingMessage['headers'] }>;
  close(): Promise<void>;
}

export async function startUpstream(
  handler: RequestListener,
  setup?: (s: Server) => void,
): Promise<TestUpstream> {
  const seen: TestUpstream['seen'] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    handler(req, res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  setup?.(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    openSockets: () => sockets.size,
    seen,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** An upstream answering a small JSON naming itself, echoing method and url. */
export function jsonUpstream(name: string): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.stringify({
        from: name,
        method: req.method,
        url: req.url,
        body: Buffer.concat(chunks).toString(),
      });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  };
}

export interface Stack {
  proxy: ProxyServer;
  store: Store;
  storeFile: string;
  /** An undici agent for test clients (keep-alive), closed by close(). */
  agent: Agent;
  get(
    path: string,
    headers?: Record<string, string>,
  ): Promise<{ status: number; headers: Record<string, unknown>; body: string }>;
  close(): Promise<void>;
}

/** A store seeded from the config, a proxy in this process, a client agent. */
export async function startStack(
  rawConfig: Record<string, unknown>,
  opts: { shadow?: ShadowHook; clientConnections?: number; logger?: Logger; pointsToken?: string } = {},
): Promise<Stack> {
  const dir = mkdtempSync(path.join(tmpdir(), 'strangler-proxy-'));
  const storeFile = path.join(dir, 'state.db');
  const config = parseConfig({ store: `sqlite:${storeFile}`, ...rawConfig });
  const store = await openStore(config.store);
  await store.routes.seed(
    config.routes.map((r) => ({ id: r.id, mode: r.mode, weight: r.weight })),
    'test',
  );
  const proxy = await startProxy({
    config,
    store,
    shadow: opts.shadow,
    logger: opts.logger,
    pointsToken: opts.pointsToken,
    listen: { host: '127.0.0.1', port: 0 },
  });
  const agent = new Agent({ connections: opts.clientConnections ?? 64 });
  return {
    proxy,
    store,
    storeFile,
    agent,
    async get(p, headers) {
      const r = await request(`${proxy.url}${p}`, { dispatcher: agent, headers });
      return { status: r.statusCode, headers: r.headers, body: await r.body.text() };
    },
    async close() {
      await agent.close();
      await proxy.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
