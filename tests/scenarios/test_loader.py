from pathlib import Path

import pytest

from scenarios import ScenarioError, builtin_names, load_scenario
from scenarios.serving import server_spec
from vigie.centres import default_centres
from vigie.correction.rules import DEFAULT_RULES_PATH


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    return path


VALID = """
name: t
centres: {AMIENS: 3, BREST: 2}
waves:
  - {name: w1, centres: [AMIENS], start_s: 0, rate_per_s: 5}
  - {name: w2, centres: [BREST], start_s: 2, rate_per_s: 5}
exam: {launch_at_s: 4, duration_s: 60}
time_compression: 10
"""


def problems(tmp_path: Path, text: str, overrides: list[str] | None = None) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, text), overrides or [])
    return str(info.value)


def test_shipped_scenarios_load_with_the_documented_sizes() -> None:
    assert {"smoke", "ecnp-2022-01-21", "edn-2025", "ecni-2016"} <= set(builtin_names())
    ecnp = load_scenario("ecnp-2022-01-21")
    assert ecnp.total_tablets == 9800
    assert len(ecnp.centres) == 35 and len(ecnp.waves) == 4
    first_three = sum(ecnp.wave_tablets(w) for w in ecnp.waves[:3])
    assert first_three > 7000 and first_three < 8000  # wave 4 crosses 8,000
    assert ecnp.server.max_connections == 8000
    assert load_scenario("ecni-2016").total_tablets == 8200
    assert len(load_scenario("ecni-2016").centres) == 34
    assert 11000 <= load_scenario("edn-2025").total_tablets <= 11500
    assert load_scenario("smoke").total_tablets <= 50


def test_shipped_scenarios_fit_the_time_budget() -> None:
    # the acceptance runs must end within 15 minutes, setup included
    for name in builtin_names():
        assert load_scenario(name).end_s < 12 * 60, name


def test_scenario_by_path_and_derived_timeline(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, VALID))
    assert s.total_tablets == 5
    assert s.unit_duration_s == 6.0
    assert s.close_at_s == 10.0
    assert s.end_s == 10.0 + s.exam.tail_s


def test_unknown_key_is_named_with_its_path(tmp_path: Path) -> None:
    text = VALID.replace(
        "time_compression: 10", "time_compression: 10\nserver: {max_conections: 5}"
    )
    msg = problems(tmp_path, text)
    assert "s.yaml" in msg and "server.max_conections: unknown key" in msg


def test_negative_count(tmp_path: Path) -> None:
    msg = problems(tmp_path, VALID.replace("AMIENS: 3", "AMIENS: -3"))
    assert "centres.AMIENS" in msg and "greater than or equal to 0" in msg


def test_wave_naming_an_unknown_centre(tmp_path: Path) -> None:
    msg = problems(tmp_path, VALID.replace("centres: [BREST]", "centres: [BREST, NOWHERE]"))
    assert "waves.1.centres" in msg and "unknown centre 'NOWHERE'" in msg


def test_centre_in_two_waves(tmp_path: Path) -> None:
    msg = problems(tmp_path, VALID.replace("centres: [BREST]", "centres: [BREST, AMIENS]"))
    assert "in two waves" in msg and "AMIENS" in msg


def test_centre_in_no_wave(tmp_path: Path) -> None:
    msg = problems(tmp_path, VALID.replace("BREST: 2}", "BREST: 2, CAEN: 1}"))
    assert "centres in no wave: CAEN" in msg


def test_centre_code_not_among_the_faculties(tmp_path: Path) -> None:
    text = VALID.replace("BREST", "ATLANTIS")
    msg = problems(tmp_path, text)
    assert "unknown centre code(s) ATLANTIS" in msg


def test_own_centres_file(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("centres: [{code: ATLANTIS}, {code: AMIENS}]\n")
    text = VALID.replace("BREST", "ATLANTIS") + "centres_file: c.yaml\n"
    assert load_scenario(write(tmp_path, text)).centres["ATLANTIS"] == 2


def test_own_correction_rules_are_checked_at_load(tmp_path: Path) -> None:
    rules = DEFAULT_RULES_PATH.read_text(encoding="utf-8").replace(
        'version: "1.0"', 'version: "2.1"'
    )
    (tmp_path / "rules.yaml").write_text(rules, encoding="utf-8")
    scenario = load_scenario(write(tmp_path, VALID + "correction_rules: rules.yaml\n"))
    # A relative file is the scenario file's neighbour, for the server and the correction alike.
    assert server_spec(scenario, tmp_path).rules_file == tmp_path / "rules.yaml"
    (tmp_path / "bad.yaml").write_text("name: x\n", encoding="utf-8")
    assert "correction_rules: " in problems(tmp_path, VALID + "correction_rules: bad.yaml\n")
    msg = problems(tmp_path, VALID + "correction_rules: none.yaml\n")
    assert "correction_rules: cannot read" in msg


def test_slo_out_of_range(tmp_path: Path) -> None:
    msg = problems(tmp_path, VALID + "slos: {failure_ratio_max: 1.5}\n")
    assert "slos.failure_ratio_max" in msg and "less than or equal to 1" in msg


def test_launch_before_the_last_wave(tmp_path: Path) -> None:
    msg = problems(tmp_path, VALID.replace("launch_at_s: 4", "launch_at_s: 1"))
    assert "exam.launch_at_s" in msg


def test_not_yaml_and_not_a_mapping(tmp_path: Path) -> None:
    assert "not valid YAML" in problems(tmp_path, "a: [")
    assert "mapping at the top level" in problems(tmp_path, "- 1\n- 2\n")


def test_unknown_scenario_name_lists_the_shipped_ones() -> None:
    with pytest.raises(ScenarioError, match=r"shipped: .*smoke"):
        load_scenario("no-such-scenario")


def test_overrides_set_nested_and_indexed_values(tmp_path: Path) -> None:
    s = load_scenario(
        write(tmp_path, VALID),
        ["server.max_connections=0", "waves.1.rate_per_s=20", "fleet.permessage_deflate=false"],
    )
    assert s.server.max_connections == 0
    assert s.waves[1].rate_per_s == 20
    assert s.fleet.permessage_deflate is False
    assert (
        load_scenario("ecnp-2022-01-21", ["server.max_connections=0"]).server.max_connections == 0
    )


def test_bad_overrides(tmp_path: Path) -> None:
    path = write(tmp_path, VALID)
    for item, expected in [
        ("novalue", "not KEY.PATH=VALUE"),
        ("waves.9.rate_per_s=1", "not an index"),
        ("waves.0.rate_per_s=-1", "waves.0.rate_per_s"),
        ("name.x=1", "not a mapping"),
    ]:
        with pytest.raises(ScenarioError, match=expected):
            load_scenario(path, [item])


def test_all_35_faculties_are_known_codes() -> None:
    codes = {c.code for c in default_centres()}
    assert set(load_scenario("ecnp-2022-01-21").centres) == codes


def test_several_units_in_a_row(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, VALID), ["exam.units=[ue1, ue2]", "exam.break_s=20"])
    assert s.exam.unit_ids == ["ue1", "ue2"]
    # the next launch waits for the default tiers-temps (a third of 6 s), the break
    # (20 s / 10) and 2 s
    assert [(u.launch_s, u.close_s) for u in s.schedule] == [(4.0, 10.0), (16.0, 22.0)]
    twice = problems(tmp_path, VALID, ["exam.units=[ue1, ue1]"])
    assert "exam.units.1" in twice and "listed twice" in twice
    both = problems(tmp_path, VALID, ["exam.units=[ue1, ue2]", "exam.unit_id=ue3"])
    assert "exam.units" in both and "not both" in both
    real = VALID.replace("centres: [AMIENS]", "centres: [AMIENS, BREST]").replace(
        "  - {name: w2, centres: [BREST], start_s: 2, rate_per_s: 5}\n", ""
    )
    real += "real_tablets: {centres: [BREST]}\n"
    assert "sits one unit" in problems(tmp_path, real, ["exam.units=[ue1, ue2]"])
