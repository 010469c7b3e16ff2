"""``real_tablets``: the centres a scenario leaves to a faculty's real tablets."""

from pathlib import Path

import pytest

from scenarios import Scenario, ScenarioError, builtin_names, load_scenario

MIXED = """
name: mixed
centres: {AMIENS: 3, BREST: 2, CAEN: 4, ANGERS: 1}
waves:
  - {name: w1, centres: [AMIENS, CAEN], start_s: 0, rate_per_s: 5}
  - {name: w2, centres: [BREST, ANGERS], start_s: 2, rate_per_s: 5}
exam: {launch_at_s: 4, duration_s: 60}
time_compression: 10
real_tablets: {centres: [CAEN]}
"""


def load(tmp_path: Path, overrides: list[str] | None = None, text: str = MIXED) -> Scenario:
    path = tmp_path / "mixed.yaml"
    path.write_text(text, encoding="utf-8")
    return load_scenario(path, overrides or [])


def problem(tmp_path: Path, overrides: list[str], text: str = MIXED) -> str:
    with pytest.raises(ScenarioError) as info:
        load(tmp_path, overrides, text)
    return str(info.value)


def test_real_centres_leave_the_fleet_and_its_waves(tmp_path: Path) -> None:
    s = load(tmp_path)
    assert s.real_centres == {"CAEN"}
    assert s.total_tablets == 10  # the server holds the whole roster
    assert s.simulated_tablets == 6 and s.simulated_centres == ["AMIENS", "BREST", "ANGERS"]
    assert [s.wave_tablets(w) for w in s.waves] == [3, 3]
    assert s.real_tablets is not None and s.real_tablets.expected_in("CAEN", 4) == 4


def test_expected_defaults_to_the_centre_and_takes_a_count_or_a_mapping(tmp_path: Path) -> None:
    one = load(tmp_path, ["real_tablets.expected=2"])
    assert one.real_tablets is not None
    assert one.real_tablets.expected_in("CAEN", 4) == 2
    per = load(tmp_path, ["real_tablets.centres=[CAEN, ANGERS]", "real_tablets.expected={CAEN: 1}"])
    assert per.real_tablets is not None
    assert per.real_tablets.expected_in("CAEN", 4) == 1
    assert per.real_tablets.expected_in("ANGERS", 1) == 1


def test_shipped_scenarios_have_no_real_centre() -> None:
    for name in builtin_names():
        s = load_scenario(name)
        assert s.real_tablets is None and s.simulated_tablets == s.total_tablets, name


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (["real_tablets.centres=[NICE]"], "real_tablets.centres.0: centre 'NICE' is not in the scenario"),
        (["real_tablets.centres=[CAEN, CAEN]"], "real_tablets.centres.1: centre 'CAEN' is named twice"),
        (["real_tablets.centres=[]"], "real_tablets.centres: List should have at least 1 item"),
        (["real_tablets.centres=[BREST, ANGERS]"], "waves.1.centres: wave 'w2' has only centres left to real tablets"),
        (["real_tablets.expected=5"], "real_tablets.expected: 5 expected, but CAEN has 4 candidates"),
        (["real_tablets.expected=-1"], "real_tablets.expected"),
        (
            ["real_tablets.centres=[CAEN, ANGERS]", "real_tablets.expected=2"],
            "real_tablets.expected: one count for several centres",
        ),
        (["real_tablets.expected={AMIENS: 1}"], "real_tablets.expected.AMIENS: centre 'AMIENS' is not in real_tablets.centres"),
        (["real_tablets.everyone=true"], "real_tablets.everyone: unknown key"),
        (
            ["faults=[{kind: centre_outage, centres: [CAEN], at_s: 5, duration_s: 2}]"],
            "faults.0.centres: centre_outage names centre(s) left to real tablets: CAEN",
        ),
    ],
)  # fmt: skip
def test_bad_real_tablets_are_named_with_their_key_path(
    tmp_path: Path, overrides: list[str], expected: str
) -> None:
    assert expected in problem(tmp_path, overrides)


def test_a_real_centre_in_no_wave_is_the_waves_error(tmp_path: Path) -> None:
    text = MIXED.replace("centres: [AMIENS, CAEN]", "centres: [AMIENS]")
    assert "waves: centres in no wave: CAEN" in problem(tmp_path, [], text)


def test_server_faults_still_apply_to_a_platform_with_real_centres(tmp_path: Path) -> None:
    # A crash hits everyone: the faculty rehearses it too (its figures stay unjudged).
    s = load(tmp_path, ["faults=[{kind: server_crash, at_s: 5, duration_s: 1}]"])
    assert s.faults[0].kind == "server_crash"
