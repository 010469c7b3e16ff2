"""The fault timeline applies each fault at its run time; recovery is read from the polls."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scenarios import Scenario
from scenarios.loader import parse_scenario
from simulator.record import FaultRun
from simulator.run.faults import (
    FaultControl,
    FaultTimeline,
    Poll,
    measure_recovery,
    preflight,
)
from simulator.run.jury import NationalJury
from simulator.run.plan import planned_record
from vigie.jury_client import JuryApiError

BASE: dict[str, Any] = {
    "name": "t",
    "centres": {"AMIENS": 10, "BREST": 10},
    "waves": [{"name": "w1", "centres": ["AMIENS", "BREST"], "start_s": 0, "rate_per_s": 10}],
    "exam": {"launch_at_s": 10, "duration_s": 2000},
    "time_compression": 10,  # the unit closes at 210 s, the run ends at 225 s
}


def scenario(*faults: dict[str, Any]) -> Scenario:
    return parse_scenario({**BASE, "faults": list(faults)}, "test")


class FakeNetwork:
    mode = "simulated"

    def __init__(self) -> None:
        self.calls: list[tuple[float, str, list[str]]] = []
        self.clock = 0.0

    def cut(self, centres: Sequence[str]) -> None:
        self.calls.append((self.clock, "cut", list(centres)))

    def restore(self, centres: Sequence[str]) -> None:
        self.calls.append((self.clock, "restore", list(centres)))

    def reset(self, centres: Sequence[str]) -> None:
        self.calls.append((self.clock, "reset", list(centres)))

    def close(self) -> None:
        self.calls.append((self.clock, "close", []))


class FakeJury(NationalJury):
    def __init__(self, refuse: str | None = None) -> None:
        super().__init__("http://127.0.0.1:9", operator_token="t")
        self.faults: list[dict[str, Any]] = []
        self.refuse = refuse

    def fault(self, body: dict[str, Any]) -> None:
        if self.refuse:
            raise JuryApiError(409, "refused", self.refuse)
        self.faults.append(body)


def timeline(
    s: Scenario, control: FaultControl, jury: NationalJury
) -> tuple[FaultTimeline, list[FaultRun], list[str]]:
    """A timeline on a clock that the test moves: each event runs at its own time."""
    runs = planned_record(s, "test", "http://127.0.0.1:9").faults
    notes: list[str] = []
    clock = {"t": 0.0}

    def sleep(seconds: float) -> None:
        clock["t"] += seconds
        for net in control.networks.values():
            if isinstance(net, FakeNetwork):
                net.clock = clock["t"]

    tl = FaultTimeline(s, runs, jury, control, notes.append, lambda: clock["t"], sleep)
    return tl, runs, notes


def test_a_reconnect_loop_resets_every_period_and_an_outage_is_cut_then_restored() -> None:
    s = scenario(
        {
            "kind": "reconnect_loop",
            "centres": ["BREST"],
            "at_s": 20,
            "duration_s": 35,
            "every_s": 10,
            "mode": "simulated",
        },
        {
            "kind": "centre_outage",
            "centres": ["AMIENS"],
            "at_s": 30,
            "duration_s": 15,
            "mode": "simulated",
        },
    )
    net = FakeNetwork()
    tl, runs, _ = timeline(s, FaultControl(networks={"simulated": net}), FakeJury())
    tl.run()
    assert [(round(t), what, c) for t, what, c in net.calls] == [
        (20, "reset", ["BREST"]),
        (30, "reset", ["BREST"]),
        (30, "cut", ["AMIENS"]),
        (40, "reset", ["BREST"]),
        (45, "restore", ["AMIENS"]),
        (50, "reset", ["BREST"]),
    ]
    assert runs[0].applied and runs[0].how == "simulated" and runs[0].ended_at == 55
    assert runs[1].started_at == 30 and runs[1].ended_at == 45


def test_server_faults_go_through_the_operator_endpoint_with_their_values() -> None:
    s = scenario(
        {"kind": "latency", "at_s": 20, "duration_s": 5, "ms": 400},
        {"kind": "error_rate", "at_s": 30, "duration_s": 5, "ratio": 0.05},
        {"kind": "db_stall", "at_s": 40, "duration_s": 6},
        {"kind": "drop_planned_extra_time", "centres": ["BREST"], "at_s": 0, "duration_s": 200},
    )
    jury = FakeJury()
    tl, runs, _ = timeline(s, FaultControl(), jury)
    tl.run()
    assert jury.faults == [
        {"kind": "drop_planned_extra_time", "duration_s": 200.0, "centres": ["BREST"]},
        {"kind": "latency", "duration_s": 5.0, "ms": 400.0},
        {"kind": "error", "duration_s": 5.0, "ratio": 0.05},
        {"kind": "db_stall", "duration_s": 6.0},
    ]
    assert all(r.applied and r.how == "operator endpoint" for r in runs)


def test_what_cannot_be_applied_is_recorded_as_not_applied_with_why() -> None:
    s = scenario(
        {"kind": "server_crash", "at_s": 20, "duration_s": 5},
        {"kind": "db_stall", "at_s": 30, "duration_s": 5},
        {"kind": "centre_outage", "centres": ["BREST"], "at_s": 40, "duration_s": 5},
    )
    tl, runs, notes = timeline(s, FaultControl(), FakeJury(refuse="no fault-control endpoint"))
    tl.run()
    assert [r.applied for r in runs] == [False, False, False]
    assert "vigie rehearse" in runs[0].how
    assert "no fault-control endpoint" in runs[1].how
    assert "network" in runs[2].how
    assert any("db_stall" in n and "failed" in n for n in notes)


def poll(t: float, out: int, sitting: int, offline: int = 0) -> Poll:
    return Poll(
        t,
        {"BREST": {"in_progress": sitting, "lost": out}, "AMIENS": {"in_progress": 10}},
        {"BREST": offline},
    )


def test_recovery_is_measured_from_the_servers_counts() -> None:
    s = scenario({"kind": "centre_outage", "centres": ["BREST"], "at_s": 20, "duration_s": 30})
    runs = planned_record(s, "test", "x").faults
    runs[0].applied, runs[0].ended_at = True, 50.0
    polls = [
        poll(18, 0, 10), poll(22, 0, 10), poll(26, 4, 6, 1), poll(30, 10, 0, 3),
        poll(52, 10, 0, 5), poll(56, 3, 7, 5), poll(60, 0, 10, 6), poll(64, 0, 10, 6),
    ]  # fmt: skip
    measure_recovery(runs, s, polls)
    run = runs[0]
    assert run.affected_tablets == 10
    assert run.detected_after_s == 6  # first lost at 26 s
    assert run.recovered_after_s == 10  # all back at 60 s, the outage ended at 50 s
    assert run.answers_queued_offline == 6
    assert run.series[0] == [22, 0.0] and [60, 0.0] in run.series


def test_a_centre_that_never_comes_back_before_the_close_has_no_recovery_time() -> None:
    s = scenario({"kind": "centre_outage", "centres": ["BREST"], "at_s": 20, "duration_s": 30})
    runs = planned_record(s, "test", "x").faults
    runs[0].applied = True
    polls = [poll(18, 0, 10), poll(30, 10, 0), poll(100, 2, 8), poll(209, 2, 8), poll(212, 0, 0)]
    measure_recovery(runs, s, polls)
    assert runs[0].detected_after_s == 10
    assert runs[0].recovered_after_s is None  # 80% back is not 99%; after the close is no proof


def test_preflight_says_what_will_not_be_applied_before_the_run() -> None:
    s = scenario(
        {"kind": "db_stall", "at_s": 20, "duration_s": 5},
        {"kind": "server_crash", "at_s": 40, "duration_s": 5},
    )
    lines = preflight(s, FaultControl())
    assert len(lines) == 2
    assert "db_stall" in lines[0] and "--operator-token" in lines[0]
    assert "vigie rehearse" in lines[1]
    assert preflight(s, FaultControl(operator_token="t", crash=lambda s: "kill -9")) == []


def test_the_jury_grants_incident_time_after_the_faults_and_before_the_close() -> None:
    from simulator.run.master import incident_grants

    assert incident_grants(scenario()) == [207.0]  # no fault: once, before the close
    # an outage ending at 50 s, recovered within 30 s; the unit closes at 210 s
    s = scenario(
        {"kind": "centre_outage", "centres": ["BREST"], "at_s": 20, "duration_s": 30,
         "recovery_s_max": 30}
    )  # fmt: skip
    assert incident_grants(s) == [80.0, 207.0]
    # a fault whose window runs past the close: one grant, just before it
    late = scenario({"kind": "db_stall", "at_s": 190, "duration_s": 10})
    assert incident_grants(late) == [207.0]


def test_a_reset_seen_only_as_reconnects_is_still_detected() -> None:
    # Tablets dropped and back within a poll never show lost: the server's count of their
    # reconnects says the supervision saw them go.
    s = scenario(
        {"kind": "reconnect_loop", "centres": ["BREST"], "at_s": 20, "duration_s": 30,
         "every_s": 10}
    )  # fmt: skip
    runs = planned_record(s, "test", "x").faults
    runs[0].applied, runs[0].started_at = True, 20.0
    polls = [poll(18, 0, 10), poll(22, 0, 10), poll(24, 0, 10), poll(52, 0, 10)]
    polls[2].reconnects = {"BREST": 10}
    measure_recovery(runs, s, polls)
    assert runs[0].detected_after_s == 4 and runs[0].recovered_after_s == 2
