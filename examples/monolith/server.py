"""The HTTP front door: a ThreadingHTTPServer speaking HTTP/1.1 keep-alive.

    python3 -m monolith.server --port 8000 [--host 127.0.0.1] [--db monolith.db]

Port 0 picks a free port; either way the server prints one line
`LISTENING <port>` on stdout once it accepts connections.

Why each response is one write and TCP_NODELAY is on: http.server's default
handler writes the status line and headers, then the body, as separate
send() calls. On a keep-alive connection the second small segment waits for
the ACK of the first (Nagle), and the client delays that ACK (~40 ms), so
every request costs ~44 ms. We build the whole response in one buffer and
send it at once, and also disable Nagle on every accepted socket.
"""

import argparse
import json
import os
import signal
import sys
import threading
import traceback
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from monolith import __version__, app, db, seed  # noqa: I001 - the package finds strangler_client first

import strangler_client  # noqa: E402

MAX_BODY_BYTES = 1024 * 1024
SERVER_NAME = "monolith/%s" % __version__


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = SERVER_NAME
    # StreamRequestHandler.setup() sets TCP_NODELAY on the accepted socket.
    disable_nagle_algorithm = True
    # Idle keep-alive connections are closed after this many seconds, so an
    # abandoned client does not hold a thread forever. Proxies should keep
    # their pooled sockets' idle timeout below it.
    timeout = 60

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks, total = [], 0
            while True:
                size = int(self.rfile.readline(1024).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    # Trailer section ends with an empty line.
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY_BYTES:
                    raise ValueError("body larger than %d bytes" % MAX_BODY_BYTES)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        n = int(length)
        if n < 0 or n > MAX_BODY_BYTES:
            raise ValueError("Content-Length %s outside 0..%d" % (length, MAX_BODY_BYTES))
        return self.rfile.read(n)

    def _serve(self):
        path, _, query = self.path.partition("?")
        try:
            body = self._read_body()
        except ValueError as exc:
            self.close_connection = True
            self._send(400, {"error": "bad_request", "message": str(exc)})
            return
        method = "GET" if self.command == "HEAD" and path != "/api/echo" else self.command
        try:
            res = app.dispatch(method, path, query, self.headers, body)
        except Exception as exc:  # a bug in a handler must not kill the connection thread silently
            traceback.print_exc(file=sys.stderr)
            res = app.error(500, "internal", "%s: %s" % (type(exc).__name__, exc))
        self._send(res.status, res.payload, res.headers)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _serve

    def _send(self, status, payload, extra_headers=None):
        body = b"" if payload is None else json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = ""
        lines = [
            "HTTP/1.1 %d %s" % (status, reason),
            "Server: %s" % SERVER_NAME,
            "Date: %s" % formatdate(usegmt=True),
            "Content-Type: application/json; charset=utf-8",
            "Content-Length: %d" % len(body),
        ]
        request_id = self.headers.get("x-request-id") if getattr(self, "headers", None) else None
        if request_id:
            lines.append("x-request-id: %s" % request_id)
        for name, value in (extra_headers or {}).items():
            lines.append("%s: %s" % (name, value))
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        # One buffer, one write: see the module docstring.
        self.wfile.write(head if self.command == "HEAD" else head + body)
        self.log_request(status, len(body))

    def send_error(self, code, message=None, explain=None):
        # Parse failures (bad request line, too-long headers, unknown method)
        # go through the same single-write path as everything else.
        self.close_connection = True
        if not hasattr(self, "headers"):
            self.headers = None
        if not getattr(self, "command", None):
            self.command = "GET"
        label = "bad_request" if code < 500 else "not_implemented" if code == 501 else "internal"
        self._send(code, {"error": label, "message": message or HTTPStatus(code).phrase})

    def log_message(self, format, *args):
        if self.server.access_log:
            sys.stderr.write("%s - %s\n" % (self.address_string(), format % args))


class MonolithServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog of 5 refuses connections under a benchmark.
    request_queue_size = 512
    access_log = False


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python3 -m monolith.server", description="Run the demo monolith.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=int(os.environ.get("MONOLITH_PORT", "8000")),
                   help="0 picks a free port (default 8000 or $MONOLITH_PORT)")
    p.add_argument("--db", default=os.environ.get("MONOLITH_DB", db.DEFAULT_PATH),
                   help="SQLite file, created and seeded if missing (default $MONOLITH_DB or monolith.db)")
    p.add_argument("--init-only", action="store_true", help="create and seed the database, then exit")
    p.add_argument("--access-log", action="store_true", help="log every request to stderr")
    args = p.parse_args(argv)
    if not 0 <= args.port <= 65535:
        p.error("--port must be 0..65535, got %d" % args.port)
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    db.configure(args.db)
    try:
        seeded = seed.ensure()
    except Exception as exc:
        sys.stderr.write("monolith: cannot open database %s: %s\n" % (args.db, exc))
        return 1
    if seeded:
        sys.stderr.write("monolith: seeded %s with %d users\n" % (args.db, seed.SEED_USERS))
    if args.init_only:
        return 0

    server = MonolithServer((args.host, args.port), Handler)
    server.access_log = args.access_log

    def stop(signum, frame):
        # shutdown() waits for serve_forever() to return, which runs on this
        # very thread: call it from another one.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # Extraction points (block.check) read their modes from strangler at
    # $STRANGLER_URL: start polling now, not at the first call. Unset: legacy.
    points = strangler_client.default_client()
    points.start()
    print("LISTENING %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        db.close()
    sys.stderr.write("monolith: stopped\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
