"""The jury's actions on one candidate without a browser: what is offered (a candidate paused
alone, a paused centre), the end's confirmation naming who loses how much, the reason's
category sent with the action, refusals in French, forged Dash requests refused before
they reach the exam server, and the procès-verbal's lines."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from supervision_dashboard.app import create_app
from supervision_dashboard.context import AppContext, JurySession
from supervision_dashboard.feed import Feed
from supervision_dashboard.pages import candidate_actions as cand
from supervision_dashboard.pages.common import error_text
from supervision_dashboard.report import build_report, to_csv
from tests.supervision_dashboard.test_units import _as, _body
from vigie.jury_client import JuryApiError, JuryIdentity

NATIONAL = JurySession(JuryIdentity("t", "national", "national", None))
AMU = JurySession(JuryIdentity("t-amu", "centre-AMU", "centre", "AMU"))
LILLE = JurySession(JuryIdentity("t-lil", "centre-LILLE", "centre", "LILLE"))
OBSERVER = JurySession(JuryIdentity("t-obs", "observer", "observer", None))
CID = "AMU-00001"  # in progress, 3 h left in the recorded snapshot


class FakeClient:
    """The jury API as the candidate actions use it, recording every decision."""

    def __init__(self) -> None:
        self.sent: list[tuple[Any, ...]] = []
        self.refuse: JuryApiError | None = None

    def _act(self, *what: Any) -> None:
        if self.refuse is not None:
            raise self.refuse
        self.sent.append(what)

    def pause_candidate(self, cid: str, reason: str, category: str | None) -> dict[str, Any]:
        self._act("pause", cid, reason, category)
        return {"candidate_id": cid, "centre": "AMU", "paused": True, "ts": 1.0}

    def resume_candidate(self, cid: str, reason: str, category: str | None) -> dict[str, Any]:
        self._act("resume", cid, reason, category)
        return {"candidate_id": cid, "centre": "AMU", "paused": False, "ts": 1.0}

    def end_candidate_time(self, cid: str, reason: str, category: str | None) -> dict[str, Any]:
        self._act("end", cid, reason, category)
        return {"candidate_id": cid, "centre": "AMU", "unit_id": "U1", "seconds_lost": 720.0, "ended_at": 1.0}  # fmt: skip

    def pause_centre(self, centre: str, reason: str, category: str | None) -> dict[str, Any]:
        self._act("pause_centre", centre, reason, category)
        return {"centre": centre, "paused": True, "ts": 1.0}


@pytest.fixture
def app_ctx(snapshot: dict[str, Any]) -> tuple[Any, AppContext, FakeClient, Feed]:
    app, ctx = create_app("http://127.0.0.1:9")  # never reached: the client is a fake
    feed = Feed(ctx.server_url, "t")
    feed.state.apply_snapshot(copy.deepcopy(snapshot))
    ctx.feeds.install(feed)
    for centre in ("AMU", "LILLE"):  # a centre juror's feed holds their own centre only
        mine = copy.deepcopy(snapshot)
        mine["candidates"] = [r for r in mine["candidates"] if r["centre"] == centre]
        scoped = Feed(ctx.server_url, "t", centre=centre)
        scoped.state.apply_snapshot(mine)
        ctx.feeds.install(scoped)
    fake = FakeClient()
    ctx.client_for = lambda session: fake  # type: ignore[assignment,method-assign,return-value]
    return app, ctx, fake, feed


def _pause(feed: Feed, *ids: str, alone: bool = False) -> None:
    for cid in ids:
        feed.state.rows[cid] = {**feed.state.rows[cid], "paused": True, "paused_alone": alone}


def test_a_centre_is_paused_only_when_all_its_rows_are() -> None:
    rows = [{"centre": "A", "paused": True}, {"centre": "A", "paused": False}]
    assert not cand.centre_paused(rows, "A")  # one candidate paused alone
    assert cand.centre_paused(rows[:1], "A") and not cand.centre_paused(rows, "B")


def test_what_is_offered_follows_the_candidates_own_pause(
    app_ctx: tuple[Any, AppContext, FakeClient, Feed],
) -> None:
    _app, ctx, _fake, feed = app_ctx
    kinds = ("extra_candidate", *cand.CANDIDATE_KINDS, "message_candidate")
    st = cand.status(ctx, NATIONAL, CID)
    assert st is not None and not st.own_paused and st.left_s == 10800
    assert cand.offer(kinds, st) == ["extra_candidate", "pause_candidate", "end_candidate", "message_candidate"]  # fmt: skip
    assert cand.note(st, "fr") == ""
    # Paused alone (their neighbours work on): « Reprendre ».
    _pause(feed, CID, alone=True)
    st = cand.status(ctx, NATIONAL, CID)
    assert st is not None and st.own_paused and not st.centre_paused
    assert "resume_candidate" in cand.offer(kinds, st) and "pause_candidate" not in cand.offer(kinds, st)  # fmt: skip
    assert cand.note(st, "fr") == "Candidat suspendu seul : son centre compose."
    # Their centre paused too: the row says whether they are paused alone as well.
    _pause(feed, CID, "AMU-00002", "AMU-00003")
    st = cand.status(ctx, NATIONAL, CID)
    assert st is not None and st.centre_paused and not st.own_paused
    assert "pause_candidate" in cand.offer(kinds, st)
    assert "Le centre AMU est suspendu : le candidat l'est avec lui." in cand.note(st, "fr")
    _pause(feed, CID, alone=True)
    st = cand.status(ctx, NATIONAL, CID)
    assert st is not None and st.own_paused and "resume_candidate" in cand.offer(kinds, st)
    assert "la tablette reste en pause jusqu'à la reprise du centre" in cand.note(st, "fr")
    # Not composing: nothing to end.
    lost = cand.status(ctx, NATIONAL, "LILLE-00002")
    assert lost is None or "end_candidate" not in cand.offer(kinds, lost)


def _ask(app: Any, kind: str, reason: str, category: str | None = None, cid: str = CID) -> dict[str, Any]:  # fmt: skip
    target = {"candidate_id": cid, "centre": "AMU"}
    return _body(
        app,
        "act-confirm.message",
        [{"id": "act-submit", "property": "n_clicks", "value": 1}],
        [
            {"id": "act-kind", "property": "value", "value": kind},
            {"id": "act-minutes", "property": "value", "value": None},
            {"id": "act-text", "property": "value", "value": None},
            {"id": "act-reason", "property": "value", "value": reason},
            {"id": "act-target", "property": "data", "value": target},
            {"id": "act-category", "property": "value", "value": category},
        ],
    )


def _confirm(app: Any, kind: str, reason: str, category: str | None = None, cid: str = CID) -> dict[str, Any]:  # fmt: skip
    body = _ask(app, kind, reason, category, cid)
    return _body(
        app,
        "act-category.value",
        [{"id": "act-confirm", "property": "submit_n_clicks", "value": 1}],
        body["state"],
    )


def _post(client: Any, body: dict[str, Any]) -> str:
    resp = client.post("/_dash-update-component", json=body)
    return json.dumps(resp.get_json(), ensure_ascii=False) if resp.status_code == 200 else ""


def test_the_end_is_confirmed_naming_the_candidate_and_what_they_lose(
    app_ctx: tuple[Any, AppContext, FakeClient, Feed],
) -> None:
    app, ctx, fake, _feed = app_ctx
    client = _as(app, ctx, NATIONAL)
    asked = _post(client, _ask(app, "end_candidate", "fraude avérée", "candidate"))
    assert f"mettre fin au temps de {CID} (AMU) maintenant, sur l'épreuve U1" in asked
    assert f"{CID} perd 3 h 00 min de composition" in asked and "définitive" in asked
    assert "fraude avérée (Candidat)" in asked
    assert fake.sent == []  # nothing sent before the confirmation
    done = _post(client, _confirm(app, "end_candidate", "fraude avérée", "candidate"))
    assert fake.sent == [("end", CID, "fraude avérée", "candidate")]
    assert f"Temps de {CID} terminé : 12 min perdue(s)." in done


def test_a_pause_sends_its_category_and_a_refusal_reads_in_french(
    app_ctx: tuple[Any, AppContext, FakeClient, Feed],
) -> None:
    app, ctx, fake, _feed = app_ctx
    client = _as(app, ctx, AMU)
    assert "Suspendre le candidat" in _post(client, _ask(app, "pause_candidate", "malaise"))
    _post(client, _confirm(app, "pause_candidate", "malaise", "environment"))
    assert fake.sent == [("pause", CID, "malaise", "environment")]
    fake.refuse = JuryApiError(409, "candidate_paused", f"Candidate {CID} is already paused.")
    refused = _post(client, _confirm(app, "pause_candidate", "malaise"))
    assert "Le candidat est déjà suspendu." in refused and "Candidate" not in refused
    forged = _post(client, _confirm(app, "pause_candidate", "malaise", "météo"))
    assert "Catégorie inconnue." in forged and len(fake.sent) == 1


@pytest.mark.parametrize("session", [LILLE, OBSERVER], ids=["other-centre", "observer"])
def test_forged_candidate_actions_never_reach_the_exam_server(
    app_ctx: tuple[Any, AppContext, FakeClient, Feed], session: JurySession
) -> None:
    app, ctx, fake, _feed = app_ctx
    client = _as(app, ctx, session)
    for kind in cand.CANDIDATE_KINDS:
        # The browser's store says LILLE: the centre is read from the feed, not from it.
        body = _confirm(app, kind, "forgé")
        body["state"][4]["value"] = {"candidate_id": CID, "centre": "LILLE"}
        assert "Accès refusé" in _post(client, body)
        assert "mettre fin" not in _post(client, _ask(app, kind, "forgé"))
    assert fake.sent == []


def test_the_new_refusals_and_audit_kinds_read_in_french() -> None:
    for code, words in (
        ("candidate_paused", "déjà suspendu"),
        ("candidate_not_paused", "n'est pas suspendu"),
        ("unit_finished", "déjà terminé"),
        ("outside_time_window", "déjà écoulé"),
        ("centre_not_paused", "Le centre n'est pas suspendu"),
    ):
        assert words in error_text(JuryApiError(409, code, "English"), "fr")
        assert "English" not in error_text(JuryApiError(409, code, "English"), "en")


def _event(seq: int, kind: str, actor: str, cid: str | None, data: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    centre = cid.split("-")[0] if cid else None
    return {"seq": seq, "ts": 1000.0 + 100 * seq, "kind": kind, "actor": actor, "centre": centre, "candidate_id": cid, "data": data}  # fmt: skip


ENDED = {"id": 1, "unit_id": "U1", "candidate_id": "AMU-00002", "centre": "AMU", "seconds": -720.0}  # fmt: skip
MATERIAL: dict[str, Any] = {
    "episodes": [],
    "fraud_alerts": [],
    "events": [
        _event(0, "launch", "jury:national", None, {"unit_id": "U1", "deadline": 5000.0}),
        _event(
            1,
            "candidate_pause",
            "jury:centre-AMU",
            CID,
            {"reason": "malaise", "category": "candidate", "unit_id": "U1"},
        ),
        _event(
            2, "candidate_resume", "jury:centre-AMU", CID, {"reason": "rétabli", "unit_id": "U1"}
        ),
        _event(
            3,
            "end_time",
            "jury:national",
            "AMU-00002",
            {"unit_id": "U1", "seconds": 720.0, "reason": "fraude"},
        ),
    ],
    "extra_time": [
        {
            **ENDED,
            "reason": "time ended by the jury: fraude",
            "actor": "jury:national",
            "ts": 1300.0,
        },
    ],
}


def test_the_proces_verbal_lists_candidate_pauses_and_ended_times(
    snapshot: dict[str, Any],
) -> None:
    report = build_report(MATERIAL, snapshot["candidates"], None, 3000.0, "fr", unit="U1")
    events = report.sections["events"]
    assert [e["kind"] for e in events[1:]] == ["Suspension du candidat", "Reprise du candidat", "Fin du temps imposée par le jury"]  # fmt: skip
    assert f"Candidat : {CID}" in events[1]["details"] and "Catégorie : Candidat" in events[1]["details"]  # fmt: skip
    assert "Durée : 12 min" in events[3]["details"] and "AMU-00002" in events[3]["details"]
    (ended,) = report.sections["extra_time"]
    assert (
        ended["target"] == "AMU-00002" and ended["duration"] == "fin du temps : 12 min retirée(s)"
    )
    assert ended["reason"] == "fraude"  # the server's English prefix left out
    amu = next(c for c in report.per_centre if c["centre"] == "AMU")
    assert (amu["candidate_pauses"], amu["times_ended"], amu["extra_candidates"]) == ("1", "1", "0")
    csv_text = to_csv(report)
    assert "Suspensions individuelles" in csv_text and "Fins de temps imposées" in csv_text
    assert "time ended by the jury" not in csv_text
