/**
 * Unrequested `100 Continue` answers from an upstream are skipped.
 *
 * RFC 9110 §15.2: a client must be able to parse and ignore a 1xx it did not
 * expect, and `100 Continue` is sent by some servers (and frameworks behind a
 * WSGI adapter) whether or not the request carried `Expect: 100-continue`.
 * undici destroys the connection on any 100 ("bad response",
 * lib/dispatcher/client-h1.js onHeadersComplete), because it never sends
 * `Expect`. That turned a healthy service's answer into a 502 — and on a
 * service route into a counted breaker failure and a failover.
 *
 * So the upstream sockets get a small filter, installed by the connector:
 * while a response head is awaited (the proxy has just written a request
 * head; pipelining is 1, so the next response bytes begin that request's
 * answer), complete `HTTP/1.x 100 ...\r\n\r\n` heads are removed from what
 * the socket hands to undici. Everything else passes untouched, and once the
 * first byte of a real answer passed, nothing is inspected until the next
 * request head is written. Other 1xx (103 Early Hints) reach undici, which
 * reports them to forward()'s handler, which drops them.
 */
import type { Socket } from 'node:net';
import { buildConnector } from 'undici';

const INTERIM_100 = /^HTTP\/1\.[01] 100[ \r]/;
// A request head as undici writes it: `METHOD SP target SP HTTP/1.1 CRLF`.
const REQUEST_LINE = /^[A-Z]+ \S+ HTTP\/1\.1\r\n/;

/** An undici `connect` function whose sockets skip unrequested 100 Continue heads. */
export function skipping100Continue(options: buildConnector.BuildOptions = {}): buildConnector.connector {
  const connect = buildConnector(options);
  return (opts, callback) =>
    connect(opts, (err, socket) => {
      if (socket) filterInterim(socket as Socket);
      // biome-ignore lint/suspicious/noExplicitAny: undici's callback overloads (err, null) | (null, socket).
      (callback as any)(err, socket);
    });
}

type Pushable = Socket & { push(chunk: Buffer | null, encoding?: BufferEncoding): boolean };

function filterInterim(socket: Socket): void {
  const s = socket as Pushable;
  let awaitingHead = false;
  let pending: Buffer | undefined;
  const write = s.write;
  s.write = function (this: Socket, chunk: unknown, ...rest: unknown[]) {
    if (typeof chunk === 'string' && REQUEST_LINE.test(chunk)) awaitingHead = true;
    // biome-ignore lint/suspicious/noExplicitAny: forwarding Socket#write's overloads unchanged.
    return (write as any).call(this, chunk, ...rest);
  } as Socket['write'];
  const push = s.push;
  s.push = function (this: Socket, chunk: Buffer | null, encoding?: BufferEncoding): boolean {
    if (!awaitingHead || chunk === null) return push.call(this, chunk, encoding);
    let data = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = undefined;
    for (;;) {
      if (data.length < 13) {
        // Not enough to tell a 100 from a real answer: wait for more bytes.
        const head = data.toString('latin1');
        if ('HTTP/1.1 100 '.startsWith(head) || 'HTTP/1.0 100 '.startsWith(head)) {
          pending = data;
          return true;
        }
        break;
      }
      if (!INTERIM_100.test(data.toString('latin1', 0, 13))) break;
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) {
        pending = data;
        return true;
      }
      data = data.subarray(end + 4);
      if (data.length === 0) return true;
    }
    awaitingHead = false;
    return push.call(this, data, encoding);
  };
}
