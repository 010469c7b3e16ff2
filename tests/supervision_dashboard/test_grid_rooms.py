"""Rooms, seats and answers in the candidate grids, the room filter, the national banner
(no browser: the functions and the centre refresh on recorded feed rows)."""

from __future__ import annotations

from typing import Any

from dash import no_update

from supervision_dashboard.context import AppContext, JurySession
from supervision_dashboard.feed import Feed
from supervision_dashboard.i18n import t
from supervision_dashboard.pages.centre import centre_refresh, columns, room_options
from supervision_dashboard.pages.national_banner import active, banner_parts
from supervision_dashboard.rows import grid_row, rooms
from supervision_dashboard.units import UnitRef, UnitState, UnitStatus
from vigie.jury_client import JuryIdentity

TS = 1737450000.0  # 10:00:00 in Paris


def _row(cid: str, **more: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"id": cid, "centre": cid.rsplit("-", 1)[0], "state": "in_progress"}
    base.update({"last_hb": TS - 1, "connected": True, "unit_id": "ue1"})
    return base | more


def test_room_seat_last_answer_and_pending_read_as_the_jury_reads_them() -> None:
    row = _row("AMU-00061", room="Salle 2", seat="01", last_answer_at=TS - 125, pending_offline=3)
    g = grid_row(row, TS)
    assert (g["room"], g["seat"]) == ("Salle 2", "01")
    assert g["last_answer"] == "09:57:55"  # the exam's clock, as every other time
    assert g["pending"] == 3
    # No answer yet, an older server without the fields: a dash, nothing pending, no room.
    bare = grid_row(_row("AMU-00001"), TS)
    assert bare["last_answer"] == "—" and bare["pending"] == 0
    assert bare["room"] == "" and bare["seat"] == ""
    assert grid_row(_row("AMU-00001", last_answer_at=None), TS, "en")["last_answer"] == "—"


def test_the_new_columns_have_floors_and_the_pending_count_is_highlighted() -> None:
    cols = {c["field"]: c for c in columns("fr")}
    for field, header in (
        ("room", "Salle"),
        ("seat", "Place"),
        ("last_answer", "Dernière réponse"),
        ("pending", "Réponses en attente"),
    ):
        assert cols[field]["headerName"] == header
        assert cols[field]["minWidth"] == cols[field]["width"]  # a floor, as the others
    assert cols["pending"]["cellClassRules"] == {"pending-offline": "params.value > 0"}
    english = {c["field"]: c.get("headerName") for c in columns("en")}
    assert english["room"] == "Room" and english["pending"] == "Answers pending"


def test_rooms_in_the_rosters_order_with_their_counts() -> None:
    rows = [_row(f"AMU-{i:05d}", room=f"Salle {1 + (i - 1) // 60}") for i in range(1, 662)]
    found = rooms(rows)
    assert [r for r, _ in found][:3] == ["Salle 1", "Salle 2", "Salle 3"]
    assert found[-1] == ("Salle 12", 1) and found[9] == ("Salle 10", 60)
    options = room_options(found[:2], "fr")
    assert options[0] == {"label": "Toutes les salles", "value": ""}
    assert options[1] == {"label": "Salle 1 · 60", "value": "Salle 1"}
    assert rooms([_row("X-1"), _row("X-2", room=None)]) == []


def _ctx(rows: list[dict[str, Any]]) -> tuple[AppContext, JurySession]:
    ctx = AppContext("http://127.0.0.1:9")  # never polled: the feed is installed
    feed = Feed(ctx.server_url, "t-amu", centre="AMU")
    feed.state.apply_snapshot({"cursor": 1, "server_ts": TS, "counts": {}, "candidates": rows})
    ctx.feeds.install(feed)
    return ctx, JurySession(JuryIdentity("t-amu", "centre-AMU", "centre", "AMU"))


def test_the_room_filter_sends_only_that_rooms_rows_then_switches_by_transaction() -> None:
    rows = [_row(f"AMU-{i:05d}", room=f"Salle {1 + (i - 1) // 60}") for i in range(1, 71)]
    ctx, session = _ctx(rows)
    first = centre_refresh(ctx, session, "v", "AMU", "Salle 2")
    assert sorted(r["id"] for r in first[0]) == [f"AMU-{i:05d}" for i in range(61, 71)]
    assert [o["value"] for o in first[6]] == ["", "Salle 1", "Salle 2"]
    # Back to every room: the ten stay, Salle 1's sixty are added; the options are not re-sent.
    again = centre_refresh(ctx, session, "v", "AMU", None)
    assert again[0] is no_update and again[6] is no_update
    assert len(again[1]["add"]) == 60 and "remove" not in again[1]
    one = centre_refresh(ctx, session, "v", "AMU", "Salle 1")
    assert len(one[1]["remove"]) == 10


def _unit(state: UnitState, deadline: float, closed: float | None = None) -> UnitStatus:
    ref = UnitRef("ue1", "UE 1", "standard", 3600.0)
    return UnitStatus(ref, state, TS - 3600, deadline, closed)


def test_the_banner_names_paused_centres_counts_lone_pauses_and_overtime() -> None:
    rows = [
        _row("AMU-00001", paused=True),
        _row("AMU-00002", paused=True, connected=False, state="not_connected"),
        _row("CAEN-00001", paused=True),  # paused alone: CAEN works on
        _row("CAEN-00002"),
        _row("LILLE-00001", deadline=TS + 600),  # beyond the national end
        _row("LILLE-00002", deadline=TS + 1200),
        _row("LILLE-00003", deadline=TS + 1800, state="finished"),  # done: not counted
        _row("LILLE-00004", deadline=TS + 60),
    ]
    running = _unit(UnitState.RUNNING, TS + 300)
    a = active(rows, [running], TS)
    assert a.centres_paused == ("AMU",) and a.candidates_paused == 1
    assert (a.overtime, a.overtime_until, a.national_end) == (2, TS + 1200, TS + 300)
    assert banner_parts(a, "fr") == [
        "Centres en pause : AMU",
        "1 candidat(s) en pause individuelle",
        "2 candidat(s) composent au-delà de la fin nationale (10:05:00), jusqu'à 10:20:00",
    ]
    assert banner_parts(a, "en")[0] == "Centres paused: AMU"


def test_after_the_close_the_banner_counts_who_still_works_and_nothing_is_nothing() -> None:
    rows = [_row("LILLE-00001", deadline=TS + 600, extra_time_s=900), _row("LILLE-00002")]
    closed = _unit(UnitState.CLOSED, TS - 60, closed=TS - 30)
    a = active(rows, [closed], TS)
    # The server's rule: the close (or the national end, if earlier) plus their own extra time.
    assert (a.overtime, a.overtime_until, a.national_end) == (1, TS + 600, TS - 60)
    assert not active([_row("LILLE-00002")], [closed], TS)
    assert banner_parts(active([_row("X-1")], [], TS), "fr") == []
    assert t("banner_overtime", "en", n=1, end="10:00:00", t="10:10:00").startswith("1 candidate")
