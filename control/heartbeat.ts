/**
 * How running proxies report in, so `strangler seed` can tell whether it
 * would re-seed a store under live proxies (issue 29: a seed over an emptied
 * Redis succeeded while proxies held the guard lease, and from then on the
 * audit log and the traffic disagreed).
 *
 * Each `serve` (the primary of `--workers`) writes one record, kind `proxy`,
 * key `host:pid`, every HEARTBEAT_EVERY_MS. A proxy is live when its record
 * is younger than LIVE_WITHIN_MS, when it holds the guard lease, or when it
 * left the lost mark within LIVE_WITHIN_MS (a proxy whose SQLite file was
 * replaced writes its heartbeat into the old file, which no one else reads;
 * an emptied Redis lost the records until the next beat).
 */
import { hostname } from 'node:os';
import type { Logger } from '../core/log.js';
import type { Store } from '../store/types.js';
import { GUARD_LEASE } from './leader.js';

export const HEARTBEAT_KIND = 'proxy';
export const HEARTBEAT_EVERY_MS = 10_000;
/** "Reported in the last minute". */
export const LIVE_WITHIN_MS = 60_000;

export interface Heartbeat {
  /** `host:pid` */
  instance: string;
  at: string;
  /** Set by a clean stop: not live, whatever `at` says. */
  stopped?: boolean;
}

/** This process as the heartbeat and the lost mark name it. */
export function instanceName(): string {
  return `${hostname()}:${process.pid}`;
}

/** Write this process's heartbeat now and every `everyMs`; stop() ends it. Failures are skipped (the store may be away). */
export function startHeartbeat(
  store: Store,
  opts: { everyMs?: number; logger?: Logger; instance?: string } = {},
): { stop(): Promise<void> } {
  const instance = opts.instance ?? instanceName();
  const beat = async (stopped = false) => {
    const cur = await store.records.get<Heartbeat>(HEARTBEAT_KIND, instance);
    const value: Heartbeat = { instance, at: new Date().toISOString(), ...(stopped ? { stopped } : {}) };
    await store.records.put(HEARTBEAT_KIND, instance, value, cur?.rev ?? 0);
  };
  let last = Promise.resolve();
  const tick = () => {
    last = beat().catch((err) => opts.logger?.debug({ err }, 'heartbeat not written: store unreachable'));
  };
  tick();
  const timer = setInterval(tick, opts.everyMs ?? HEARTBEAT_EVERY_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await last;
      await beat(true).catch(() => {});
    },
  };
}

/**
 * A process on this machine is known alive or dead (signal 0); one elsewhere
 * is taken as alive while its evidence is recent.
 */
function mayBeAlive(instance: string): boolean {
  const [host, pid] = instance.split(':');
  if (host !== hostname() || !/^\d+$/.test(pid ?? '')) return true;
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `host:pid` of every proxy that looks alive now, with why, newest evidence first. */
export async function liveProxies(
  store: Store,
  now = Date.now(),
): Promise<Array<{ instance: string; why: string }>> {
  const live = new Map<string, string>();
  const add = (instance: string, why: string) => {
    if (!live.has(instance) && mayBeAlive(instance)) live.set(instance, why);
  };
  const lease = await store.lease.holder(GUARD_LEASE);
  // Lease holders are `host:pid:random` (control/leader.ts).
  if (lease) add(lease.holder.split(':').slice(0, 2).join(':'), 'holds the guard lease');
  for (const { value } of await store.records.list<Heartbeat>(HEARTBEAT_KIND)) {
    const age = now - Date.parse(value.at);
    if (age <= LIVE_WITHIN_MS && !value.stopped)
      add(value.instance, `reported ${Math.max(0, Math.round(age / 1000))}s ago`);
  }
  const mark = await store.lostMark();
  if (mark && now - Date.parse(mark.noticedAt) <= LIVE_WITHIN_MS)
    add(mark.noticedBy, `marked the store lost at ${mark.noticedAt}`);
  return [...live].map(([instance, why]) => ({ instance, why }));
}
