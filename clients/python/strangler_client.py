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
  the service through the proxy (breaker, metrics, guard); a non-idempotent
  point runs locally only when the proxy says so (``x-strangler-fallback:
  local``): when the service may have acted :class:`ServiceMayHaveActed` is
  raised, when the proxy did not take the call :class:`ProxyUnreachable`.
  An idempotent point runs locally on any failure.

A process that has not heard from the proxy yet never guesses: the first call
waits for the first answer (``modes_wait``, env ``STRANGLER_MODES_WAIT``,
default 5 s); without one, a non-idempotent point raises :class:`ModesUnknown`
and an idempotent one runs locally. Every call is counted by what decided it
(``stats()``), the first of each kind logged.

Arguments and results travel as JSON; what JSON has no form for but apps pass
daily (Decimal, datetime, date, time, timedelta, UUID, tuple, set, bytes,
NaN/Infinity, dicts with non-str keys, enums) travels tagged,
``{"$strangler": "decimal", "v": "12.30"}``, and comes back as itself
(:func:`decode_call` and :func:`encode_result` for a Python service). Anything
else raises :class:`NotJsonSafe` (a ``TypeError`` naming the argument) in
``canary``/``service``, never a silent local run; in ``shadow`` the call is not
compared (counted ``not-json-safe``). docs/extraction-points.md has the table.

This file is the whole client: copy it into a project (vendoring) or
``pip install clients/python`` from a strangler checkout.

Configuration: ``STRANGLER_URL`` (the proxy's listener, e.g.
http://127.0.0.1:8080) and ``STRANGLER_POINTS_TOKEN`` (the proxy's points
token), or :func:`configure`. Without a URL every point stays ``legacy``.
``STRANGLER_URL_FILE`` names a file holding the URL instead, read by the
poller until it exists: for launchers that start the monolith before the
proxy's port is known (port 0 in tests and the demo).
"""

import base64
import binascii
import collections
import datetime
import decimal
import enum
import functools
import hashlib
import http.client
import inspect
import json
import logging
import math
import os
import random
import tempfile
import threading
import time
import urllib.parse
import uuid
import weakref

__all__ = [
    "Client",
    "ModesUnknown",
    "NotJsonSafe",
    "PointCallError",
    "ProxyUnreachable",
    "ServiceMayHaveActed",
    "after_fork",
    "configure",
    "decode_call",
    "decode_value",
    "default_client",
    "encode_result",
    "encode_value",
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


class ModesUnknown(PointCallError):
    """This process has not heard from the proxy yet (within ``modes_wait``): a non-idempotent point does not guess."""


class ProxyUnreachable(PointCallError):
    """The proxy refused the connection for a canary/service call of a non-idempotent point: nothing was sent, nothing ran."""


class NotJsonSafe(TypeError):
    """A value with no JSON form, not even a typed one (see the module docstring); names the argument."""


# ---------------------------------------------------------------------------
# JSON with typed values: what JSON has no form for travels tagged, never guessed
#
# A value JSON carries as is stays as is (None, bool, int, finite float, str,
# list, dict with str keys). Every other type a Django or SQLAlchemy app
# passes daily travels as {"$strangler": TYPE, "v": ...}, so the service gets
# the same value back (decode_value / decode_call below, for a Python
# service; docs/extraction-points.md for other languages). Anything else is
# refused (NotJsonSafe, a TypeError) rather than converted.

TAG = "$strangler"
_NONFINITE = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


def _encode(value, depth):
    if depth > 100:
        raise NotJsonSafe("nested deeper than 100 levels (or circular)")
    t = type(value)
    if value is None or t is bool or t is str or t is int:
        return value
    if t is float:
        if math.isnan(value) or math.isinf(value):
            # JSON has no NaN or Infinity (json.dumps would write invalid JSON): tagged, exact.
            return {TAG: "float", "v": "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")}
        return value
    if t is list:
        return [_encode_at(item, depth, "[%d]" % i) for i, item in enumerate(value)]
    if t is dict:
        if TAG not in value and all(type(k) is str for k in value):
            return {k: _encode_at(item, depth, "[%r]" % k) for k, item in value.items()}
        # Non-str keys ({user.id: ...}) or a key that would read as a tag: as pairs.
        return {TAG: "dict", "v": [[_encode_at(k, depth, "<key %r>" % (k,)), _encode_at(item, depth, "[%r]" % (k,))]
                                   for k, item in value.items()]}
    if t is tuple:
        return {TAG: "tuple", "v": [_encode_at(item, depth, "[%d]" % i) for i, item in enumerate(value)]}
    if t is set or t is frozenset:
        # Sorted by their JSON text: the same set is the same JSON, so a shadow diff compares it.
        items = sorted((_encode_at(item, depth, "<item>") for item in value), key=_sort_key)
        return {TAG: t.__name__, "v": items}
    encoder = _SCALARS.get(t)
    if encoder is not None:
        return {TAG: encoder[0], "v": encoder[1](value)}
    if isinstance(value, enum.Enum):
        return {TAG: "enum", "type": "%s.%s" % (t.__module__, t.__qualname__), "name": value.name,
                "v": _encode_at(value.value, depth, ".value")}
    raise NotJsonSafe("%s has no JSON form (pass its id, or a dict of its fields)" % _type_name(t))


def _encode_at(value, depth, where):
    try:
        return _encode(value, depth + 1)
    except NotJsonSafe as exc:
        exc.where = where + getattr(exc, "where", "")
        raise


def _sort_key(encoded):
    return json.dumps(encoded, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _type_name(t):
    return t.__name__ if t.__module__ == "builtins" else "%s.%s" % (t.__module__, t.__qualname__)


def _timedelta_us(td):
    return (td.days * 86400 + td.seconds) * 1000000 + td.microseconds


_SCALARS = {
    decimal.Decimal: ("decimal", str),  # str keeps the exponent: Decimal("12.30") stays "12.30"
    datetime.datetime: ("datetime", lambda v: v.isoformat()),  # with its UTC offset when aware
    datetime.date: ("date", lambda v: v.isoformat()),
    datetime.time: ("time", lambda v: v.isoformat()),
    datetime.timedelta: ("timedelta", _timedelta_us),  # whole microseconds
    uuid.UUID: ("uuid", str),
    bytes: ("bytes", lambda v: base64.b64encode(v).decode("ascii")),
    bytearray: ("bytearray", lambda v: base64.b64encode(bytes(v)).decode("ascii")),
}

_DECODERS = {
    "float": lambda o, types: _NONFINITE[o["v"]],
    "decimal": lambda o, types: decimal.Decimal(o["v"]),
    "datetime": lambda o, types: datetime.datetime.fromisoformat(o["v"]),
    "date": lambda o, types: datetime.date.fromisoformat(o["v"]),
    "time": lambda o, types: datetime.time.fromisoformat(o["v"]),
    "timedelta": lambda o, types: datetime.timedelta(microseconds=o["v"]),
    "uuid": lambda o, types: uuid.UUID(o["v"]),
    "bytes": lambda o, types: base64.b64decode(o["v"], validate=True),
    "bytearray": lambda o, types: bytearray(base64.b64decode(o["v"], validate=True)),
    "tuple": lambda o, types: tuple(decode_value(x, types) for x in o["v"]),
    "set": lambda o, types: set(decode_value(x, types) for x in o["v"]),
    "frozenset": lambda o, types: frozenset(decode_value(x, types) for x in o["v"]),
    "dict": lambda o, types: {decode_value(k, types): decode_value(v, types) for k, v in o["v"]},
    "enum": lambda o, types: _decode_enum(o, types),
}


def _decode_enum(o, types):
    value = decode_value(o["v"], types)
    cls = (types or {}).get(o["type"])
    # Never import a class a message names: an unknown enum decodes to its value.
    return cls(value) if cls is not None else value


def decode_value(obj, types=None):
    """The Python value of decoded JSON in strangler's typed encoding (``{"$strangler": TYPE, "v": ...}``).

    types: {"module.Class": Class} for enums to rebuild; any other enum decodes to its value.
    Raises ValueError for an unknown tag or a malformed tagged value.
    """
    t = type(obj)
    if t is list:
        return [decode_value(x, types) for x in obj]
    if t is not dict:
        return obj
    tag = obj.get(TAG)
    if tag is None:
        return {k: decode_value(v, types) for k, v in obj.items()}
    decoder = _DECODERS.get(tag)
    if decoder is None:
        raise ValueError("unknown %s type %r" % (TAG, tag))
    try:
        return decoder(obj, types)
    except (KeyError, TypeError, ValueError, decimal.InvalidOperation, binascii.Error) as exc:
        raise ValueError("malformed %s %r value: %s" % (TAG, tag, exc)) from exc


def encode_value(value):
    """The JSON-ready form of a value in strangler's typed encoding; NotJsonSafe (a TypeError) for what has none."""
    try:
        return _encode(value, 0)
    except NotJsonSafe as exc:
        where = getattr(exc, "where", "")
        if where:
            raise NotJsonSafe("value%s: %s" % (where, exc)) from None
        raise


def to_json(value):
    """JSON text of a value in strangler's typed encoding; raises NotJsonSafe (a TypeError) for what has none."""
    return _dumps(encode_value(value))


def _dumps(encoded):
    return json.dumps(encoded, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def decode_call(body, types=None):
    """For the service side: ``(args, kwargs)`` from a call's request body (bytes or str)."""
    call = json.loads(body)
    return tuple(decode_value(call.get("args", []), types)), decode_value(call.get("kwargs", {}), types)


def encode_result(result):
    """For the service side: the answer body ``{"result": ...}`` for a result, typed values tagged."""
    return '{"result":%s}' % to_json(result)


def _arg_names(fn, n):
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        params = []
    names = []
    for i in range(n):
        p = params[i] if i < len(params) else None
        if p is not None and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            names.append("argument %d (%s)" % (i + 1, p.name))
        else:
            names.append("argument %d" % (i + 1))
    return names


def _call_body(args, kwargs, fn=None):
    """The call's JSON text; NotJsonSafe naming the argument (its position and name) that has no JSON form."""
    encoded = []
    for i, a in enumerate(args):
        try:
            encoded.append(_encode(a, 0))
        except NotJsonSafe as exc:
            raise NotJsonSafe("%s%s: %s" % (_arg_names(fn, i + 1)[i] if fn else "argument %d" % (i + 1),
                                            getattr(exc, "where", ""), exc)) from None
    kw = {}
    for k, a in kwargs.items():
        try:
            kw[k] = _encode(a, 0)
        except NotJsonSafe as exc:
            raise NotJsonSafe("argument %s%s: %s" % (k, getattr(exc, "where", ""), exc)) from None
    return _dumps({"args": encoded, "kwargs": kw})


def _result_body(result):
    try:
        return '{"result":%s}' % _dumps(_encode(result, 0))
    except NotJsonSafe as exc:
        raise NotJsonSafe("result%s: %s" % (getattr(exc, "where", ""), exc)) from None


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


_LEGACY_POINT = _Point({})


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
                 timeout_margin=1.0, rng=None, url_file=None, long_poll=20, modes_wait=None, modes_cache=None):
        url = url if url is not None else os.environ.get("STRANGLER_URL", "")
        self._url_file = url_file if url_file is not None else os.environ.get("STRANGLER_URL_FILE", "")
        self.token = token if token is not None else os.environ.get("STRANGLER_POINTS_TOKEN", "")
        self.url = ""
        self.poll_interval = poll_interval
        self.long_poll = long_poll
        self.queue_size = queue_size
        self.batch_size = batch_size
        self.timeout_margin = timeout_margin
        self.modes_wait = float(modes_wait if modes_wait is not None else os.environ.get("STRANGLER_MODES_WAIT", "5"))
        self._cache_dir = modes_cache if modes_cache is not None else os.environ.get("STRANGLER_MODES_CACHE", _default_cache_dir())
        self._random = rng.random if rng is not None else random.random
        if url:
            self._set_url(url)
        self._points = {}
        self._etag = None
        # Modes are "known" once the proxy answered in this process (or in the
        # parent it was forked from while its poller was live): until then a
        # call waits for the first answer (modes_wait) instead of guessing.
        self._known = threading.Event()
        self._wait_until = None
        self._cached_etag = None
        self._cached = None  # the last listing this machine saw for this URL (modes cache), never obeyed alone
        if not (url or self._url_file):
            self._known.set()  # no proxy configured: every point is legacy by configuration, not a guess
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
        self._announced = set()  # (point, decision) already logged once
        self._load_cache()
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
            self._load_cache()
        return bool(text)

    # -- public ------------------------------------------------------------

    def extracted(self, point_id, sticky=None, decode=None, noise=True, idempotent=None):
        """Decorator: make the function the local side of extraction point ``point_id``.

        sticky: called with the function's arguments, returns the canary key
        (same key, same side); decode: turns the service's (decoded) result into
        the local function's type; noise: in shadow mode, on the point's
        noiseSampleRate share of calls, run the local function a second time
        (on the caller's thread) so strangler learns which result fields are
        noisy. Shadowing needs an idempotent point anyway. idempotent: what
        the function is, used only while the proxy has never described the
        point (the config's ``idempotent:`` wins once it has): True lets it run
        locally when the modes are unknown.
        """

        def wrap(fn):
            @functools.wraps(fn)
            def call(*args, **kwargs):
                if not self._started:
                    self.start()  # first use, or first use after fork()
                p = self._points.get(point_id)
                if p is None:
                    if not self._known.is_set():
                        p = self._await_modes(point_id, idempotent)
                        if p is _RUN_LOCAL:
                            return fn(*args, **kwargs)
                    else:
                        p = _LEGACY_POINT  # the proxy lists no such point: nothing routes it elsewhere
                if p.mode == LEGACY:
                    self._count(point_id, "legacy")
                    return fn(*args, **kwargs)
                if p.mode == SHADOW:
                    return self._shadow(point_id, p, fn, args, kwargs, noise)
                if p.mode == CANARY and not self._to_service(point_id, p, sticky, args, kwargs):
                    self._count(point_id, "canary-local")
                    return fn(*args, **kwargs)
                return self._call_service(point_id, p, fn, args, kwargs, decode)

            call.strangler_point = point_id
            return call

        return wrap

    def mode(self, point_id):
        """The mode this process serves for a point right now (``legacy`` until the proxy said otherwise)."""
        p = self._points.get(point_id)
        return p.mode if p else LEGACY

    def known(self):
        """Whether this process has the proxy's word on the modes (else a call waits, then refuses to guess)."""
        return self._known.is_set()

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
            # One bounded wait per process start, not per call: once it ran out,
            # calls decide at once until the proxy answers.
            self._wait_until = time.monotonic() + self.modes_wait
            self._stop.clear()
            for target, name in ((self._poll_loop, "strangler-points-poll"), (self._send_loop, "strangler-shadow-send")):
                t = threading.Thread(target=target, name=name, daemon=True)
                t.start()

    def wait_ready(self, timeout=5.0):
        """Start, and wait up to ``timeout`` s until the proxy answered. True when modes are known.

        Call it where a worker starts (gunicorn ``post_worker_init``, uwsgi
        ``@postfork``; docs/extraction-points.md) so no request waits for it.
        """
        self.start()
        self._known.wait(timeout)
        return self._known.is_set()

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

    # -- modes not known yet ------------------------------------------------

    def _await_modes(self, point_id, declared_idempotent):
        """A call before the proxy's first answer: wait for it (bounded), else decide without guessing.

        Returns the point as the proxy describes it, or _RUN_LOCAL for an
        idempotent point (running a read locally is harmless whatever the
        mode); a non-idempotent point raises ModesUnknown: its mode may be
        service, and running it here would be a write nobody decided.
        """
        if not self._started:
            self.start()
        remaining = (self._wait_until or 0) - time.monotonic()
        if remaining > 0:
            self._known.wait(remaining)
        if self._known.is_set():
            return self._points.get(point_id, _LEGACY_POINT)
        cached = (self._cached or {}).get(point_id)
        idempotent = cached.idempotent if cached is not None else bool(declared_idempotent)
        if idempotent:
            self._count(point_id, "local-modes-unknown")
            return _RUN_LOCAL
        self._count(point_id, "raised-modes-unknown")
        last = ""
        if cached is not None:
            last = "; last seen here in %s mode at version %d, which may have changed since" % (cached.mode, cached.version)
        raise ModesUnknown(
            "%s: no answer from the strangler proxy at %s within %.1fs (%s)%s; a point that is not idempotent "
            "is not run locally on a guess (Client(modes_wait=...) / STRANGLER_MODES_WAIT)"
            % (point_id, self.url or self._url_file or "?", self.modes_wait, self._last_poll_error or "no answer yet", last))

    # -- shadow ------------------------------------------------------------

    def _shadow(self, point_id, p, fn, args, kwargs, noise):
        self._count(point_id, "shadow")
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
            body = _call_body(args, kwargs, fn)
        except NotJsonSafe as exc:
            # Running it locally would be a write on the legacy side of a point
            # whose traffic is the service's: the caller fixes the argument.
            self._count(point_id, "refused-not-json-safe")
            raise NotJsonSafe("%s: %s" % (point_id, exc)) from None
        try:
            status, headers, data = self._call(point_id, body, p.timeout + self.timeout_margin, not p.idempotent)
        except _Unsent as exc:
            # Nothing was sent, so nothing ran; but the mode says service, and
            # only a read may run here without the proxy's word.
            if p.idempotent:
                self._count(point_id, "fallback-unreachable")
                return fn(*args, **kwargs)
            self._count(point_id, "raised-unreachable")
            raise ProxyUnreachable("%s: the strangler proxy at %s did not take the call (%s); its arguments were "
                                   "never sent, and a point that is not idempotent is not run locally in %s mode"
                                   % (point_id, self.url, exc, p.mode)) from exc
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
                result = decode_value(json.loads(data)["result"])
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

    def _call(self, point_id, body, timeout, expect_continue=False):
        conn = getattr(self._local, "conn", None)
        fresh = conn is None or time.monotonic() - getattr(self._local, "used", 0) > _REUSE_S
        if fresh:
            if conn is not None:
                conn.close()
            conn = self._new_conn(timeout)
            self._local.conn = conn
        conn.timeout = timeout
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        try:
            answer = self._request(conn, "POST", "/.strangler/points/%s/call" % point_id, body, timeout,
                                   expect_continue=expect_continue)
            self._local.used = time.monotonic()
            return answer
        except _Unsent:
            conn.close()
            self._local.conn = None
            if fresh:
                raise
            # A kept-alive connection the proxy closed as this call set out:
            # nothing was sent, so once more on a new connection.
            return self._call(point_id, body, timeout, expect_continue)
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
        known = self._known.is_set() and self._etag
        # Before the first answer: never held, and the modes cache's ETag, so a
        # 304 confirms the cached listing is the proxy's current one.
        etag = self._etag if known else (self._cached_etag if self._cached else None)
        headers = {"If-None-Match": etag} if etag else {}
        path = "/.strangler/points?wait=%d" % wait if wait and known else "/.strangler/points"
        status, h, data = self._request(conn, "GET", path, None, wait + 5.0, headers)
        if status == 304 and not known and self._cached:
            self._points, self._etag = self._cached, etag
        elif status == 200:
            raw = json.loads(data)["points"]
            # One assignment: a caller sees the old table or the new one, never a mix.
            self._points = {k: _Point(v) for k, v in raw.items()}
            self._etag = h.get("etag")
            self._save_cache(raw, self._etag)
        elif status == 403 and _error_code(data) == "STRANGLER_E_POINTS_DISABLED":
            # The proxy's own word: it has no points token, so it serves no point
            # and refuses every call with "run it locally". Every point is legacy.
            if self._points or not self._known.is_set():
                log.warning("strangler points: the proxy at %s has points disabled (no token): every point runs locally",
                            self.url)
            self._points, self._etag = {}, None
        elif status != 304:
            raise PointCallError("GET /.strangler/points answered %d: %s" % (status, _message(data)))
        self._poll_ok()
        self._known.set()
        return bool(wait and known)

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

    def _request(self, conn, method, path, body, timeout, extra=None, expect_continue=False):
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
        if expect_continue:
            self._send_after_continue(conn, method, path, payload, headers)
        else:
            conn.request(method, path, body=payload, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data

    @staticmethod
    def _send_after_continue(conn, method, path, payload, headers):
        """Send the headers, and the arguments only once the proxy said ``100 Continue``.

        A service cannot act on a call whose arguments it never got. So a
        connection closed, reset or silent before the 100 (a stopping proxy's
        listener, a kept-alive connection it closed as this call set out) is
        _Unsent: nothing ran anywhere, which a reset after the body cannot say.
        """
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.putheader("Content-Length", str(len(payload)))
        conn.putheader("Expect", "100-continue")
        try:
            conn.endheaders()
            interim = b""
            while b"\r\n\r\n" not in interim:
                chunk = conn.sock.recv(1024)
                if not chunk:
                    raise ConnectionResetError("connection closed before 100 Continue")
                interim += chunk
                if len(interim) > 8192:
                    break
        except OSError as exc:
            raise _Unsent(exc)
        if not interim.startswith((b"HTTP/1.1 100", b"HTTP/1.0 100")) or not interim.endswith(b"\r\n\r\n"):
            # A final answer (or bytes past the 100) before the arguments: whoever
            # answered never had them. Unusable connection; nothing ran.
            raise _Unsent(PointCallError("no 100 Continue: %r" % interim[:80]))
        conn.send(payload)

    # -- counters ----------------------------------------------------------

    def _count(self, point_id, reason, n=1):
        key = (point_id, reason)
        with self._counts_lock:
            self._counts[key] += n
            # Reported to strangler's shadow evidence as skipped copies: only what concerns shadowing.
            if reason in _REPORTED:
                self._unreported[key] += n
            first = key not in self._announced
            if first:
                self._announced.add(key)
        if first:
            # The first call of each kind per point is logged; stats() has the counts.
            level = logging.WARNING if reason.startswith(("raised", "refused", "local-modes", "fallback")) else logging.INFO
            log.log(level, "strangler point %s: first call decided %s (%s)", point_id, reason,
                    _DECISIONS.get(reason.split("-status-")[0], "see stats()"))

    # -- modes cache -------------------------------------------------------

    def _cache_file(self):
        if not self._cache_dir or self._cache_dir == "off" or not self.url:
            return None
        return os.path.join(self._cache_dir, "%s.json" % hashlib.sha256(self.url.encode()).hexdigest()[:20])

    def _load_cache(self):
        """The last listing this machine saw from this proxy URL: idempotency for calls before the first answer, and an ETag to confirm."""
        path = self._cache_file()
        if path is None:
            return
        try:
            with open(path) as f:
                saved = json.load(f)
            if saved.get("url") != self.url:
                return
            self._cached = {k: _Point(v) for k, v in saved["points"].items()}
            self._cached_etag = saved.get("etag")
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return

    def _save_cache(self, raw, etag):
        path = self._cache_file()
        if path is None:
            return
        try:
            os.makedirs(self._cache_dir, mode=0o700, exist_ok=True)
            tmp = "%s.%d.tmp" % (path, os.getpid())
            with open(tmp, "w") as f:
                json.dump({"url": self.url, "etag": etag, "savedAt": time.time(), "points": raw}, f)
            os.replace(tmp, path)  # whole or not at all: another worker may read it now
        except OSError as exc:
            log.debug("strangler points: modes cache %s not written: %s", path, exc)

    def _after_fork(self):
        # Threads and sockets do not survive fork(): a forked worker starts its own.
        # The modes it inherited are the proxy's word if the parent's poller was
        # live (gunicorn preload_app): its long poll kept them current to the
        # fork. Otherwise the worker waits for its own first answer.
        live = self._started and self._known.is_set() and self._last_poll_error is None and bool(self.url)
        self._known = threading.Event()
        if live or not (self.url or self._url_file):
            self._known.set()
        self._wait_until = None
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

# Why a call went where it went, for the first-of-a-kind log line (stats() counts every call).
_DECISIONS = {
    "legacy": "mode legacy: the local function",
    "shadow": "mode shadow: the local result, a copy compared off the path",
    "canary-local": "mode canary: this key is on the legacy side",
    "service": "the service answered",
    "local-modes-unknown": "no answer from the proxy yet; an idempotent point runs locally",
    "raised-modes-unknown": "no answer from the proxy yet; ModesUnknown raised, not run locally",
    "raised-unreachable": "proxy refused the connection; ProxyUnreachable raised, not run locally",
    "refused-not-json-safe": "an argument has no JSON form; TypeError raised, not run locally",
    "raised": "the service may have acted; ServiceMayHaveActed raised",
    "fallback-unreachable": "proxy refused the connection; an idempotent point runs locally",
    "not-json-safe": "shadow: an argument or the result has no JSON form; not compared",
}

_RUN_LOCAL = object()

# A call reuses its thread's connection only if the last answer came at most this
# long ago: a stopping proxy keeps such connections open that long
# (proxy/points.ts POINT_CONNECTION_REUSE_MS), so a call never meets a close it raced.
_REUSE_S = 2.0


def _default_cache_dir():
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return os.path.join(tempfile.gettempdir(), "strangler-modes-%d" % uid)


def _error_code(data):
    try:
        return json.loads(data).get("error", "")
    except Exception:  # noqa: BLE001
        return ""


def _message(data):
    try:
        return json.loads(data).get("message", "")
    except Exception:  # noqa: BLE001
        return (data or b"")[:200].decode("utf-8", "replace")


def _reset_after_fork():
    for c in list(_clients):
        c._after_fork()


def after_fork():
    """Tell every client it now runs in a forked child (uwsgi without ``py-call-osafterfork``, whose C fork skips os.register_at_fork).

    Idempotent per fork; the client starts its own poller at the next call.
    """
    _reset_after_fork()


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


def extracted(point_id, sticky=None, decode=None, noise=True, idempotent=None):
    """``@extracted("block-check", sticky=lambda user_id, *_: user_id)`` on the default client."""

    def wrap(fn):
        # The default client is resolved at call time (decorating at import needs
        # no configuration yet); the bound wrapper is kept until configure() replaces it.
        cache = [None, None]

        @functools.wraps(fn)
        def call(*args, **kwargs):
            client = _default or default_client()
            if cache[0] is not client:
                cache[1] = client.extracted(point_id, sticky=sticky, decode=decode, noise=noise,
                                            idempotent=idempotent)(fn)
                cache[0] = client
            return cache[1](*args, **kwargs)

        call.strangler_point = point_id
        return call

    return wrap
