"""The national jury's unit controls without a browser: the states, the confirmations, the
refusals in French, and forged Dash requests refused before they reach the exam server."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from supervision_dashboard.app import create_app
from supervision_dashboard.context import AppContext, JurySession
from supervision_dashboard.feed import Feed
from supervision_dashboard.pages.units import refusal
from supervision_dashboard.units import (
    UnitState,
    catalogue,
    keeps_extra_time,
    statuses,
    still_working,
)
from vigie.jury_client import JuryApiError, JuryIdentity

LAUNCH = {"kind": "launch", "ts": 1000.0, "data": {"unit_id": "ue1", "deadline": 1600.0}}
CLOSE = {"kind": "close", "ts": 1500.0, "data": {"unit_id": "ue1"}}
NATIONAL = JurySession(JuryIdentity("t", "national", "national", None))
CENTRE = JurySession(JuryIdentity("t-amu", "centre-AMU", "centre", "AMU"))
OBSERVER = JurySession(JuryIdentity("t-obs", "observer", "observer", None))


def test_the_catalogue_is_the_demo_session() -> None:
    assert [u.id for u in catalogue()] == [
        "ue1", "ue2", "ue3", "lca1", "lca2", "ue-secours", "lca-secours"
    ]  # fmt: skip
    assert catalogue()[0].duration_s == 3 * 3600 and catalogue()[3].duration_s == 5400


def test_states_follow_the_launch_the_close_and_the_replacement() -> None:
    def by_id(events: list[Any], repl: dict[str, str]) -> dict[str, Any]:
        return {u.id: u for u in statuses(events, repl)}

    assert {u.state for u in by_id([], {}).values()} == {UnitState.NOT_LAUNCHED}
    running = by_id([LAUNCH], {})["ue1"]
    assert running.state is UnitState.RUNNING and running.deadline == 1600.0
    closed = by_id([LAUNCH, CLOSE], {})["ue1"]
    assert closed.state is UnitState.CLOSED and closed.closed_at == 1500.0
    replaced = by_id([LAUNCH, CLOSE], {"ue1": "ue3"})
    assert replaced["ue1"].state is UnitState.REPLACED and replaced["ue1"].replaced_by == "ue3"
    assert replaced["ue3"].replaces == "ue1" and replaced["ue3"].state is UnitState.NOT_LAUNCHED


def test_who_keeps_extra_time_at_a_close() -> None:
    def row(cid: str, state: str, deadline: float, extra: float, unit: str = "ue1") -> dict[str, Any]:  # fmt: skip
        return {"id": cid, "centre": cid[0], "unit_id": unit, "state": state, "deadline": deadline, "extra_time_s": extra}  # fmt: skip

    rows = [
        row("A-1", "in_progress", 5300, 300),  # closed early at 1000: keeps 5 min
        row("A-2", "finished", 5600, 600),
        row("B-1", "lost", 5600, 600),  # not connected now, still entitled
        row("B-2", "in_progress", 5000, 0),
        row("C-1", "in_progress", 5060, 60, unit="ue0"),
    ]
    keep = keeps_extra_time(rows, "ue1", 1000.0)
    assert [(o.candidate_id, o.extra_s) for o in keep] == [("B-1", 600), ("A-1", 300)]
    # A late close (after everyone's own end) leaves nobody working on.
    assert keeps_extra_time(rows, "ue1", 6000.0) == []


def test_who_still_works_after_a_close() -> None:
    def row(cid: str, state: str, deadline: float | None, extra: float) -> dict[str, Any]:
        centre = cid.split("-")[0]
        return {"id": cid, "centre": centre, "unit_id": "ue1", "state": state, "deadline": deadline, "extra_time_s": extra}  # fmt: skip

    rows = [
        row("A-1", "in_progress", 1300, 300),  # closed at 1000, +5 min: until 1300
        row("A-2", "finished", 1300, 300),
        row("A-3", "in_progress", 900, 0),  # the national end came first
        row("B-1", "not_connected", 1600, 600),
        row("B-2", "waiting", None, 0),
        row("C-1", "in_progress", 9000, 0),  # read before the close: not after it
    ]
    working = still_working(rows, "ue1", 1000.0, 1001.0)
    assert [(w.candidate_id, w.deadline) for w in working] == [("B-1", 1600), ("A-1", 1300)]
    assert still_working(rows, "ue2", 1000.0, 1001.0) == []
    # The feed's last reading may predate the close: nobody without extra time works on.
    assert [w.candidate_id for w in still_working(rows, "ue1", 1000.0, 990.0)] == ["B-1", "A-1"]


def test_the_three_launch_refusals_read_apart() -> None:
    exc = JuryApiError(409, "unit_already_launched", "...")
    units = statuses([LAUNCH], {})
    assert "déjà été lancée" in refusal(exc, "launch", "ue1", units, "fr")
    assert "ue1 est en cours" in refusal(exc, "launch", "ue2", units, "fr")
    after = statuses([LAUNCH, CLOSE], {})
    assert "temps supplémentaire" in refusal(exc, "launch", "ue2", after, "fr")
    gone = JuryApiError(409, "unit_replaced", "Unit 'ue1' is already part of a replacement")
    assert "remplacement" in refusal(gone, "close", "ue1", units, "fr")
    assert "Unit" not in refusal(gone, "close", "ue1", units, "fr")


class FakeClient:
    """The exam server's jury API as the callbacks use it, recording every decision."""

    def __init__(self, events: list[Any]) -> None:
        self.events = events
        self.sent: list[tuple[str, ...]] = []

    def incidents(self) -> dict[str, Any]:
        return {"events": self.events}

    def results(self) -> dict[str, Any]:
        raise JuryApiError(409, "unit_not_closed", "sealed")

    def launch_unit(self, unit: str, reason: str) -> dict[str, Any]:
        self.sent.append(("launch", unit, reason))
        return {"unit_id": unit, "deadline": 2000.0}

    def close_unit(self, unit: str, reason: str) -> dict[str, Any]:
        self.sent.append(("close", unit, reason))
        return {"overtime": [{"candidate_id": "AMU-00001", "deadline": 1800.0, "seconds": 300}]}

    def replace_unit(self, unit: str, backup: str, reason: str) -> dict[str, Any]:
        self.sent.append(("replace", unit, backup, reason))
        return {"unit_id": unit, "backup_id": backup, "actor": "national"}


@pytest.fixture
def app_ctx(snapshot: dict[str, Any]) -> tuple[Any, AppContext, FakeClient]:
    app, ctx = create_app("http://127.0.0.1:9")  # never reached: the client is a fake
    snap = copy.deepcopy(snapshot)
    for row in snap["candidates"]:
        row["unit_id"] = "ue1"
    snap["candidates"][0].update(extra_time_s=300, state="in_progress")  # AMU-00001: +5 min
    feed = Feed(ctx.server_url, "t")
    feed.state.apply_snapshot(snap)
    ctx.feeds.install(feed)
    fake = FakeClient([LAUNCH])
    ctx.client_for = lambda session: fake  # type: ignore[assignment,method-assign,return-value]
    return app, ctx, fake


def _body(app: Any, key: str, inputs: list[Any], state: list[Any]) -> dict[str, Any]:
    output = next(o for o in app.callback_map if key in o)
    parts = [dict(zip(("id", "property"), p.split(".", 1), strict=True)) for p in output.strip(".").split("...")]  # fmt: skip
    first = inputs[0][0] if isinstance(inputs[0], list) else inputs[0]
    ident = first["id"] if isinstance(first["id"], str) else json.dumps(first["id"], sort_keys=True, separators=(",", ":"))  # fmt: skip
    return {
        "output": output,
        "outputs": parts,
        "inputs": inputs,
        "state": state,
        "changedPropIds": [f"{ident}.{first['property']}"],
    }


def _as(app: Any, ctx: AppContext, session: JurySession) -> Any:
    client = app.server.test_client()
    sid = ctx.adopt(session)
    with client.session_transaction() as s:
        s["sid"] = sid
    return client


def _ask_close(app: Any) -> dict[str, Any]:
    button = {"id": {"type": "unit-act", "unit": "ue1", "action": "close"}, "property": "n_clicks", "value": 1}  # fmt: skip
    reason = {"id": "units-reason", "property": "value", "value": "fin de l'épreuve"}
    return _body(app, "units-pending.data", [[button]], [reason])


def _confirm(app: Any, pending: Any) -> dict[str, Any]:
    return _body(
        app,
        "units-reason.value",
        [{"id": "units-confirm", "property": "submit_n_clicks", "value": 1}],
        [
            {"id": "units-pending", "property": "data", "value": pending},
            {"id": "units-reason", "property": "value", "value": "fin de l'épreuve"},
            {"id": "units-version", "property": "data", "value": 0},
        ],
    )


def test_a_close_is_confirmed_naming_who_keeps_extra_time(
    app_ctx: tuple[Any, AppContext, FakeClient],
) -> None:
    app, ctx, fake = app_ctx
    client = _as(app, ctx, NATIONAL)
    asked = client.post("/_dash-update-component", json=_ask_close(app)).get_json()["response"]
    message = asked["units-confirm"]["message"]
    assert "Clore l'épreuve ue1" in message and "AMU-00001 (AMU, +5 min)" in message
    assert "gardent leur temps supplémentaire" in message and "fin de l'épreuve" in message
    assert asked["units-pending"]["data"] == {"unit": "ue1", "action": "close"}
    assert fake.sent == []  # nothing sent before the confirmation

    done = client.post("/_dash-update-component", json=_confirm(app, {"unit": "ue1", "action": "close"}))  # fmt: skip
    text = json.dumps(done.get_json(), ensure_ascii=False)
    assert fake.sent == [("close", "ue1", "fin de l'épreuve")]
    assert "Épreuve ue1 close" in text and "composent encore" in text and "AMU-00001" in text


def test_a_launch_of_a_running_unit_is_not_offered(
    app_ctx: tuple[Any, AppContext, FakeClient],
) -> None:
    app, ctx, fake = app_ctx
    client = _as(app, ctx, NATIONAL)
    done = client.post("/_dash-update-component", json=_confirm(app, {"unit": "ue1", "action": "launch"}))  # fmt: skip
    assert "ne s'applique plus" in json.dumps(done.get_json(), ensure_ascii=False)
    assert fake.sent == []


def _replace(app: Any, unit: str, backup: str, reason: str) -> dict[str, Any]:
    return _body(
        app,
        "replace-reason.value",
        [{"id": "replace-confirm", "property": "submit_n_clicks", "value": 1}],
        [
            {"id": "replace-unit", "property": "value", "value": unit},
            {"id": "replace-backup", "property": "value", "value": backup},
            {"id": "replace-reason", "property": "value", "value": reason},
            {"id": "replace-version", "property": "data", "value": 0},
            {"id": "results-version", "property": "data", "value": 0},
        ],
    )


def test_a_replacement_says_when_the_results_will_count_the_backup(
    app_ctx: tuple[Any, AppContext, FakeClient],
) -> None:
    app, ctx, fake = app_ctx
    fake.events = [LAUNCH, CLOSE]
    client = _as(app, ctx, NATIONAL)
    done = client.post("/_dash-update-component", json=_replace(app, "ue1", "ue2", "incident"))
    text = json.dumps(done.get_json(), ensure_ascii=False)
    assert fake.sent == [("replace", "ue1", "ue2", "incident")]
    assert "Épreuve ue1 annulée : ue2 compte à sa place (décision de national)." in text
    assert "une fois ue2 composée et close" in text
    # Remembered while the results are sealed: the panel shows the decision.
    units = {u.id: u for u in ctx.units.read(fake)}  # type: ignore[arg-type]
    assert units["ue1"].state is UnitState.REPLACED and units["ue2"].replaces == "ue1"


@pytest.mark.parametrize("session", [CENTRE, OBSERVER], ids=["centre", "observer"])
def test_forged_requests_never_reach_the_exam_server(
    app_ctx: tuple[Any, AppContext, FakeClient], session: JurySession
) -> None:
    app, ctx, fake = app_ctx
    client = _as(app, ctx, session)
    assert client.post("/_dash-update-component", json=_ask_close(app)).status_code == 204
    for action in ("launch", "close"):
        forged = client.post("/_dash-update-component", json=_confirm(app, {"unit": "ue2", "action": action}))  # fmt: skip
        assert "réservés au jury national" in json.dumps(forged.get_json(), ensure_ascii=False)
    replace = _replace(app, "ue1", "ue2", "forgé")
    forged = client.post("/_dash-update-component", json=replace)
    assert "réservés au jury national" in json.dumps(forged.get_json(), ensure_ascii=False)
    assert fake.sent == []
