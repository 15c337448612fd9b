"""Tests of strangler_client against a stand-in proxy on a real socket (stdlib only).

    python3 -m unittest discover -s clients/python/tests

The stand-in speaks the points protocol (docs/extraction-points.md) and records
what it received; the end-to-end tests with the real proxy, monolith and
block-service are in test/points/*.test.ts.
"""

import datetime
import decimal
import enum
import json
import logging
import os
import sys
import tempfile
import threading
import time
import unittest
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import strangler_client as sc  # noqa: E402

TOKEN = "t0ken"
# Each run its own modes cache, so no test reads what another left behind.
os.environ["STRANGLER_MODES_CACHE"] = tempfile.mkdtemp(prefix="strangler-modes-test-")
logging.getLogger("strangler_client").setLevel(logging.CRITICAL)


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients that time out on purpose leave broken pipes behind


class FakeProxy(object):
    def __init__(self):
        self.points = {}
        self.version = 0
        self.requests = []  # (method, path)
        self.shadow = []  # parsed batches
        self.call_answer = None  # callable(body) -> (status, headers, body)
        self.list_delay = 0.0  # seconds before a mode poll is answered
        self.disabled = False  # answer 403 STRANGLER_E_POINTS_DISABLED (no token configured on the proxy)
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _send(self, status, body=b"", headers=None):
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                with fake.lock:
                    fake.requests.append(("GET", self.path))
                time.sleep(fake.list_delay)
                if fake.disabled:
                    return self._send(403, b'{"error":"STRANGLER_E_POINTS_DISABLED","message":"no token"}')
                if self.headers.get("Authorization") != "Bearer " + TOKEN:
                    return self._send(401, b'{"error":"STRANGLER_E_POINTS_UNAUTHORIZED","message":"token"}')
                etag = '"v%d"' % fake.version
                if self.headers.get("If-None-Match") == etag:
                    return self._send(304, b"", {"ETag": etag})
                self._send(200, json.dumps({"points": fake.points}).encode(), {"ETag": etag})

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                with fake.lock:
                    fake.requests.append(("POST", self.path))
                if self.path.endswith("/shadow"):
                    with fake.lock:
                        fake.shadow.append(json.loads(body))
                    return self._send(202, b'{"accepted":1}')
                status, headers, out = fake.call_answer(json.loads(body))
                self._send(status, out, headers)

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def set_point(self, pid, **fields):
        d = {"mode": "legacy", "weight": 0, "version": 1, "idempotent": True, "timeoutMs": 300,
             "sampleRate": 1, "noiseSampleRate": 0}
        d.update(fields)
        with self.lock:
            self.points[pid] = d
            self.version += 1

    def calls(self):
        with self.lock:
            return [r for r in self.requests if r[1].endswith("/call")]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def service_ok(result):
    return lambda body: (200, {"x-strangler-target": "service"}, json.dumps({"result": result}).encode())


def wait_for(pred, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.01)
    return pred()


class JsonSafety(unittest.TestCase):
    def test_accepts_plain_json_values(self):
        self.assertEqual(sc.to_json({"a": [1, 2.5, None, True, "é"]}), '{"a":[1,2.5,null,true,"é"]}')

    def test_typed_values_travel_tagged_and_come_back_equal(self):
        class Color(enum.Enum):
            RED = "red"

        tz = datetime.timezone(datetime.timedelta(hours=2))
        values = [
            decimal.Decimal("12.30"), decimal.Decimal("-1E+3"), datetime.datetime(2026, 12, 7, 23, 1, 2, 345678, tz),
            datetime.datetime(2026, 1, 2, 3, 4), datetime.date(2026, 12, 7), datetime.time(23, 59, 1, 5),
            datetime.timedelta(days=-1, seconds=5, microseconds=7), uuid.UUID("12345678-1234-5678-1234-567812345678"),
            (1, "a", (2,)), {3, 1, 2}, frozenset(["x"]), b"\x00\xffbytes", bytearray(b"ba"), {1: "int key", None: 2},
            {"$strangler": "not a tag"}, float("inf"), float("-inf"), [[(1,)]], {"nested": [decimal.Decimal("0.1")]},
        ]
        for v in values:
            text = sc.to_json(v)
            back = sc.decode_value(json.loads(text))
            self.assertEqual(back, v, text)
            self.assertIs(type(back), type(v), text)
        self.assertEqual(sc.to_json(decimal.Decimal("12.30")), '{"$strangler":"decimal","v":"12.30"}')
        self.assertEqual(sc.to_json({2, 10, 1}), '{"$strangler":"set","v":[1,10,2]}')  # sorted by JSON text
        nan = sc.decode_value(json.loads(sc.to_json(float("nan"))))
        self.assertTrue(nan != nan)
        # An enum decodes to its value unless its class is named (never imported from a message).
        self.assertEqual(sc.decode_value(json.loads(sc.to_json(Color.RED))), "red")
        name = "%s.%s" % (Color.__module__, Color.__qualname__)
        self.assertIs(sc.decode_value(json.loads(sc.to_json(Color.RED)), {name: Color}), Color.RED)

    def test_the_service_side_decodes_a_call_and_encodes_a_result(self):
        body = sc._call_body((decimal.Decimal("9.99"), (1, 2)), {"at": datetime.date(2026, 1, 1)})
        args, kwargs = sc.decode_call(body.encode())
        self.assertEqual(args, (decimal.Decimal("9.99"), (1, 2)))
        self.assertEqual(kwargs, {"at": datetime.date(2026, 1, 1)})
        self.assertEqual(sc.encode_result({"total": decimal.Decimal("1.5")}),
                         '{"result":{"total":{"$strangler":"decimal","v":"1.5"}}}')
        with self.assertRaises(ValueError):
            sc.decode_value({"$strangler": "pickle", "v": "..."})
        with self.assertRaises(ValueError):
            sc.decode_value({"$strangler": "decimal"})

    def test_refuses_what_has_no_json_form_naming_where(self):
        class Card(object):
            pass

        class Safe(str):
            pass

        for bad in [object(), Card(), Safe("x"), [1, {"a": Card()}], {1: Card()}]:
            with self.assertRaises(sc.NotJsonSafe, msg=repr(bad)):
                sc.to_json(bad)
        with self.assertRaises(TypeError) as caught:
            sc.to_json([1, {"a": Card()}])
        self.assertIn("[1]['a']", str(caught.exception))

        def charge(order_id, card, amount=None):
            pass

        with self.assertRaises(TypeError) as caught:
            sc._call_body((1, Card()), {}, charge)
        self.assertIn("argument 2 (card)", str(caught.exception))
        with self.assertRaises(TypeError) as caught:
            sc._call_body((1,), {"amount": [Card()]}, charge)
        self.assertIn("argument amount[0]", str(caught.exception))

    def test_refuses_circular_structures(self):
        a = []
        a.append(a)
        with self.assertRaises(sc.NotJsonSafe):
            sc.to_json(a)


class StickyPoint(unittest.TestCase):
    def test_same_points_as_the_proxy(self):
        # Values printed by proxy/choose-target.ts stickyPoint (also checked live by test/points/python-client.process.test.ts).
        self.assertAlmostEqual(sc.sticky_point("block-check", "7"), 78.83734160568565, places=9)
        self.assertAlmostEqual(sc.sticky_point("block-check", "user-42"), 3.9136735955253243, places=9)
        self.assertAlmostEqual(sc.sticky_point("p", "é€😀"), 8.079163753427565, places=9)


class ClientModes(unittest.TestCase):
    def setUp(self):
        self.proxy = FakeProxy()
        self.client = sc.Client(url=self.proxy.url, token=TOKEN, poll_interval=0.05, timeout_margin=0.3)
        self.local_calls = []

        def list_blocked(user_id):
            self.local_calls.append(user_id)
            return [user_id + 1, user_id + 2]

        self.fn = self.client.extracted("block-check", sticky=lambda user_id, *_: user_id)(list_blocked)

    def tearDown(self):
        self.client.close()
        self.proxy.close()

    def test_legacy_makes_no_network_call_per_call(self):
        self.proxy.set_point("block-check", mode="legacy")
        self.assertTrue(self.client.wait_ready())
        for i in range(500):
            self.assertEqual(self.fn(i), [i + 1, i + 2])
        self.assertEqual(self.proxy.calls(), [])
        self.assertEqual(len(self.local_calls), 500)

    def test_a_flip_reaches_the_process_within_a_second(self):
        self.proxy.set_point("block-check", mode="legacy")
        self.assertTrue(self.client.wait_ready())
        self.proxy.call_answer = service_ok([99])
        self.proxy.set_point("block-check", mode="service", version=2)
        started = time.monotonic()
        self.assertTrue(wait_for(lambda: self.client.mode("block-check") == "service", 1.0))
        self.assertLess(time.monotonic() - started, 1.0)
        self.assertEqual(self.fn(1), [99])
        self.assertEqual(len(self.proxy.calls()), 1)

    def test_polls_are_conditional(self):
        self.proxy.set_point("block-check", mode="legacy")
        self.assertTrue(self.client.wait_ready())
        time.sleep(0.3)
        gets = [r for r in self.proxy.requests if r[0] == "GET"]
        self.assertGreater(len(gets), 2)
        self.assertEqual(self.client.mode("block-check"), "legacy")

    def test_shadow_returns_the_local_result_and_sends_args_and_result_off_the_path(self):
        self.proxy.set_point("block-check", mode="shadow")
        self.assertTrue(self.client.wait_ready())
        self.assertEqual(self.fn(5), [6, 7])
        self.assertTrue(self.client.flush())
        self.assertTrue(wait_for(lambda: self.proxy.shadow))
        call = self.proxy.shadow[0]["calls"][0]
        self.assertEqual(json.loads(call["call"]), {"args": [5], "kwargs": {}})
        self.assertEqual(json.loads(call["result"]), {"result": [6, 7]})
        self.assertEqual(self.proxy.calls(), [])

    def test_shadow_refuses_non_json_values_and_counts_them(self):
        self.proxy.set_point("block-check", mode="shadow")
        self.assertTrue(self.client.wait_ready())
        marker = object()
        as_obj = self.client.extracted("block-check")(lambda user_id: marker)
        self.assertIs(as_obj(3), marker)
        self.assertEqual(self.client.stats()["block-check"]["not-json-safe"], 1)
        self.assertTrue(wait_for(lambda: any(b["skipped"].get("not-json-safe") for b in self.proxy.shadow)))

    def test_shadow_queue_is_bounded_dropped_and_counted(self):
        self.client.close()
        self.client = sc.Client(url=self.proxy.url, token=TOKEN, poll_interval=0.05, queue_size=0)
        fn = self.client.extracted("block-check")(lambda user_id: [user_id])
        self.proxy.set_point("block-check", mode="shadow")
        self.assertTrue(self.client.wait_ready())
        for i in range(10):
            self.assertEqual(fn(i), [i])
        self.assertEqual(self.client.stats()["block-check"]["queue-full"], 10)

    def test_shadow_noise_sample_runs_the_local_function_again(self):
        self.proxy.set_point("block-check", mode="shadow", noiseSampleRate=1)
        self.assertTrue(self.client.wait_ready())
        self.fn(8)
        self.assertEqual(self.local_calls, [8, 8])
        self.assertTrue(self.client.flush())
        self.assertTrue(wait_for(lambda: self.proxy.shadow))
        self.assertIn("again", self.proxy.shadow[0]["calls"][0])

    def test_service_mode_answers_from_the_service(self):
        self.proxy.call_answer = service_ok([42])
        self.proxy.set_point("block-check", mode="service")
        self.assertTrue(self.client.wait_ready())
        self.assertEqual(self.fn(1), [42])
        self.assertEqual(self.local_calls, [])

    def test_decode_turns_the_json_result_back_into_the_local_type(self):
        self.proxy.call_answer = service_ok([1, 2])
        self.proxy.set_point("block-check", mode="service")
        self.assertTrue(self.client.wait_ready())
        fn = self.client.extracted("block-check", decode=set)(lambda user_id: {1, 2})
        self.assertEqual(fn(1), {1, 2})

    def test_fallback_local_runs_the_local_function(self):
        self.proxy.call_answer = lambda body: (503, {"x-strangler-fallback": "local", "x-strangler-failover": "breaker-open"},
                                               b'{"error":"STRANGLER_E_POINT_FALLBACK"}')
        self.proxy.set_point("block-check", mode="service")
        self.assertTrue(self.client.wait_ready())
        self.assertEqual(self.fn(1), [2, 3])
        self.assertEqual(self.client.stats()["block-check"]["fallback-breaker-open"], 1)

    def test_fallback_none_raises_and_never_runs_locally(self):
        self.proxy.call_answer = lambda body: (502, {"x-strangler-fallback": "none", "x-strangler-target": "service"},
                                               b'{"error":"STRANGLER_E_UNSAFE_RETRY","message":"may have run"}')
        self.proxy.set_point("block-check", mode="service", idempotent=False)
        self.assertTrue(self.client.wait_ready())
        with self.assertRaises(sc.ServiceMayHaveActed):
            self.fn(1)
        self.assertEqual(self.local_calls, [])

    def test_timeout_after_sending_raises_for_a_non_idempotent_point(self):
        def slow(body):
            time.sleep(1.0)
            return service_ok([1])(body)

        self.proxy.call_answer = slow
        self.proxy.set_point("block-check", mode="service", idempotent=False, timeoutMs=100)
        self.assertTrue(self.client.wait_ready())
        with self.assertRaises(sc.ServiceMayHaveActed):
            self.fn(1)
        self.assertEqual(self.local_calls, [])

    def test_an_answer_not_from_strangler_raises_for_a_non_idempotent_point(self):
        # A load balancer between the monolith and the proxy answers 504 after its
        # own read timeout while the proxy (and the service) still work on the call:
        # no strangler header says the service was never called, so the call may
        # have run there and must not run locally too.
        self.proxy.call_answer = lambda body: (504, {"Content-Type": "text/html"},
                                               b"<html><body>504 Gateway Time-out</body></html>")
        self.proxy.set_point("block-check", mode="service", idempotent=False)
        self.assertTrue(self.client.wait_ready())
        with self.assertRaises(sc.ServiceMayHaveActed):
            self.fn(1)
        self.assertEqual(self.local_calls, [])

    def test_an_answer_not_from_strangler_runs_locally_for_an_idempotent_point(self):
        self.proxy.call_answer = lambda body: (502, {}, b"bad gateway")
        self.proxy.set_point("block-check", mode="service", idempotent=True)
        self.assertTrue(self.client.wait_ready())
        self.assertEqual(self.fn(1), [2, 3])
        self.assertEqual(self.client.stats()["block-check"]["fallback-status-502"], 1)

    def test_timeout_after_sending_runs_locally_for_an_idempotent_point(self):
        def slow(body):
            time.sleep(1.0)
            return service_ok([1])(body)

        self.proxy.call_answer = slow
        self.proxy.set_point("block-check", mode="service", idempotent=True, timeoutMs=100)
        self.assertTrue(self.client.wait_ready())
        self.assertEqual(self.fn(1), [2, 3])

    def test_proxy_gone_runs_locally_only_for_an_idempotent_point(self):
        self.proxy.set_point("block-check", mode="service", idempotent=True)
        self.assertTrue(self.client.wait_ready())
        self.client.close()  # stop polling: keep the service mode it read
        self.proxy.close()
        self.assertEqual(self.fn(4), [5, 6])
        self.assertEqual(self.client.stats()["block-check"]["fallback-unreachable"], 1)

    def test_proxy_gone_raises_for_a_non_idempotent_point_in_service_mode(self):
        self.proxy.set_point("block-check", mode="service", idempotent=False)
        self.assertTrue(self.client.wait_ready())
        self.client.close()
        self.proxy.close()
        with self.assertRaises(sc.ProxyUnreachable):
            self.fn(4)
        self.assertEqual(self.local_calls, [])
        self.assertEqual(self.client.stats()["block-check"]["raised-unreachable"], 1)

    def test_a_connection_closed_before_100_continue_is_nothing_sent(self):
        import socket

        # A listener that reads a call's headers and closes without a 100 Continue (a stopping proxy).
        lsock = socket.socket()
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(8)
        received = []

        def serve():
            while True:
                try:
                    c, _ = lsock.accept()
                except OSError:
                    return
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = c.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                received.append(data)
                c.close()

        threading.Thread(target=serve, daemon=True).start()
        self.proxy.set_point("block-check", mode="service", idempotent=False)
        self.assertTrue(self.client.wait_ready())
        self.client._port = lsock.getsockname()[1]  # calls go to the closing listener from now on
        with self.assertRaises(sc.ProxyUnreachable):
            self.fn(1)
        lsock.close()
        self.assertEqual(self.local_calls, [])
        self.assertIn(b"Expect: 100-continue", received[0])
        self.assertTrue(all(b'"args"' not in r for r in received))  # the arguments never left
        self.assertEqual(self.client.stats()["block-check"]["raised-unreachable"], 1)

    def test_typed_arguments_reach_the_service_and_typed_results_come_back(self):
        got = []

        def answer(body):
            got.append(body)
            return 200, {"x-strangler-target": "service"}, sc.encode_result(decimal.Decimal("2.50")).encode()

        self.proxy.call_answer = answer
        self.proxy.set_point("block-check", mode="service")
        self.assertTrue(self.client.wait_ready())
        fn = self.client.extracted("block-check")(lambda amount, when: self.local_calls.append(amount))
        self.assertEqual(fn(decimal.Decimal("12.30"), when=datetime.date(2026, 12, 7)), decimal.Decimal("2.50"))
        self.assertEqual(got, [{"args": [{"$strangler": "decimal", "v": "12.30"}],
                                "kwargs": {"when": {"$strangler": "date", "v": "2026-12-07"}}}])
        self.assertEqual(self.local_calls, [])

    def test_an_argument_with_no_json_form_raises_in_service_mode_never_runs_locally(self):
        self.proxy.call_answer = service_ok([1])
        self.proxy.set_point("block-check", mode="service", idempotent=True)
        self.assertTrue(self.client.wait_ready())

        def charge(order_id, card):
            self.local_calls.append(order_id)

        fn = self.client.extracted("block-check")(charge)
        with self.assertRaises(TypeError) as caught:
            fn(1, object())
        self.assertIn("argument 2 (card)", str(caught.exception))
        self.assertEqual(self.local_calls, [])
        self.assertEqual(self.proxy.calls(), [])
        self.assertEqual(self.client.stats()["block-check"]["refused-not-json-safe"], 1)

    def test_canary_is_sticky_by_the_key_function(self):
        self.proxy.call_answer = service_ok(["svc"])
        self.proxy.set_point("block-check", mode="canary", weight=50)
        self.assertTrue(self.client.wait_ready())
        for user in range(40):
            expect_service = sc.sticky_point("block-check", str(user)) < 50
            for _ in range(2):
                got = self.fn(user)
                self.assertEqual(got == ["svc"], expect_service, user)
        sides = {sc.sticky_point("block-check", str(u)) < 50 for u in range(40)}
        self.assertEqual(sides, {True, False})

    def test_without_a_url_every_point_stays_legacy(self):
        client = sc.Client(url="", token="")
        fn = client.extracted("block-check")(lambda x: x * 2)
        self.assertEqual(fn(2), 4)
        self.assertEqual(client.mode("block-check"), "legacy")

    def test_url_from_a_file_written_after_start(self):
        import tempfile

        self.proxy.set_point("block-check", mode="shadow")
        d = tempfile.mkdtemp()
        url_file = os.path.join(d, "url")
        client = sc.Client(token=TOKEN, poll_interval=0.05, url_file=url_file)
        client.start()
        time.sleep(0.1)
        self.assertEqual(client.mode("block-check"), "legacy")
        with open(url_file, "w") as f:
            f.write(self.proxy.url + "\n")
        self.assertTrue(wait_for(lambda: client.mode("block-check") == "shadow", 2.0))
        client.close()

    def test_wrong_token_keeps_legacy(self):
        client = sc.Client(url=self.proxy.url, token="wrong", poll_interval=0.05)
        self.proxy.set_point("block-check", mode="service")
        self.assertFalse(client.wait_ready(0.5))
        self.assertEqual(client.mode("block-check"), "legacy")
        client.close()


class ModesNotKnownYet(unittest.TestCase):
    """A new process never guesses a mode: it waits (bounded) for the proxy's first answer."""

    def setUp(self):
        self.proxy = FakeProxy()
        self.local_calls = []

    def tearDown(self):
        self.proxy.close()

    def charge_fn(self, client, **kw):
        def charge(order_id):
            self.local_calls.append(order_id)
            return "local"

        return client.extracted("payments-charge", **kw)(charge)

    def test_the_first_call_waits_for_the_first_answer_and_goes_to_the_service(self):
        self.proxy.list_delay = 0.3
        self.proxy.call_answer = service_ok("service")
        self.proxy.set_point("payments-charge", mode="service", idempotent=False)
        client = sc.Client(url=self.proxy.url, token=TOKEN, poll_interval=0.05, modes_wait=3)
        self.assertEqual(self.charge_fn(client)(1), "service")
        self.assertEqual(self.local_calls, [])
        self.assertEqual(client.stats()["payments-charge"], {"service": 1})
        client.close()

    def test_no_answer_raises_for_a_non_idempotent_point_and_never_runs_it(self):
        self.proxy.close()  # nothing listens at the URL
        client = sc.Client(url=self.proxy.url, token=TOKEN, poll_interval=0.05, modes_wait=0.3)
        fn = self.charge_fn(client)
        for _ in range(3):
            with self.assertRaises(sc.ModesUnknown) as caught:
                fn(1)
        self.assertIn("payments-charge", str(caught.exception))
        self.assertEqual(self.local_calls, [])
        self.assertEqual(client.stats()["payments-charge"], {"raised-modes-unknown": 3})
        client.close()

    def test_no_answer_runs_an_idempotent_point_locally_counted(self):
        self.proxy.close()
        client = sc.Client(url=self.proxy.url, token=TOKEN, poll_interval=0.05, modes_wait=0.2)
        fn = self.charge_fn(client, idempotent=True)
        self.assertEqual(fn(1), "local")
        self.assertEqual(fn(2), "local")
        self.assertEqual(client.stats()["payments-charge"], {"local-modes-unknown": 2})
        client.close()

    def test_the_wait_is_once_per_start_not_per_call(self):
        self.proxy.close()
        client = sc.Client(url=self.proxy.url, token=TOKEN, poll_interval=0.05, modes_wait=0.4)
        fn = self.charge_fn(client, idempotent=True)
        fn(1)
        started = time.monotonic()
        for i in range(20):
            fn(i)
        self.assertLess(time.monotonic() - started, 0.4 * 20 / 2)  # 20 calls did not each wait again
        client.close()

    def test_the_modes_cache_says_which_points_are_idempotent_never_which_mode(self):
        cache = tempfile.mkdtemp()
        self.proxy.set_point("payments-charge", mode="legacy", idempotent=False, version=7)
        self.proxy.set_point("pricing-quote", mode="legacy", idempotent=True)
        first = sc.Client(url=self.proxy.url, token=TOKEN, poll_interval=0.05, modes_cache=cache)
        self.assertTrue(first.wait_ready())
        first.close()
        self.assertEqual(len(os.listdir(cache)), 1)
        url = self.proxy.url
        self.proxy.close()
        second = sc.Client(url=url, token=TOKEN, poll_interval=0.05, modes_wait=0.2, modes_cache=cache)
        quote = second.extracted("pricing-quote")(lambda sku: "local-quote")
        self.assertEqual(quote("a"), "local-quote")  # cached: idempotent, so it may run locally
        with self.assertRaises(sc.ModesUnknown) as caught:
            self.charge_fn(second)(1)  # cached legacy is not obeyed: it may be service by now
        self.assertIn("legacy mode at version 7", str(caught.exception))
        self.assertEqual(self.local_calls, [])
        second.close()

    def test_a_304_to_the_cached_etag_confirms_the_cached_modes(self):
        cache = tempfile.mkdtemp()
        self.proxy.call_answer = service_ok("service")
        self.proxy.set_point("payments-charge", mode="service", idempotent=False)
        first = sc.Client(url=self.proxy.url, token=TOKEN, poll_interval=0.05, modes_cache=cache)
        self.assertTrue(first.wait_ready())
        first.close()
        second = sc.Client(url=self.proxy.url, token=TOKEN, poll_interval=0.05, modes_cache=cache)
        self.assertTrue(second.wait_ready())
        self.assertEqual(second.mode("payments-charge"), "service")
        self.assertEqual(self.charge_fn(second)(1), "service")
        second.close()

    def test_a_proxy_with_points_disabled_is_an_answer_every_point_legacy(self):
        self.proxy.disabled = True
        client = sc.Client(url=self.proxy.url, token=TOKEN, poll_interval=0.05, modes_wait=2)
        self.assertEqual(self.charge_fn(client)(1), "local")
        self.assertTrue(client.known())
        self.assertEqual(client.stats()["payments-charge"], {"legacy": 1})
        client.close()

    @unittest.skipUnless(hasattr(os, "fork"), "needs fork()")
    def test_a_forked_worker_keeps_modes_its_parent_was_following(self):
        self.proxy.call_answer = service_ok("service")
        self.proxy.set_point("payments-charge", mode="service", idempotent=False)
        client = sc.Client(url=self.proxy.url, token=TOKEN, poll_interval=0.05, modes_wait=0)
        self.assertTrue(client.wait_ready())
        fn = self.charge_fn(client)
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: known at once, no wait (modes_wait=0 would raise otherwise)
            try:
                os.write(w, ("%s %s" % (client.known(), fn(1))).encode())
            finally:
                os._exit(0)
        os.close(w)
        out = os.read(r, 100).decode()
        os.waitpid(pid, 0)
        self.assertEqual(out, "True service")
        client.close()


if __name__ == "__main__":
    unittest.main()
