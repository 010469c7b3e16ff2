"""Faults in scenarios are validated like the rest: a bad one is named with its key path."""

from pathlib import Path

import pytest

from scenarios import ScenarioError, load_scenario
from scenarios.model import CentreOutage, ReconnectLoop

SCENARIO = """
name: t
centres: {AMIENS: 3, BREST: 2}
waves:
  - {name: w1, centres: [AMIENS, BREST], start_s: 0, rate_per_s: 5}
exam: {launch_at_s: 10, duration_s: 600}
time_compression: 10
faults:
"""


def load(tmp_path: Path, faults: str) -> object:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO + faults, encoding="utf-8")
    return load_scenario(path)


def problem(tmp_path: Path, faults: str) -> str:
    with pytest.raises(ScenarioError) as info:
        load(tmp_path, faults)
    return str(info.value)


def test_every_kind_of_the_issue_loads(tmp_path: Path) -> None:
    s = load(
        tmp_path,
        """
  - {kind: centre_outage, centres: [BREST], at_s: 20, duration_s: 9}
  - {kind: reconnect_loop, centres: [AMIENS], at_s: 20, duration_s: 30, every_s: 10, mode: simulated}
  - {kind: server_crash, at_s: 40, duration_s: 3, recovery_s_max: 20}
  - {kind: db_stall, at_s: 50, duration_s: 5}
  - {kind: latency, at_s: 30, duration_s: 6, ms: 400}
  - {kind: error_rate, at_s: 30, duration_s: 6, ratio: 0.05}
  - {kind: drop_planned_extra_time, centres: [BREST], at_s: 0, duration_s: 60}
""",
    )
    faults = s.faults  # type: ignore[attr-defined]
    assert [f.kind for f in faults] == [
        "centre_outage", "reconnect_loop", "server_crash", "db_stall", "latency",
        "error_rate", "drop_planned_extra_time",
    ]  # fmt: skip
    outage, loop = faults[0], faults[1]
    assert isinstance(outage, CentreOutage) and outage.mode == "nftables"
    assert isinstance(loop, ReconnectLoop) and loop.mode == "simulated" and loop.end_s == 50
    assert faults[2].targets == [] and faults[2].recovery_s_max == 20


def test_an_unknown_kind_lists_the_known_ones(tmp_path: Path) -> None:
    text = problem(tmp_path, "  - {kind: meteor, at_s: 1, duration_s: 1}\n")
    assert "faults.0" in text and "'meteor'" in text and "centre_outage" in text


def test_a_centre_not_in_the_scenario_is_refused(tmp_path: Path) -> None:
    text = problem(
        tmp_path, "  - {kind: centre_outage, centres: [LYON-SUD], at_s: 20, duration_s: 9}\n"
    )
    assert "faults.0.centres" in text and "LYON-SUD" in text


def test_a_fault_past_the_end_of_the_run_is_refused(tmp_path: Path) -> None:
    # the run ends at 10 + 600/10 + 15 (tail) = 85 s
    text = problem(tmp_path, "  - {kind: db_stall, at_s: 80, duration_s: 10}\n")
    assert "faults.0" in text and "past the end of the run (85 s)" in text


def test_missing_or_impossible_parameters_are_named(tmp_path: Path) -> None:
    assert "faults.0.latency.ms" in problem(
        tmp_path, "  - {kind: latency, at_s: 20, duration_s: 5}\n"
    )
    assert "ratio" in problem(
        tmp_path, "  - {kind: error_rate, at_s: 20, duration_s: 5, ratio: 1.5}\n"
    )
    assert "every_s (30) is longer than duration_s" in problem(
        tmp_path,
        "  - {kind: reconnect_loop, centres: [BREST], at_s: 20, duration_s: 10, every_s: 30}\n",
    )
    assert "mode" in problem(
        tmp_path,
        "  - {kind: centre_outage, centres: [BREST], at_s: 20, duration_s: 9, mode: magic}\n",
    )
    assert "faults.0.db_stall.centres: unknown key" in problem(
        tmp_path, "  - {kind: db_stall, centres: [BREST], at_s: 20, duration_s: 5}\n"
    )
