"""Per-call cost of an extraction point in the caller's thread, driven by bench/extraction-point.ts.

    python3 bench/extraction-point.py MODE CALLS ROUNDS

Reads STRANGLER_URL / STRANGLER_POINTS_TOKEN, waits until the client reads
MODE for point "block-check" from the proxy, then times CALLS calls per round
one by one (perf_counter_ns around each call) of the same function plain and
decorated, interleaved per round so both see the same machine. Prints one
JSON line: per-call ns samples summarised (p50, p90, p99, mean) for plain and
decorated, and the client's counters.
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients", "python"))

import strangler_client  # noqa: E402


def block_check(user_id):
    # Shaped like examples/monolith/block.py's check, without the database:
    # the point is the decorator's cost, not SQLite's.
    return {"blocked": [user_id + 1, user_id + 2, user_id + 3], "blocked_by": [user_id + 4]}


def pct(sorted_ns, p):
    return sorted_ns[min(len(sorted_ns) - 1, int(len(sorted_ns) * p / 100))]


def summary(ns):
    ns = sorted(ns)
    return {"p50": pct(ns, 50), "p90": pct(ns, 90), "p99": pct(ns, 99), "mean": sum(ns) / len(ns), "n": len(ns)}


def main():
    mode, calls, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    client = strangler_client.Client(poll_interval=0.1)
    decorated = client.extracted("block-check", sticky=lambda user_id, *_: user_id)(block_check)
    client.start()
    deadline = time.monotonic() + 10
    while client.mode("block-check") != mode:
        if time.monotonic() > deadline:
            print(json.dumps({"error": "client never saw mode %s (has %s)" % (mode, client.mode("block-check"))}))
            return 1
        time.sleep(0.05)
    clock = time.perf_counter_ns
    plain_ns, point_ns = [], []
    for r in range(rounds):
        for i in range(1, calls + 1):
            t0 = clock()
            block_check(i)
            t1 = clock()
            decorated(i)
            t2 = clock()
            plain_ns.append(t1 - t0)
            point_ns.append(t2 - t1)
        # Give the shadow sender a moment between rounds, as real traffic has gaps.
        time.sleep(0.02)
    client.flush(10)
    timer = []
    for _ in range(10000):
        t0 = clock()
        t1 = clock()
        timer.append(t1 - t0)
    print(json.dumps({"mode": mode, "plain": summary(plain_ns), "point": summary(point_ns),
                      "timer": summary(timer), "stats": client.stats().get("block-check", {})}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
