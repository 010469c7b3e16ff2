"""The generator's report to the master: answers gone offline per centre, its memory, and
the ledger shipped at the end."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import psutil

from simulator.run.reconcile import LedgerInbox
from simulator.run.tally import REPORT_KEY, Tally
from simulator.settings import FailureKind, TabletFailure
from simulator.tablet.beats import Beats
from simulator.tablet.ledger import LEDGER_MESSAGE, Ledger
from simulator.tablet.offline import AnswerQueue
from vigie.wire.http import AnswerIn, AnswerResult


def down(unit_id: str, b: AnswerIn) -> AnswerResult:
    raise TabletFailure(FailureKind.REFUSED, "down")


def ok(unit_id: str, b: AnswerIn) -> AnswerResult:
    return AnswerResult(b.action_id, b.question_id, 2.0, b.client_ts, False, None)


def give(ledger: Ledger, queue: AnswerQueue, question_id: str) -> None:
    queue.add("U1", AnswerIn(ledger.new_action_id(), question_id, {"scale": 1}, False, 1.0))
    queue.flush()


class Events:
    def __init__(self) -> None:
        self.listeners: dict[str, list[Any]] = {}

    def __getattr__(self, name: str) -> Any:
        hooks = self.listeners.setdefault(name, [])
        return SimpleNamespace(add_listener=hooks.append)


def test_the_report_counts_answers_queued_offline_and_pending_per_centre() -> None:
    ledger = Ledger()
    tally = Tally(ledger)
    lille = AnswerQueue(down, lambda: None)
    lille.bind(ledger, "LILLE-1", "LILLE")
    brest = AnswerQueue(ok, lambda: None)
    brest.bind(ledger, "BREST-1", "BREST")
    give(ledger, lille, "q1")
    give(ledger, lille, "q2")
    give(ledger, brest, "q1")
    report = tally.drain()
    assert report["offline_queued"] == {"LILLE": 2}
    assert report["offline_pending"] == {"LILLE": 2}
    lille.send = ok
    lille.flush()
    report = tally.drain()
    assert report["offline_queued"] == {"LILLE": 2}  # cumulative
    assert report["offline_pending"] == {}


def test_a_worker_ships_its_ledger_when_its_tablets_stop() -> None:
    ledger = Ledger()
    queue = AnswerQueue(ok, lambda: None)
    queue.bind(ledger, "LILLE-1", "LILLE")
    for i in range(5):
        give(ledger, queue, f"q{i}")
    events = Events()
    Tally(ledger).install(events, report_to_master=True)
    inbox = LedgerInbox()
    sent: list[str] = []

    def send_message(msg_type: str, data: Any) -> None:
        sent.append(msg_type)
        inbox.on_message(msg=SimpleNamespace(node_id="w1", data=data))

    environment = SimpleNamespace(runner=SimpleNamespace(send_message=send_message))
    report: dict[str, Any] = {}
    events.listeners["report_to_master"][0]("w1", report)
    assert REPORT_KEY in report
    for listener in events.listeners["test_stop"]:
        listener(environment=environment)
    assert sent == [LEDGER_MESSAGE] and inbox.complete() == 1
    assert len(inbox.acked()) == 5


def test_each_report_carries_the_process_resident_memory() -> None:
    events = Events()
    Tally(Ledger()).install(events, report_to_master=True)
    report: dict[str, Any] = {}
    events.listeners["report_to_master"][0]("w1", report)
    rss = report[REPORT_KEY]["rss"]
    # This very process, give or take what it allocated in between (a few MiB).
    assert isinstance(rss, int)
    assert abs(rss - psutil.Process().memory_info().rss) < 64 * 2**20


def test_a_busy_process_reports_its_own_lag_and_the_calls_it_held_back() -> None:
    import time

    import gevent

    from simulator.tablet.api import HTTP_WAITS

    tally = Tally(Ledger())
    probe = gevent.spawn(tally.probe_lag, rounds=1)
    gevent.sleep(0)  # the probe starts its 0.2 s sleep...
    time.sleep(0.5)  # ...and the process is busy elsewhere, the loop blocked
    probe.join(timeout=5)
    HTTP_WAITS.add(250.0)
    HTTP_WAITS.add(0.0)
    report = tally.drain()
    assert report["lag_ms"] >= 250
    assert report["http_wait"] == {"0": 1, "250": 1}
    assert 0.0 <= report["host_cpu"] <= 1.0
    again = tally.drain()  # both figures are since the last report
    assert again["lag_ms"] == 0.0 and again["http_wait"] == {}


def test_heartbeats_counted_in_bulk_reach_the_report_as_one_by_one_events_would() -> None:
    beats = Beats()
    bulk = Tally(Ledger(), beats)
    bulk.install(Events(), report_to_master=False)
    single = Tally(Ledger(), Beats())
    latencies = [0.4, 3.2, 3.4, 47.0, 151.0, 1234.0, 12.0]
    for ms in latencies:
        beats.add("WS", "heartbeat", ms, 60)
        single.on_request(name="heartbeat", response_time=ms)
    single.on_request(name="heartbeat", response_time=None, exception=TimeoutError())
    bulk.on_request(name="heartbeat", response_time=None, exception=TimeoutError())
    # Nothing flushed yet: the drain itself hands the pending batch over.
    assert bulk.drain()["ops"] == single.drain()["ops"]
    assert bulk.drain()["ops"] == {}  # counted once


def test_a_batch_flushed_by_the_timer_is_in_the_next_report_once() -> None:
    beats = Beats()
    tally = Tally(Ledger(), beats)
    tally.install(Events(), report_to_master=False)
    beats.add("WS", "heartbeat", 5.0, 60)
    beats.flush()  # what the hub's timer does once a second
    beats.add("WS", "heartbeat", 7.0, 60)
    report = tally.drain()
    assert report["ops"]["heartbeat"] == {"count": 2, "failures": {}, "latency": {"5": 1, "7": 1}}
