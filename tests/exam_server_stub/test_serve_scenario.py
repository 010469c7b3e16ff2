"""``vigie serve --scenario``: the scenario's roster and knobs, computed once (scenarios.serving)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from exam_server_stub.bootstrap import bootstrap, stored_roster
from exam_server_stub.cli import check_stored_roster, parser, settings_from
from exam_server_stub.settings import ServerSettings
from scenarios import load_scenario
from scenarios.serving import server_spec, thresholds
from simulator.identity import wave_order
from simulator.run.procs import Services
from vigie.centres import load_centres
from vigie.protocol import API_PREFIX


def settings(*argv: str) -> ServerSettings:
    return settings_from(parser().parse_args(list(argv)))


def test_the_scenario_gives_the_roster_and_the_knobs(tmp_path: Path) -> None:
    s = settings("--scenario", "ecnp-2022-01-21", "--db", str(tmp_path / "x.sqlite3"))
    ecnp = load_scenario("ecnp-2022-01-21")
    assert s.scenario == "ecnp-2022-01-21" and s.seed == ecnp.seed == 2022
    assert s.demo_counts == dict(ecnp.centres) and sum(s.demo_counts.values()) == 9800
    assert s.max_connections == 8000
    assert (s.heartbeat_interval_s, s.late_after_s, s.lost_after_s) == (5.0, 10.0, 15.0)
    spec = server_spec(ecnp)
    assert {k: getattr(s, k) for k in spec.knobs()} == spec.knobs()


def test_overrides_and_options_given_win(tmp_path: Path) -> None:
    db = ["--db", str(tmp_path / "x.sqlite3")]
    assert settings("--scenario", "ecnp-2022-01-21", "--no-cap", *db).max_connections == 0
    capped = settings("--scenario", "smoke", "--set", "server.max_connections=12", *db)
    assert capped.max_connections == 12
    # an option given on the command line wins over the scenario's knob
    assert (
        settings("--scenario", "ecnp-2022-01-21", "--max-connections", "0", *db).max_connections
        == 0
    )
    # a slower heartbeat moves the late / lost thresholds with it
    slow = settings("--scenario", "smoke", "--set", "heartbeat_interval_s=10", *db)
    assert (slow.late_after_s, slow.lost_after_s) == (20.0, 30.0)
    assert thresholds(10, None, None) == (20.0, 30.0)
    given = settings("--scenario", "smoke", "--heartbeat-interval", "10", *db)
    assert (given.late_after_s, given.lost_after_s) == (20.0, 30.0)
    assert settings("--scenario", "smoke", "--set", "seed=9", *db).seed == 9


def test_default_database_is_named_after_the_scenario() -> None:
    assert settings("--scenario", "smoke").db_path == Path("var/smoke.sqlite3")
    assert settings().db_path == Path("var/vigie.sqlite3")


def test_a_scenario_file_path_and_its_centres_file(tmp_path: Path) -> None:
    (tmp_path / "centres.yaml").write_text(
        "centres:\n  - {code: ALPHA, name: Alpha, weight: 1}\n"
        "  - {code: BETA, name: Beta, weight: 1}\n"
    )
    (tmp_path / "mine.yaml").write_text(
        "name: mine\nseed: 3\ncentres_file: centres.yaml\ncentres: {ALPHA: 2, BETA: 0}\n"
        "waves: [{name: w, centres: [ALPHA, BETA], start_s: 0, rate_per_s: 1}]\n"
        "exam: {launch_at_s: 1}\nserver: {max_connections: 4, late_after_s: 30}\n"
    )
    s = settings("--scenario", str(tmp_path / "mine.yaml"), "--db", str(tmp_path / "x.sqlite3"))
    # a relative centres_file is the scenario file's neighbour, whatever the working directory
    assert s.centres_file == tmp_path / "centres.yaml"
    assert [c.code for c in load_centres(s.centres_file)] == ["ALPHA", "BETA"]
    assert s.demo_counts == {"ALPHA": 2} and s.seed == 3 and s.max_connections == 4
    assert (s.late_after_s, s.lost_after_s) == (30.0, 35.0)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--scenario", "smoke", "--demo", "50"], "--scenario sets the roster: drop --demo"),
        (["--scenario", "smoke", "--seed", "3"], "drop --seed"),
        (["--no-cap"], "apply to a --scenario"),
        (["--scenario", "nowhere"], "no such scenario"),
        (["--scenario", "smoke", "--set", "waves.9.rate_per_s=1"], "not an index"),
    ],
)
def test_usage_errors(argv: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        settings(*argv)


def test_a_database_created_for_another_roster_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "x.sqlite3"
    bootstrap(db, {"AMIENS": 3}, 11, load_centres())
    assert stored_roster(db) == (11, {"AMIENS": 3})
    with pytest.raises(ValueError, match=r"holds another roster \(seed 11, 3 candidates"):
        check_stored_roster(settings("--scenario", "smoke", "--db", str(db)))
    check_stored_roster(settings("--db", str(db)))  # without --scenario: resumed as before
    fresh = tmp_path / "smoke.sqlite3"
    same = settings("--scenario", "smoke", "--db", str(fresh))
    assert stored_roster(fresh) is None
    bootstrap(fresh, same.demo_counts, same.seed, load_centres())
    check_stored_roster(same)  # a restart of the same scenario resumes its database


def test_vigie_serve_scenario_logs_in_its_candidates_and_reports_its_knobs(
    tmp_path: Path,
) -> None:
    services = Services(tmp_path)  # rehearse's way: vigie serve --scenario smoke
    try:
        url = services.start_server("smoke", ["server.max_connections=25"])
        smoke = load_scenario("smoke", ["server.max_connections=25"])
        for identity in (next(iter(wave_order(smoke))), list(wave_order(smoke))[-1]):
            r = requests.post(
                f"{url}{API_PREFIX}/login",
                json={
                    "candidate_id": identity.candidate_id,
                    "centre": identity.centre,
                    "access_code": identity.access_code,
                },
                timeout=10,
            )
            assert r.status_code == 200, r.text
            assert r.json()["heartbeat_interval_s"] == smoke.heartbeat_interval_s
        r = requests.post(
            f"{url}{API_PREFIX}/jury/login",
            json={"username": "observer", "password": "observer-demo"},
            timeout=10,
        )
        headers = {"Authorization": f"Bearer {r.json()['token']}"}
        doc: dict[str, Any] = requests.get(
            f"{url}{API_PREFIX}/jury/server", headers=headers, timeout=10
        ).json()
        assert doc["scenario"] == "smoke" and doc["candidates"] == 30
        assert doc["knobs"] == server_spec(smoke).knobs()
        assert doc["knobs"]["max_connections"] == 25 and doc["knobs"]["lost_after_s"] == 15
        centres = requests.get(f"{url}{API_PREFIX}/jury/centres", headers=headers, timeout=10)
        counts = {c["code"]: c["candidates"] for c in centres.json() if c["candidates"]}
        assert counts == dict(smoke.centres)
        log = (tmp_path / "server.log").read_text()
        assert "serving scenario smoke: 30 candidates in 3 centres (seed 7)" in log
    finally:
        services.stop()


async def test_jury_server_reports_the_knobs_to_any_jury_role_only(make_api: Any) -> None:
    api = await make_api(max_connections=40, heartbeat_interval_s=2.0, scenario="mine")
    for who in ("national", "observer", "centre-AMU"):
        r = await api.client.get("/api/v1/jury/server", headers=await api.jury(who))
        assert r.status == 200
        doc = await r.json()
        assert doc["scenario"] == "mine" and doc["candidates"] == 6
        assert doc["knobs"]["max_connections"] == 40 and doc["knobs"]["heartbeat_interval_s"] == 2
    r = await api.client.get("/api/v1/jury/server", headers=api.bearer(await api.candidate_token()))
    assert r.status == 403
    r = await api.client.get("/api/v1/jury/server")
    assert r.status == 401


def test_help_says_demo_counts_is_a_file() -> None:
    text = parser().format_help()
    assert "--demo-counts FILE" in text and "a JSON file holding" in text
    assert "--scenario NAME" in text


def test_a_scenario_server_says_what_it_serves(tmp_path: Path) -> None:
    from exam_server_stub.cli import describe

    text = describe(settings("--scenario", "ecnp-2022-01-21", "--db", str(tmp_path / "e")), 8080)
    assert "serving scenario ecnp-2022-01-21: 9,800 candidates in 35 centres (seed 2022)" in text
    assert "connection cap 8,000, heartbeat 5 s (late 10 s, lost 15 s)" in text
    assert "vigie certify ecnp-2022-01-21 --target http://127.0.0.1:8080" in text


def test_the_ack_before_commit_knob_is_labelled_test_only() -> None:
    text = " ".join(parser().format_help().split())
    assert "--unsafe-ack-before-commit TEST ONLY, never in production" in text
    assert settings_from(parser().parse_args([])).unsafe_ack_before_commit is False
    args = parser().parse_args(["--unsafe-ack-before-commit"])
    assert settings_from(args).unsafe_ack_before_commit is True
