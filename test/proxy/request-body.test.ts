/**
 * Body intake (proxy/request-body.ts) and what a parked request costs
 * (issue 12: 1,600 parked 1 MiB bodies). A body the proxy will not hold
 * (over the budget, or declared larger than the hold) must cost at most the
 * socket read that came with its head plus the stream's high-water mark:
 * never a second 64 KiB read behind bytes the intake put back. Whatever the
 * outcome, the body then reaches its reader byte for byte.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.js';
import { ClientSignal } from '../../proxy/client-signal.js';
import { CLIENT_HIGH_WATER_MARK, clientConnectionOptions } from '../../proxy/connection-limits.js';
import { createContext } from '../../proxy/context.js';
import { BodyBudget, type IntakeOutcome, intakeBody } from '../../proxy/request-body.js';
import type { RequestContext } from '../../proxy/types.js';

const MiB = 1024 * 1024;
/** What one socket read brings at most (libuv's read size). */
const ONE_READ = 64 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** The data plane's client connection options (Node 22+ would otherwise buffer 64 KiB per stream, not 16). */
const CLIENT_OPTIONS = clientConnectionOptions(
  parseConfig({ store: 'sqlite::memory:', legacy: { url: 'http://127.0.0.1:1' }, routes: [] }).proxy,
);

interface Intake {
  ctx: RequestContext;
  outcome: IntakeOutcome;
  req: IncomingMessage;
  res: ServerResponse;
}

let server: Server | undefined;
const clients: Socket[] = [];

afterEach(async () => {
  for (const s of clients.splice(0)) s.destroy();
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/** A server that runs the intake on each request and hands the result to the test. */
async function intakeServer(
  budget: BodyBudget,
  holdBytes: number,
): Promise<{ port: number; next: () => Promise<Intake> }> {
  const waiting: Array<(i: Intake) => void> = [];
  server = createServer(CLIENT_OPTIONS, async (req, res) => {
    const ctx = createContext(req, res, new ClientSignal());
    const outcome = await intakeBody(ctx, budget, holdBytes);
    waiting.shift()?.({ ctx, outcome, req, res });
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { port, next: () => new Promise((r) => waiting.push(r)) };
}

/** Send head and body in one go, as a fast client does: far more than one read is waiting. */
function post(port: number, body: Buffer): void {
  const s = connect(port, '127.0.0.1');
  s.on('error', () => {});
  s.write(`POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`);
  s.write(body);
  clients.push(s);
}

/** Give the socket time to read more, if anything would still make it. */
const settle = () => new Promise((r) => setTimeout(r, 300));

async function readAll(ctx: RequestContext): Promise<Buffer> {
  const stream = ctx.body();
  if (!stream) throw new Error('no body');
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('body intake: what a request that is not held costs', () => {
  it('with the budget spent, a 1 MiB body is read no further than its first read while it waits', async () => {
    const budget = new BodyBudget(0);
    const { port, next } = await intakeServer(budget, 2 * MiB);
    const body = randomBytes(MiB);
    post(port, body);
    const got = await next();
    expect(got.outcome).toBe('streamed');
    await settle();
    // Before: the chunk in hand was put back and one more 64 KiB read landed behind it.
    expect(got.req.readableHighWaterMark).toBe(CLIENT_HIGH_WATER_MARK);
    expect(got.req.socket.bytesRead).toBeLessThanOrEqual(ONE_READ + CLIENT_HIGH_WATER_MARK);
    expect(budget.held).toBe(0);
    expect(sha(await readAll(got.ctx))).toBe(sha(body));
  });

  it('a body declared larger than the hold waits unread: no more than its first read plus the high-water mark', async () => {
    const budget = new BodyBudget(64 * MiB);
    const { port, next } = await intakeServer(budget, 64 * 1024);
    const body = randomBytes(MiB);
    post(port, body);
    const got = await next();
    expect(got.outcome).toBe('streamed');
    await settle();
    expect(got.req.readableHighWaterMark).toBe(CLIENT_HIGH_WATER_MARK);
    expect(got.req.socket.bytesRead).toBeLessThanOrEqual(ONE_READ + CLIENT_HIGH_WATER_MARK);
    // Nothing was held for it: it can never be replayed.
    expect(budget.held).toBe(0);
    expect(sha(await readAll(got.ctx))).toBe(sha(body));
  });

  it('a body over the hold is held up to the hold, charged to the budget, then streams whole', async () => {
    const budget = new BodyBudget(64 * MiB);
    // Chunked: no declared length, so the intake reads until the hold is full.
    const { port, next } = await intakeServer(budget, 200 * 1024);
    const body = randomBytes(MiB);
    const s = connect(port, '127.0.0.1');
    s.on('error', () => {});
    s.write(
      `POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n`,
    );
    s.write(body);
    s.write('\r\n0\r\n\r\n');
    clients.push(s);
    const got = await next();
    expect(got.outcome).toBe('streamed');
    await settle();
    expect(budget.held).toBeGreaterThan(0);
    expect(budget.held).toBeLessThanOrEqual(200 * 1024);
    // What the intake holds, plus at most one read and the mark left unread behind it.
    expect(got.req.socket.bytesRead).toBeLessThanOrEqual(
      200 * 1024 + ONE_READ + got.req.readableHighWaterMark + 100,
    );
    expect(sha(await readAll(got.ctx))).toBe(sha(body));
    got.res.end();
    await new Promise((r) => got.res.once('close', r));
    expect(budget.held).toBe(0);
  });

  it('a body within the hold and the budget is replayable, twice, byte for byte', async () => {
    const budget = new BodyBudget(64 * MiB);
    const { port, next } = await intakeServer(budget, 2 * MiB);
    const body = randomBytes(MiB);
    post(port, body);
    const got = await next();
    expect(got.outcome).toBe('replayable');
    expect(budget.held).toBe(body.length);
    expect(sha(await readAll(got.ctx))).toBe(sha(body));
    expect(sha(await readAll(got.ctx))).toBe(sha(body));
  });

  it('a small body arriving with its head is held whole', async () => {
    const budget = new BodyBudget(64 * MiB);
    const { port, next } = await intakeServer(budget, 64 * 1024);
    post(port, Buffer.from('{"a":1}'));
    const got = await next();
    expect(got.outcome).toBe('replayable');
    expect((await readAll(got.ctx)).toString()).toBe('{"a":1}');
  });
});
