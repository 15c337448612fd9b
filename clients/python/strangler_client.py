"""strangler_client: extraction points for a Python monolith (stdlib only, Python >= 3.8).

A function inside the monolith becomes an *extraction point*: a route of
``kind: function`` in strangler.yaml, flipped, gated, canaried, guarded and
audited like an HTTP route. The old code stays as the fallback::

    import strangler_client as strangler

    @strangler.extracted("block-check", sticky=lambda user_id, *_: user_id)
    def list_blocked(user_id): ...

Modes come from the running strangler proxy (``GET /.strangler/points``,
long-polled by a background thread with an ETag: the proxy answers as soon as
its route table changes, so a flip reaches the process right after the proxy's
own reload poll):

- ``legacy``: the local function, nothing else (no network call per call);
- ``shadow``: the local result is returned at once; the arguments and the
  result go into a bounded queue (dropped and counted when full) that a
  background thread sends to strangler, which asks the service and records
  the comparison as shadow evidence;
- ``canary`` (sticky by the key function) and ``service``: the call goes to
  the service through the proxy (breaker, metrics, guard); on any failure the
  local function runs, unless the point is not idempotent and the service may
  have acted: then :class:`ServiceMayHaveActed` is raised, never a second run.

Arguments and results travel as JSON. JSON-safe means exactly: None, bool,
int, float (finite), str, list, and dict with str keys, nested. Anything
else (tuple, set, bytes, datetime, Decimal, enums, objects, NaN, non-str
keys) is refused rather than converted: in ``shadow`` the call is not
compared and counted as ``not-json-safe``; in ``canary``/``service`` the local
function runs (counted as ``not-json-safe``). Positional arguments are sent as
a list. A service result is JSON: pass ``decode=`` to turn it back into what
the local function returns (``decode=set``, ``decode=tuple``).

This file is the whole client: copy it into a project (vendoring) or
``pip install clients/python`` from a strangler checkout.

Configuration: ``STRANGLER_URL`` (the proxy's listener, e.g.
http://127.0.0.1:8080) and ``STRANGLER_POINTS_TOKEN`` (the proxy's points
token), or :func:`configure`. Without a URL every point stays ``legacy``.
``STRANGLER_URL_FILE`` names a file holding the URL instead, read by the
poller until it exists: for launchers that start the monolith before the
proxy's port is known (port 0 in tests and the demo).
"""

import collections
import functools
import http.client
import json
import logging
import math
import os
import random
import threading
import time
import urllib.parse
import weakref

__all__ = [
    "Client",
    "PointCallError",
    "ServiceMayHaveActed",
    "NotJsonSafe",
    "configure",
    "default_client",
    "extracted",
    "sticky_point",
    "to_json",
]
__version__ = "0.1.0"

log = logging.getLogger("strangler_client")

LEGACY = "legacy"
SHADOW = "shadow"
CANARY = "canary"
SERVICE = "service"

FALLBACK_HEADER = "x-strangler-fallback"
TARGET_HEADER = "x-strangler-target"


class PointCallError(Exception):
    """A call routed to the service failed and the local function was not run."""


class ServiceMayHaveActed(PointCallError):
    """The point is not idempotent and the service may have acted: running the local function could do it twice."""


class NotJsonSafe(TypeError):
    """A value that JSON cannot carry without a guess (see the module docstring)."""


# ---------------------------------------------------------------------------
# JSON: strict, no silent conversions


def _check_json(value, depth=0):
    if depth > 100:
        raise NotJsonSafe("nested deeper than 100 levels (or circular)")
    t = type(value)
    if value is None or t is bool or t is str or t is int:
        return
    if t is float:
        if math.isnan(value) or math.isinf(value):
            raise NotJsonSafe("float %r has no JSON form" % value)
        return
    if t is list:
        for item in value:
            _check_json(item, depth + 1)
        return
    if t is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise NotJsonSafe("dict key %r is a %s, not a str" % (key, type(key).__name__))
            _check_json(item, depth + 1)
        return
    raise NotJsonSafe("%s is not JSON-safe" % t.__name__)


def to_json(value):
    """JSON text of a JSON-safe value; raises NotJsonSafe for anything else (no conversions)."""
    _check_json(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _call_body(args, kwargs):
    _check_json(kwargs)
    for a in args:
        _check_json(a)
    return json.dumps({"args": list(args), "kwargs": kwargs}, separators=(",", ":"), ensure_ascii=False)


def _result_body(result):
    return '{"result":%s}' % to_json(result)


# ---------------------------------------------------------------------------
# Sticky canary: the same point as the proxy's chooseTarget (proxy/choose-target.ts)

_M32 = 0xFFFFFFFF


def sticky_point(route_id, key):
    """A key's fixed point in [0, 100) for a route: FNV-1a over UTF-16 code units of "route\\0key", murmur3 finaliser."""
    h = 0x811C9DC5
    data = ("%s\0%s" % (route_id, key)).encode("utf-16-le")
    for i in range(0, len(data), 2):
        h ^= data[i] | (data[i + 1] << 8)
        h = (h * 0x01000193) & _M32
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _M32
    h ^= h >> 16
    return h / 4294967296.0 * 100


# ---------------------------------------------------------------------------
# The client


class _Point(object):
    """One point as GET /.strangler/points describes it; replaced whole, never mutated."""

    __slots__ = ("mode", "weight", "version", "idempotent", "timeout", "sample_rate", "noise_rate")

    def __init__(self, d):
        self.mode = d.get("mode", LEGACY)
        self.weight = d.get("weight", 0)
        self.version = d.get("version", 0)
        self.idempotent = bool(d.get("idempotent", False))
        self.timeout = float(d.get("timeoutMs", 2000)) / 1000.0
        self.sample_rate = float(d.get("sampleRate", 1))
        self.noise_rate = float(d.get("noiseSampleRate", 0))


class _Unsent(Exception):
    """The request never left this process (or the proxy refused the connection): the service did not act."""


_clients = weakref.WeakSet()


class Client(object):
    """Modes cache, shadow queue and service calls for one strangler proxy.

    url: the proxy's listener (default $STRANGLER_URL); token: the points token
    (default $STRANGLER_POINTS_TOKEN); long_poll: seconds the proxy may hold a
    mode poll until something changes (0: plain polling); poll_interval:
    seconds between polls when a poll was not held or failed; queue_size: shadow calls held at most (beyond: dropped, counted);
    batch_size: shadow calls per POST; timeout_margin: seconds a service call
    waits beyond the proxy's own deadline (so the proxy decides the fallback).
    """

    def __init__(self, url=None, token=None, poll_interval=0.25, queue_size=10000, batch_size=50,
                 timeout_margin=1.0, rng=None, url_file=None, long_poll=20):
        url = url if url is not None else os.environ.get("STRANGLER_URL", "")
        self._url_file = url_file if url_file is not None else os.environ.get("STRANGLER_URL_FILE", "")
        self.token = token if token is not None else os.environ.get("STRANGLER_POINTS_TOKEN", "")
        self.url = ""
        self.poll_interval = poll_interval
        self.long_poll = long_poll
        self.queue_size = queue_size
        self.batch_size = batch_size
        self.timeout_margin = timeout_margin
        self._random = rng.random if rng is not None else random.random
        if url:
            self._set_url(url)
        self._points = {}
        self._etag = None
        self._queue = collections.deque()
        self._counts_lock = threading.Lock()
        self._counts = collections.Counter()  # (point, reason) -> n, since start
        self._unreported = collections.Counter()  # (point, reason) -> n, not yet sent to strangler
        self._local = threading.local()
        self._started = False
        self._start_lock = threading.Lock()
        self._stop = threading.Event()
        self._polled = threading.Event()
        self._last_poll_error = None
        _clients.add(self)

    def _set_url(self, url):
        u = urllib.parse.urlsplit(url.strip())
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError("strangler url must be http(s)://HOST:PORT, got %r" % url)
        self._scheme, self._host = u.scheme, u.hostname
        self._port = u.port or (443 if u.scheme == "https" else 80)
        self.url = url.strip().rstrip("/")

    def _url_from_file(self):
        try:
            with open(self._url_file) as f:
                text = f.read().strip()
        except OSError:
            return False
        if text:
            self._set_url(text)
        return bool(text)

    # -- public ------------------------------------------------------------

    def extracted(self, point_id, sticky=None, decode=None, noise=True):
        """Decorator: make the function the local side of extraction point ``point_id``.

        sticky: called with the function's arguments, returns the canary key
        (same key, same side); decode: turns the service's JSON result into
        the local function's type; noise: in shadow mode, on the point's
        noiseSampleRate share of calls, run the local function a second time
        (on the caller's thread) so strangler learns which result fields are
        noisy. Shadowing needs an idempotent point anyway.
        """

        def wrap(fn):
            @functools.wraps(fn)
            def call(*args, **kwargs):
                p = self._points.get(point_id)
                if p is None or p.mode == LEGACY:
                    if not self._started:
                        self.start()
                    return fn(*args, **kwargs)
                if p.mode == SHADOW:
                    return self._shadow(point_id, p, fn, args, kwargs, noise)
                if p.mode == CANARY and not self._to_service(point_id, p, sticky, args, kwargs):
                    return fn(*args, **kwargs)
                return self._call_service(point_id, p, fn, args, kwargs, decode)

            call.strangler_point = point_id
            return call

        return wrap

    def mode(self, point_id):
        """The mode this process serves for a point right now (``legacy`` until the proxy said otherwise)."""
        p = self._points.get(point_id)
        return p.mode if p else LEGACY

    def stats(self):
        """Counts since start: {point: {reason: n}} (shadow drops, fallbacks, refusals)."""
        with self._counts_lock:
            out = {}
            for (point, reason), n in self._counts.items():
                out.setdefault(point, {})[reason] = n
            return out

    def start(self):
        """Start the mode poller and the shadow sender (idempotent; called on first use)."""
        with self._start_lock:
            if self._started or not (self.url or self._url_file):
                self._started = True
                return
            self._started = True
            self._stop.clear()
            for target, name in ((self._poll_loop, "strangler-points-poll"), (self._send_loop, "strangler-shadow-send")):
                t = threading.Thread(target=target, name=name, daemon=True)
                t.start()

    def wait_ready(self, timeout=2.0):
        """Start, and wait until the first poll answered (or failed). True when modes are known."""
        self.start()
        self._polled.wait(timeout)
        return self._last_poll_error is None and self._polled.is_set()

    def refresh(self):
        """Read modes now, on this thread. Returns True when the proxy answered."""
        try:
            self._poll_once(self._poll_conn())
            return True
        except Exception as exc:  # noqa: BLE001 - any failure keeps the last modes
            self._poll_failed(exc)
            return False

    def flush(self, timeout=5.0):
        """Wait until the shadow queue is empty (tests, shutdown). True when it emptied."""
        deadline = time.monotonic() + timeout
        while (self._queue or self._sending()) and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self._queue

    def close(self):
        self._stop.set()

    # -- shadow ------------------------------------------------------------

    def _shadow(self, point_id, p, fn, args, kwargs, noise):
        t0 = time.perf_counter()
        result = fn(*args, **kwargs)
        ms = (time.perf_counter() - t0) * 1000.0
        if not p.idempotent:
            self._count(point_id, "not-idempotent")
            return result
        if p.sample_rate < 1 and self._random() >= p.sample_rate:
            self._count(point_id, "sampled-out")
            return result
        if len(self._queue) >= self.queue_size:
            self._count(point_id, "queue-full")
            return result
        try:
            item = {"call": _call_body(args, kwargs), "result": _result_body(result), "ms": round(ms, 3)}
            if noise and p.noise_rate > 0 and self._random() < p.noise_rate:
                t1 = time.perf_counter()
                again = fn(*args, **kwargs)
                item["againMs"] = round((time.perf_counter() - t1) * 1000.0, 3)
                item["again"] = _result_body(again)
        except NotJsonSafe:
            self._count(point_id, "not-json-safe")
            return result
        self._queue.append((point_id, item))
        return result

    def _sending(self):
        return getattr(self, "_in_flight", False)

    def _send_loop(self):
        while not self._stop.is_set():
            if not self.url or (not self._queue and not self._unreported):
                self._stop.wait(0.05)
                continue
            try:
                self._send_batches()
            except Exception as exc:  # noqa: BLE001 - the sender must never die
                log.warning("strangler shadow sender: %s", exc)
            self._stop.wait(0.02)

    def _send_batches(self):
        self._in_flight = True
        try:
            batches = {}
            while self._queue and sum(len(b) for b in batches.values()) < self.batch_size * 8:
                point_id, item = self._queue.popleft()
                batches.setdefault(point_id, []).append(item)
            with self._counts_lock:
                skipped = self._unreported
                self._unreported = collections.Counter()
            for point_id in set(batches) | {k[0] for k in skipped}:
                calls = batches.get(point_id, [])
                counts = {reason: n for (pid, reason), n in skipped.items() if pid == point_id}
                for i in range(0, max(len(calls), 1), self.batch_size):
                    chunk = calls[i:i + self.batch_size]
                    body = json.dumps({"calls": chunk, "skipped": counts if i == 0 else {}}, separators=(",", ":"))
                    if not self._post_shadow(point_id, body):
                        self._count(point_id, "send-failed", len(chunk))
        finally:
            self._in_flight = False

    def _post_shadow(self, point_id, body):
        conn = self._sender_conn()
        try:
            status, _h, _data = self._request(conn, "POST", "/.strangler/points/%s/shadow" % point_id, body, 5.0)
            return status == 202
        except Exception as exc:  # noqa: BLE001
            log.debug("shadow batch for %s not sent: %s", point_id, exc)
            self._drop_conn("sender")
            return False

    # -- canary and service ------------------------------------------------

    def _to_service(self, point_id, p, sticky, args, kwargs):
        if p.weight <= 0:
            return False
        if p.weight >= 100:
            return True
        key = None
        if sticky is not None:
            try:
                key = sticky(*args, **kwargs)
            except Exception:  # noqa: BLE001 - a bad key function must not break the call
                key = None
        point = sticky_point(point_id, str(key)) if key is not None and key != "" else self._random() * 100
        return point < p.weight

    def _call_service(self, point_id, p, fn, args, kwargs, decode):
        try:
            body = _call_body(args, kwargs)
        except NotJsonSafe:
            self._count(point_id, "not-json-safe")
            return fn(*args, **kwargs)
        try:
            status, headers, data = self._call(point_id, body, p.timeout + self.timeout_margin)
        except _Unsent as exc:
            self._count(point_id, "fallback-unreachable")
            log.debug("point %s: proxy unreachable (%s); running locally", point_id, exc)
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - sent, then failed: the service may have acted
            return self._after_failure(point_id, p, fn, args, kwargs, "fallback-client-error", exc)
        fallback = headers.get(FALLBACK_HEADER)
        if fallback == "local":
            self._count(point_id, "fallback-%s" % (headers.get("x-strangler-failover") or "proxy"))
            return fn(*args, **kwargs)
        if fallback == "none":
            self._count(point_id, "raised")
            raise ServiceMayHaveActed("%s: the service failed after the call was sent (%s); not run locally"
                                      % (point_id, _message(data)))
        if headers.get(TARGET_HEADER) != "service":
            # Not the service's answer, and no word from the proxy that it never
            # called it: a load balancer in between may have given up (502/504)
            # while the proxy and the service went on. The proxy marks its own
            # refusals `x-strangler-fallback: local` (above), so this may have run.
            return self._after_failure(point_id, p, fn, args, kwargs, "fallback-status-%d" % status,
                                       PointCallError("answer not from the strangler proxy (%d: %s)"
                                                      % (status, _message(data))))
        if 200 <= status < 300:
            try:
                result = json.loads(data)["result"]
            except (ValueError, KeyError, TypeError) as exc:
                return self._after_failure(point_id, p, fn, args, kwargs, "fallback-bad-answer", exc)
            self._count(point_id, "service")
            return decode(result) if decode is not None else result
        return self._after_failure(point_id, p, fn, args, kwargs, "fallback-status-%d" % status,
                                   PointCallError("service answered %d: %s" % (status, _message(data))))

    def _after_failure(self, point_id, p, fn, args, kwargs, reason, exc):
        if p.idempotent:
            self._count(point_id, reason)
            return fn(*args, **kwargs)
        self._count(point_id, "raised")
        raise ServiceMayHaveActed("%s: %s; the service may have acted, not run locally" % (point_id, exc)) from exc

    def _call(self, point_id, body, timeout):
        conn = getattr(self._local, "conn", None)
        fresh = conn is None or time.monotonic() - getattr(self._local, "used", 0) > 2.0
        if fresh:
            if conn is not None:
                conn.close()
            conn = self._new_conn(timeout)
            self._local.conn = conn
        conn.timeout = timeout
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        try:
            answer = self._request(conn, "POST", "/.strangler/points/%s/call" % point_id, body, timeout)
            self._local.used = time.monotonic()
            return answer
        except Exception:
            conn.close()
            self._local.conn = None
            raise

    # -- modes -------------------------------------------------------------

    def _poll_loop(self):
        while not self.url and not self._url_from_file():
            if self._stop.wait(min(self.poll_interval, 0.1)):
                return
        while not self._stop.is_set():
            started = time.monotonic()
            held = False
            try:
                held = self._poll_once(self._poll_conn(), self.long_poll)
            except Exception as exc:  # noqa: BLE001 - keep serving the last modes
                self._poll_failed(exc)
            self._polled.set()
            # A held poll that came back (a change, or its wait ran out) is
            # followed at once by the next; otherwise poll every poll_interval.
            if not (held and time.monotonic() - started >= self.poll_interval):
                self._stop.wait(self.poll_interval)

    def _poll_once(self, conn, wait=0):
        """One mode poll; True when it was a long poll the proxy answered (changed or not)."""
        headers = {"If-None-Match": self._etag} if self._etag else {}
        path = "/.strangler/points?wait=%d" % wait if wait and self._etag else "/.strangler/points"
        status, h, data = self._request(conn, "GET", path, None, wait + 5.0, headers)
        if status == 304:
            self._poll_ok()
            return bool(wait)
        if status != 200:
            raise PointCallError("GET /.strangler/points answered %d: %s" % (status, _message(data)))
        points = json.loads(data)["points"]
        # One assignment: a caller sees the old table or the new one, never a mix.
        self._points = {k: _Point(v) for k, v in points.items()}
        self._etag = h.get("etag")
        self._poll_ok()
        return bool(wait)

    def _poll_ok(self):
        if self._last_poll_error is not None:
            log.info("strangler points: reading modes from %s again", self.url)
        self._last_poll_error = None

    def _poll_failed(self, exc):
        self._drop_conn("poller")
        if str(exc) != self._last_poll_error:
            log.warning("strangler points: cannot read modes from %s (%s); keeping the last ones", self.url, exc)
        self._last_poll_error = str(exc)

    # -- HTTP --------------------------------------------------------------

    def _new_conn(self, timeout):
        cls = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
        return cls(self._host, self._port, timeout=timeout)

    def _poll_conn(self):
        return self._shared_conn("poller")

    def _sender_conn(self):
        return self._shared_conn("sender")

    def _shared_conn(self, name):
        conn = self.__dict__.get("_conn_" + name)
        if conn is None:
            conn = self._new_conn(5.0)
            self.__dict__["_conn_" + name] = conn
        return conn

    def _drop_conn(self, name):
        conn = self.__dict__.pop("_conn_" + name, None)
        if conn is not None:
            conn.close()

    def _request(self, conn, method, path, body, timeout, extra=None):
        headers = {"Authorization": "Bearer %s" % self.token, "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if extra:
            headers.update(extra)
        payload = body.encode("utf-8") if body is not None else None
        if conn.sock is None:
            # Nothing has been sent before the connection exists: a refusal here is safe to run locally.
            try:
                conn.connect()
            except OSError as exc:
                conn.close()
                raise _Unsent(exc)
            conn.sock.settimeout(timeout)
        conn.request(method, path, body=payload, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data

    # -- counters ----------------------------------------------------------

    def _count(self, point_id, reason, n=1):
        with self._counts_lock:
            self._counts[(point_id, reason)] += n
            # Reported to strangler's shadow evidence as skipped copies: only what concerns shadowing.
            if reason in _REPORTED:
                self._unreported[(point_id, reason)] += n

    def _after_fork(self):
        # Threads and sockets do not survive fork(): a forked worker starts its own.
        self._started = False
        self._stop = threading.Event()
        self._polled = threading.Event()
        self._local = threading.local()
        self._start_lock = threading.Lock()
        self._counts_lock = threading.Lock()
        self._queue.clear()
        for name in ("poller", "sender"):
            self.__dict__.pop("_conn_" + name, None)


_REPORTED = frozenset(["not-idempotent", "sampled-out", "queue-full", "not-json-safe", "send-failed"])


def _message(data):
    try:
        return json.loads(data).get("message", "")
    except Exception:  # noqa: BLE001
        return (data or b"")[:200].decode("utf-8", "replace")


def _reset_after_fork():
    for c in list(_clients):
        c._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


# ---------------------------------------------------------------------------
# The process-wide default client

_default = None
_default_lock = threading.Lock()


def configure(url=None, token=None, **options):
    """Set up the default client (else it is built from the environment on first use)."""
    global _default
    with _default_lock:
        if _default is not None:
            _default.close()
        _default = Client(url=url, token=token, **options)
        return _default


def default_client():
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Client()
    return _default


def extracted(point_id, sticky=None, decode=None, noise=True):
    """``@extracted("block-check", sticky=lambda user_id, *_: user_id)`` on the default client."""

    def wrap(fn):
        # The default client is resolved at call time (decorating at import needs
        # no configuration yet); the bound wrapper is kept until configure() replaces it.
        cache = [None, None]

        @functools.wraps(fn)
        def call(*args, **kwargs):
            client = _default or default_client()
            if cache[0] is not client:
                cache[1] = client.extracted(point_id, sticky=sticky, decode=decode, noise=noise)(fn)
                cache[0] = client
            return cache[1](*args, **kwargs)

        call.strangler_point = point_id
        return call

    return wrap
