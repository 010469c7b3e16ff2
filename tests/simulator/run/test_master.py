"""The scripted national jury over several units: launches, grants, closes, checks."""

from __future__ import annotations

from typing import Any

from scenarios.loader import parse_scenario
from scenarios.model import Scenario
from simulator.run.extra_time import combine
from simulator.run.jury import NationalJury
from simulator.run.master import JuryTimeline, incident_grants
from vigie.jury_client import JuryApiError

DAY: dict[str, Any] = {
    "name": "day",
    "centres": {"AMIENS": 10, "BREST": 10},
    "waves": [{"name": "w1", "centres": ["AMIENS", "BREST"], "start_s": 0, "rate_per_s": 10}],
    "time_compression": 10,
    "tiers_temps": {"share": 0.1, "ratio": 0.5},
    # 100 s per unit compressed; the tiers-temps run 50 s more, then a 10 s break
    "exam": {"units": ["ue1", "ue2"], "launch_at_s": 10, "duration_s": 1000, "break_s": 100},
}


def day(**exam: Any) -> Scenario:
    return parse_scenario({**DAY, "exam": {**DAY["exam"], **exam}}, "test")


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def sleep(self, seconds: float) -> None:
        self.t += seconds


class FakeJury(NationalJury):
    """Answers like the server: a launch refused while candidates work on (``busy`` times)."""

    def __init__(self, clock: Clock, busy: int = 0) -> None:
        super().__init__("http://127.0.0.1:9")
        self.clock = clock
        self.busy = busy
        self.calls: list[tuple[float, str]] = []
        self.current: str | None = None

    def act(self, path: str, body: dict[str, Any]) -> float:
        if path.endswith("/launch") and self.current is not None and self.busy:
            self.busy -= 1
            raise JuryApiError(409, "unit_already_launched", "1 candidate(s) still have extra time")
        self.calls.append((round(self.clock.t, 1), path))
        if path.endswith("/launch"):
            self.current = path.split("/")[3]
        return 5.0

    def grant_incident_time(self, reason: str, centre: str | None = None) -> dict[str, Any]:
        self.calls.append((round(self.clock.t, 1), "grant"))
        return {"candidates": 0, "seconds": 0.0, "centres": []}

    def snapshot(self, centre: str | None = None) -> dict[str, Any]:
        row: dict[str, Any] = {"id": "AMIENS-00001", "centre": "AMIENS", "unit_id": self.current}
        row.update(extra_time_s=0.0, planned_due_s=50.0, incident_extra_s=0.0, disconnected_s=0.0)
        return {"unit_id": self.current, "candidates": [row]}


def run(s: Scenario, jury: FakeJury, clock: Clock) -> tuple[JuryTimeline, list[str]]:
    notes: list[str] = []
    tl = JuryTimeline(s, "http://127.0.0.1:9", notes.append, lambda: clock.t, jury, clock.sleep)
    tl.run()
    return tl, notes


def test_the_schedule_waits_for_the_tiers_temps_and_the_break() -> None:
    s = day()
    assert [(u.unit_id, u.launch_s, u.close_s) for u in s.schedule] == [
        ("ue1", 10.0, 110.0),
        ("ue2", 172.0, 272.0),  # 110 + 50 tiers-temps + 10 break + 2
    ]
    assert s.close_at_s == 272.0 and s.end_s == 272.0 + s.exam.tail_s
    assert s.exam.unit_ids == ["ue1", "ue2"]
    assert day(units=[]).exam.unit_ids == ["ue1"]  # one unit: exam.unit_id, as before


def test_each_unit_is_launched_granted_closed_then_checked_before_the_next() -> None:
    clock = Clock()
    jury = FakeJury(clock)
    tl, _ = run(day(), jury, clock)
    assert jury.calls == [
        (10.0, "/jury/units/ue1/launch"),
        (107.0, "grant"),
        (110.0, "/jury/units/ue1/close"),
        (172.0, "/jury/units/ue2/launch"),
        (269.0, "grant"),
        (272.0, "/jury/units/ue2/close"),
    ]
    # ue1's deadlines were read before ue2's launch, while the server still showed ue1
    assert list(tl.checked) == ["ue1"]
    assert tl.checked["ue1"]["unit_id"] == "ue1" and tl.checked["ue1"]["checked"] == 1
    assert tl.checked["ue1"]["planned_missing"]["count"] == 1


def test_a_launch_refused_while_extra_time_runs_on_is_retried_and_shifts_the_rest() -> None:
    clock = Clock()
    jury = FakeJury(clock, busy=3)
    _, notes = run(day(), jury, clock)
    launch, close = jury.calls[3], jury.calls[5]
    assert launch == (175.0, "/jury/units/ue2/launch")  # three refusals, a second apart
    assert close == (275.0, "/jury/units/ue2/close")  # the unit keeps its whole duration
    assert any("ue2 launched 3 s late" in n for n in notes)


def test_incident_grants_belong_to_the_unit_a_fault_ends_in() -> None:
    outage = {"kind": "centre_outage", "centres": ["BREST"], "duration_s": 20, "recovery_s_max": 10}
    s = parse_scenario({**DAY, "faults": [{**outage, "at_s": 180}]}, "test")
    assert incident_grants(s, 0) == [107.0]  # before ue1's close only
    assert incident_grants(s, 1) == [210.0, 269.0]  # after the outage, and before ue2's close


def test_findings_of_several_units_add_up_and_name_each_unit() -> None:
    def finding(count: int, centre: str) -> dict[str, Any]:
        miss = {"count": count, "by_centre": {centre: count}, "examples": [{"centre": centre}]}
        none = {"count": 0, "by_centre": {}, "examples": []}
        return {
            "unit_id": "x", "checked": 10, "with_planned": 1, "disconnected": 0,
            "incident_granted_s": 5.0, "error": None,
            "planned_missing": miss, "disconnected_not_covered": none,
        }  # fmt: skip

    both = combine({"ue1": finding(1, "ROUEN"), "ue2": finding(2, "CAEN")})
    assert both["unit_id"] == "ue1, ue2" and both["error"] is None
    assert both["checked"] == 20 and both["incident_granted_s"] == 10.0
    assert both["planned_missing"]["count"] == 3
    assert both["planned_missing"]["by_centre"] == {"ROUEN": 1, "CAEN": 2}
    assert [e["unit_id"] for e in both["planned_missing"]["examples"]] == ["ue1", "ue2"]
    broken = combine({"ue1": finding(0, "ROUEN"), "ue2": {"unit_id": "ue2", "error": "down"}})
    assert broken["error"] == "ue2: down" and broken["checked"] == 10
    one = finding(1, "ROUEN")
    assert combine({"ue1": one}) == one
