"""The one jury API client (the jury view's and the fleet's) against a real ``vigie serve``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from vigie.jury_client import UNREACHABLE, JuryApiError, JuryClient
from vigie.protocol import ErrorCode
from vigie.testing import ServerProcess

NATIONAL = ("national", "national-demo")
OPERATOR = "operator-test-token"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    srv = ServerProcess(
        tmp_path / "exam.sqlite3", ["--scenario", "smoke", "--operator-token", OPERATOR]
    )
    with srv:
        yield srv


def test_credentials_log_in_on_the_first_call_and_again_when_the_token_is_unknown(
    server: ServerProcess, tmp_path: Path
) -> None:
    jury = JuryClient(server.url, credentials=NATIONAL)
    assert jury.token is None
    before = {c["code"] for c in jury.centres()}
    first = jury.token
    assert first and before
    # A server on a new database signs with another key: the token means nothing there.
    with ServerProcess(tmp_path / "new.sqlite3", ["--scenario", "smoke"]) as other:
        jury.base_url = other.url
        assert {c["code"] for c in jury.centres()} == before
        assert jury.token and jury.token != first


def test_refusals_carry_the_servers_code_and_no_answer_is_unreachable(
    server: ServerProcess,
) -> None:
    with pytest.raises(JuryApiError) as bad:
        JuryClient(server.url).login("national", "wrong")
    assert bad.value.status == 401 and bad.value.code == ErrorCode.BAD_CREDENTIALS
    with pytest.raises(JuryApiError) as stale:
        JuryClient(server.url, "not-a-token").snapshot()
    assert stale.value.status == 401 and stale.value.message
    # Without credentials, a 401 is the caller's to handle: no login is tried.
    assert "401" in str(stale.value)
    with pytest.raises(JuryApiError) as gone:
        JuryClient("http://127.0.0.1:9", timeout_s=1).centres()
    assert gone.value.status == 0 and gone.value.code == UNREACHABLE


def test_the_operator_token_is_needed_for_faults(server: ServerProcess) -> None:
    with pytest.raises(JuryApiError) as none:
        JuryClient(server.url).fault({"kind": "latency", "ms": 10, "duration_s": 1})
    assert none.value.code == "no_operator_token"
    with pytest.raises(JuryApiError) as wrong:
        JuryClient(server.url, operator_token="wrong").fault({"kind": "latency", "ms": 10, "duration_s": 1})  # fmt: skip
    assert wrong.value.status in (401, 403)
    JuryClient(server.url, operator_token=OPERATOR).fault({"kind": "latency", "ms": 10, "duration_s": 1})  # fmt: skip


def test_an_empty_export_is_an_empty_stream_and_the_pool_stays_usable(
    server: ServerProcess,
) -> None:
    jury = JuryClient(server.url, credentials=NATIONAL)
    assert list(jury.export_answers()) == []  # nothing answered yet
    assert jury.snapshot()["candidates"]


def test_units_are_launched_closed_and_replaced_with_the_servers_answers(
    server: ServerProcess,
) -> None:
    jury = JuryClient(server.url, credentials=NATIONAL)
    launched = jury.launch_unit("ue1", "ouverture", duration_s=600)
    assert launched["unit_id"] == "ue1" and launched["deadline"] > launched["launched_at"]
    with pytest.raises(JuryApiError) as again:
        jury.launch_unit("ue1", "deux fois")
    assert again.value.status == 409 and again.value.code == ErrorCode.UNIT_ALREADY_LAUNCHED
    closed = jury.close_unit("ue1", "fin")
    assert closed["unit_id"] == "ue1" and closed["overtime"] == [] and not closed["end_extra_time"]
    with pytest.raises(JuryApiError) as twice:
        jury.close_unit("ue1", "fin")
    assert twice.value.code == ErrorCode.UNIT_CLOSED
    replaced = jury.replace_unit("ue1", "ue2", "incident")
    assert (replaced["unit_id"], replaced["backup_id"], replaced["reason"]) == ("ue1", "ue2", "incident")  # fmt: skip
    with pytest.raises(JuryApiError) as used:
        jury.replace_unit("ue3", "ue2", "le secours sert déjà")
    assert used.value.code == ErrorCode.UNIT_REPLACED


def test_one_candidate_is_paused_resumed_and_their_time_ended(server: ServerProcess) -> None:
    jury = JuryClient(server.url, credentials=NATIONAL)
    cid = "AMIENS-00001"
    with pytest.raises(JuryApiError) as early:
        jury.end_candidate_time(cid, "trop tôt")
    assert early.value.status == 409 and early.value.code == ErrorCode.UNIT_NOT_LAUNCHED
    paused = jury.pause_candidate(cid, "malaise")
    assert (paused["candidate_id"], paused["centre"], paused["paused"]) == (cid, "AMIENS", True)
    with pytest.raises(JuryApiError) as twice:
        jury.pause_candidate(cid, "deux fois")
    assert twice.value.status == 409 and twice.value.code == ErrorCode.CANDIDATE_PAUSED
    assert jury.resume_candidate(cid, "rétabli")["paused"] is False
    with pytest.raises(JuryApiError) as again:
        jury.resume_candidate(cid, "deux fois")
    assert again.value.status == 409 and again.value.code == ErrorCode.CANDIDATE_NOT_PAUSED

    jury.launch_unit("ue1", "ouverture", duration_s=600)
    ended = jury.end_candidate_time(cid, "fraude avérée")
    assert (ended["candidate_id"], ended["unit_id"]) == (cid, "ue1")
    assert 500 < ended["seconds_lost"] <= 600 + 3600  # the unit's time left (and any tiers-temps)
    with pytest.raises(JuryApiError) as over:
        jury.end_candidate_time(cid, "deux fois")
    assert over.value.status == 409 and over.value.code in (
        ErrorCode.UNIT_CLOSED,
        ErrorCode.UNIT_FINISHED,
        ErrorCode.OUTSIDE_TIME_WINDOW,
    )


def test_a_centre_jury_acts_on_its_own_candidates_only_and_an_observer_never(
    server: ServerProcess,
) -> None:
    centre = JuryClient(server.url, credentials=("centre-AMIENS", "centre-demo"))
    assert centre.pause_candidate("AMIENS-00002", "malaise", category="candidate")["paused"]
    events = centre.timeline("AMIENS-00002")["events"]
    paused = [e["data"] for e in events if e["kind"] == "candidate_pause"]
    assert paused == [{"reason": "malaise", "category": "candidate", "unit_id": None}]
    for call in (centre.pause_candidate, centre.resume_candidate, centre.end_candidate_time):
        with pytest.raises(JuryApiError) as other:
            call("BREST-00001", "pas mon centre")
        assert other.value.status == 403 and other.value.code == ErrorCode.FORBIDDEN
    observer = JuryClient(server.url, credentials=("observer", "observer-demo"))
    with pytest.raises(JuryApiError) as looks:
        observer.resume_candidate("AMIENS-00002", "observateur")
    assert looks.value.status == 403 and looks.value.code == ErrorCode.FORBIDDEN
