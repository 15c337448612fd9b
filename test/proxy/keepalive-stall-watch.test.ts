/**
 * The stall watch's bookkeeping, driven through the real diagnostics channels
 * with undici-shaped messages and a test clock: which answers count (alone,
 * fresh or reused), and that a request failing before it was sent (connection
 * refused: an error with no sendHeaders) does not stop the watch for good.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import type { KeepAliveStallFinding } from '../../core/keepalive-stall.js';
import { KeepAliveStallWatch } from '../../proxy/keepalive-stall.js';

const ORIGIN = 'http://127.0.0.1:8000';
const send = diagnosticsChannel.channel('undici:client:sendHeaders');
const complete = diagnosticsChannel.channel('undici:request:trailers');
const error = diagnosticsChannel.channel('undici:request:error');

let clock = 0;
let watch: KeepAliveStallWatch | undefined;
afterEach(() => watch?.stop());

function start(): KeepAliveStallFinding[] {
  const verdicts: KeepAliveStallFinding[] = [];
  watch = new KeepAliveStallWatch(
    [{ upstream: 'legacy', origin: ORIGIN }],
    (f) => verdicts.push(f),
    undefined,
    () => clock,
  );
  return verdicts;
}

/** One request alone on `socket`, answered after `ms`. */
function answered(socket: object, ms: number): void {
  const request = { origin: ORIGIN };
  send.publish({ request, socket, headers: '' });
  clock += ms;
  complete.publish({ request, trailers: [] });
}

describe('KeepAliveStallWatch', () => {
  it('reports a stall from alone answers: fresh sockets fast, reused ones ~40 ms slower', () => {
    const verdicts = start();
    for (let i = 0; i < 3; i++) answered({}, 1); // three fresh sockets
    const kept = {};
    answered(kept, 1); // its first request: fresh
    for (let i = 0; i < 19; i++) answered(kept, 45);
    expect(verdicts).toEqual([]);
    answered(kept, 45); // the 20th reused answer decides
    expect(verdicts).toHaveLength(1);
    expect(verdicts[0]).toMatchObject({
      stall: true,
      upstream: 'legacy',
      origin: ORIGIN,
      freshP50Ms: 1,
      reusedP50Ms: 45,
    });
    // Still watched: a server fixed later gets a healthy verdict (issue 26).
    expect(watch!.pending()).toEqual([ORIGIN]);
  });

  it('does not count overlapping requests, and keeps watching after a request failed before it was sent', () => {
    const verdicts = start();
    // A refused connection: an error with no sendHeaders before it.
    error.publish({ request: { origin: ORIGIN }, error: new Error('ECONNREFUSED') });
    // Two overlapping requests: neither is alone, neither counts.
    const a = { origin: ORIGIN };
    const b = { origin: ORIGIN };
    send.publish({ request: a, socket: {}, headers: '' });
    send.publish({ request: b, socket: {}, headers: '' });
    clock += 45;
    complete.publish({ request: a, trailers: [] });
    complete.publish({ request: b, trailers: [] });
    for (let i = 0; i < 3; i++) answered({}, 1);
    const kept = {};
    answered(kept, 1);
    for (let i = 0; i < 20; i++) answered(kept, 45);
    expect(verdicts.map((v) => [v.stall, v.freshSamples, v.reusedSamples])).toEqual([[true, 4, 20]]);
  });

  it('ignores other origins', () => {
    const verdicts = start();
    const other = { origin: 'http://127.0.0.1:9' };
    const s = {};
    for (let i = 0; i < 30; i++) {
      send.publish({ request: other, socket: s, headers: '' });
      clock += 45;
      complete.publish({ request: other, trailers: [] });
    }
    expect(verdicts).toEqual([]);
    expect(watch!.pending()).toEqual([ORIGIN]);
  });
});
