"""Heartbeats counted in bulk: Locust's stats read as if each had been its own request.

Importing Locust monkey-patches the process with gevent, so the comparison runs in a
subprocess.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

DRIVER = textwrap.dedent(
    """
    import json
    import locust  # gevent monkey-patching first
    from locust.stats import RequestStats
    from simulator.tablet.beats import Beats, locust_sink

    latencies = [0.4, 3.2, 3.4, 47.0, 151.0, 1234.0, 12.0, 12.4]

    def figures(stats):
        out = {}
        for entry in [stats.get("heartbeat", "WS"), stats.total]:
            out[entry.name] = {
                "requests": entry.num_requests,
                "total_ms": round(entry.total_response_time, 6),
                "min": entry.min_response_time,
                "max": entry.max_response_time,
                "length": entry.total_content_length,
                "buckets": sorted(entry.response_times.items()),
                "p50": entry.get_response_time_percentile(0.5),
                "p99": entry.get_response_time_percentile(0.99),
                "failures": entry.num_failures,
                "per_second": sum(entry.num_reqs_per_sec.values()),
            }
        return out

    one_by_one = RequestStats()
    for ms in latencies:
        one_by_one.log_request("WS", "heartbeat", ms, 60)
    bulk = RequestStats()
    beats = Beats()
    beats.add_sink(locust_sink(bulk))
    for ms in latencies[:3]:
        beats.add("WS", "heartbeat", ms, 60)
    beats.flush()
    for ms in latencies[3:]:
        beats.add("WS", "heartbeat", ms, 60)
    beats.flush()
    beats.flush()  # nothing pending: no empty batch
    print(json.dumps({"one_by_one": figures(one_by_one), "bulk": figures(bulk)}))
    """
)


def test_locust_stats_of_heartbeats_in_bulk_equal_those_of_one_request_each() -> None:
    out = subprocess.run(
        [sys.executable, "-c", DRIVER], capture_output=True, text=True, timeout=60, check=True
    )
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["bulk"] == got["one_by_one"]
    assert got["bulk"]["heartbeat"]["requests"] == 8
    assert got["bulk"]["Aggregated"]["requests"] == 8


TIMER = textwrap.dedent(
    """
    import json, time
    import gevent
    from simulator.tablet.beats import FLUSH_EVERY_S, Beats

    got = []
    beats = Beats()
    beats.add_sink(lambda batch: got.append(batch.count))
    beats.add("WS", "heartbeat", 3.0, 60)
    beats.add("WS", "heartbeat", 4.0, 60)
    gevent.sleep(FLUSH_EVERY_S * 1.5)  # no explicit flush: the hub's timer does it
    first = list(got)
    t = time.monotonic()
    gevent.wait(timeout=5)  # the timer does not keep the hub alive: returns at once
    print(json.dumps({"first": first, "held": time.monotonic() - t > 2}))
    """
)


def test_the_timer_hands_a_batch_over_without_holding_the_process() -> None:
    out = subprocess.run(
        [sys.executable, "-c", TIMER], capture_output=True, text=True, timeout=30, check=True
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"first": [2], "held": False}
