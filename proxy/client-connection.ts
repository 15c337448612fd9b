/**
 * One client connection's requests, in turn (issue 25). Node's HTTP server
 * parses a pipelined request and emits 'request' for it at once, while the
 * answer before it is still pending; it only queues the responses. So a POST
 * pipelined behind a request the edge refused (and answered with
 * `Connection: close`) used to be forwarded — it ran upstream, and its answer
 * was never sent because the connection had closed. RFC 9112 §9.6: after an
 * answer that closes, no further request on that connection is processed.
 *
 * The rules, one home:
 * - A request waits for the answer before it on its connection (nginx serves
 *   pipelined requests one at a time too); if that answer closed the
 *   connection, the request is dropped unanswered and never forwarded: the
 *   client knows it was not done (RFC 9112 §9.3.2 lets it retry).
 * - A request arriving on a connection whose answer already said `close`
 *   (the drain, a refusal, an HTTP/1.0 answer without a length) is dropped.
 * - A parse error (stray bytes, a header timeout) behind a complete request
 *   whose answer is still in flight never replaces that answer with a bare
 *   400: the answer is delivered with `Connection: close`, then the
 *   connection closes (nginx parity). With nothing in flight, Node's own
 *   answer is kept (400, 408, 413, 431) and the connection is destroyed.
 *
 * The common request (nothing before it on the connection) pays three
 * property reads here: no allocation, no await.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** Marks a connection on which nothing more is processed: its current answer closes it. */
const CLOSING = Symbol('strangler.closing');
/** Marks a connection whose parse error was already handled (the parser reports every later chunk again). */
const REFUSED_BYTES = Symbol('strangler.refusedBytes');

/**
 * The client socket as node:http leaves it. `_httpMessage` is the response
 * currently writing to it (Node 20, 22 and 24 alike; Node's own clientError
 * default reads it for the same question: is an answer in flight?).
 */
type ClientSocket = Duplex & {
  [CLOSING]?: true;
  [REFUSED_BYTES]?: true;
  _httpMessage?: ServerResponse | null;
  destroySoon?: () => void;
};

export type Turn = 'now' | 'later' | 'never';

/**
 * Whether this request may be served now, after the answer before it on its
 * connection ('later': call awaitTurn), or never (its connection is closing).
 */
export function turnOf(req: IncomingMessage, res: ServerResponse): Turn {
  const socket = req.socket as ClientSocket;
  if (socket[CLOSING] || socket.writableEnded || socket.destroyed) return 'never';
  // Node assigns the socket to a response only once every answer before it
  // on the connection has finished: until then it is queued behind them.
  return res.socket === null ? 'later' : 'now';
}

/**
 * Serve a request queued behind another answer once that answer finished
 * and kept the connection open. If it closed the connection instead, Node
 * destroys the queued request (its 'close'): nothing is forwarded.
 */
export function awaitTurn(
  req: IncomingMessage,
  res: ServerResponse,
  serve: (req: IncomingMessage, res: ServerResponse) => void,
): void {
  const go = () => {
    req.off('close', drop);
    if (turnOf(req, res) === 'now') serve(req, res);
  };
  const drop = () => res.off('socket', go);
  res.once('socket', go);
  req.once('close', drop);
}

/**
 * An upgrade request (a WebSocket) takes the connection over, so it cannot be
 * queued like a request: Node hands it the socket at once, even while the
 * answer before it is still being written. It starts once that answer has
 * finished, and never on a connection that answer closed.
 */
export function awaitUpgradeTurn(duplex: Duplex, start: () => void): void {
  const socket = duplex as ClientSocket;
  const pending = socket._httpMessage;
  if (pending && !pending.writableFinished) {
    pending.once('finish', () => awaitUpgradeTurn(socket, start));
    return;
  }
  if (socket[CLOSING] || socket.writableEnded || socket.destroyed) socket.destroy();
  else start();
}

/** Answer the current request with `Connection: close` and process nothing after it. */
export function closeAfterThisAnswer(req: IncomingMessage, res: ServerResponse): void {
  (req.socket as ClientSocket)[CLOSING] = true;
  // Node then writes `Connection: close` and ends the socket after this answer.
  res.shouldKeepAlive = false;
}

/** Node's answers to a request it could not parse, by error code (node/lib/_http_server.js). */
const PARSER_ANSWERS: Record<string, string> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: '413 Payload Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
};

/**
 * The listener's 'clientError': bytes the parser refused or a request that
 * timed out. See the header: an answer in flight for a complete request is
 * delivered, then the connection closes; otherwise Node's default.
 */
export function onClientError(err: NodeJS.ErrnoException, duplex: Duplex): void {
  const socket = duplex as ClientSocket;
  // The parser reports every later chunk again: the first report decided.
  if (socket[REFUSED_BYTES]) return;
  const res = socket._httpMessage;
  if (res && !res.writableFinished && res.req.complete && isAboutLaterBytes(err)) {
    socket[REFUSED_BYTES] = true;
    socket[CLOSING] = true;
    // Nothing after the bad bytes can be framed: read no more of them.
    socket.pause();
    if (!res.headersSent) res.shouldKeepAlive = false;
    // An answer whose head already said keep-alive: close once it is written.
    else res.once('finish', () => endSocket(socket));
    return;
  }
  if (socket.writable && !res?.headersSent) {
    const status = PARSER_ANSWERS[err.code ?? ''] ?? '400 Bad Request';
    socket.write(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
  }
  socket.destroy(err);
}

/**
 * A parse error (llhttp's HPE_*) or a request head that timed out concerns
 * bytes after the complete request; a socket error (ECONNRESET, EPIPE) is
 * the connection itself going, and the answer with it.
 */
function isAboutLaterBytes(err: NodeJS.ErrnoException): boolean {
  const code = err.code ?? '';
  return code.startsWith('HPE_') || code === 'ERR_HTTP_REQUEST_TIMEOUT';
}

function endSocket(socket: ClientSocket): void {
  if (typeof socket.destroySoon === 'function') socket.destroySoon();
  else socket.end();
}
