/**
 * The kill/restart scenario shared by the fault tests: keep-alive clients
 * hammer a service-mode route while the service is SIGKILLed and restarted
 * on the same port; every answer is recorded with its request id.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import type { BreakerEvent } from '../../proxy/breaker.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const LEDGER_SERVICE = path.join(HERE, '../fixtures/failover/service.mjs');

export interface LedgerChild {
  port: number;
  child: ChildProcess;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Start the ledger-keeping stand-in as a real child process (so SIGKILL is real). */
export function startLedgerService(opts: {
  port: number;
  ledger: string;
  name: string;
}): Promise<LedgerChild> {
  const child = spawn(
    process.execPath,
    [LEDGER_SERVICE, '--port', String(opts.port), '--ledger', opts.ledger, '--name', opts.name],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ledger service did not listen in 10 s: ${err}`));
    }, 10_000);
    child.stderr!.on('data', (c: Buffer) => (err += c));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`ledger service exited (${code}) before listening: ${err}`));
    });
    child.stdout!.on('data', (c: Buffer) => {
      out += c;
      const m = /LISTENING (\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        port: Number(m[1]),
        child,
        kill: async (signal) => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          await exited;
        },
      });
    });
  });
}

export interface Outcome {
  method: 'GET' | 'POST';
  id: string;
  status: number;
  target: string | undefined;
  failover: string | undefined;
  /** Body of a non-2xx answer. */
  body?: string;
  /** A transport error at the client (the proxy dropped the connection). */
  error?: string;
  at: number;
}

/**
 * `clients` keep-alive loops alternating GET and POST until stop() is called.
 * Each request carries a unique x-request-id that the ledgers record.
 */
export function runClients(opts: {
  url: string;
  clients: number;
  getPath: (i: number) => string;
  post: (i: number) => { path: string; body: string };
}) {
  const agent = new Agent({ connections: opts.clients, pipelining: 1, keepAliveTimeout: 30_000 });
  const outcomes: Outcome[] = [];
  let running = true;
  let seq = 0;
  const worker = async (w: number) => {
    for (let i = 0; running; i++) {
      const n = seq++;
      const method = i % 2 === 0 ? 'GET' : 'POST';
      const id = `w${w}-${i}-${n}`;
      const p = method === 'POST' ? opts.post(n) : undefined;
      try {
        const r = await request(`${opts.url}${p ? p.path : opts.getPath(n)}`, {
          method,
          dispatcher: agent,
          headers: { 'x-request-id': id, ...(p ? { 'content-type': 'application/json' } : {}) },
          body: p?.body,
        });
        const text = await r.body.text();
        outcomes.push({
          method,
          id,
          status: r.statusCode,
          target: r.headers['x-strangler-target'] as string | undefined,
          failover: r.headers['x-strangler-failover'] as string | undefined,
          ...(r.statusCode >= 300 ? { body: text } : {}),
          at: Date.now(),
        });
      } catch (err) {
        outcomes.push({
          method,
          id,
          status: 0,
          target: undefined,
          failover: undefined,
          error: String(err),
          at: Date.now(),
        });
      }
    }
  };
  const done = Promise.all(Array.from({ length: opts.clients }, (_, w) => worker(w)));
  return {
    outcomes,
    async stop() {
      running = false;
      await done;
      await agent.close();
    },
  };
}

/** Resolve with the first breaker event matching, or reject after `ms`. */
export function waitForBreaker(
  on: (fn: (e: BreakerEvent) => void) => () => void,
  state: BreakerEvent['state'],
  ms: number,
): Promise<BreakerEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`breaker did not become ${state} within ${ms} ms`));
    }, ms);
    const off = on((e) => {
      if (e.state !== state) return;
      clearTimeout(timer);
      off();
      resolve(e);
    });
  });
}

/**
 * Wait until `n` more outcomes arrived (phases are sized in requests, not in
 * time: the machine may be busy), failing after `ms`.
 */
export async function waitForOutcomes(outcomes: Outcome[], n: number, ms: number): Promise<void> {
  const target = outcomes.length + n;
  const deadline = Date.now() + ms;
  while (outcomes.length < target) {
    if (Date.now() > deadline)
      throw new Error(`only ${outcomes.length - target + n} of ${n} requests within ${ms} ms`);
    await sleep(20);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
