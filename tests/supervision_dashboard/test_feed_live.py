"""The feed against the real exam server: snapshot, incremental changes, cursor expiry, scopes."""

from __future__ import annotations

from typing import Any

import pytest

from supervision_dashboard.feed import Feed
from vigie.jury_client import JuryApiError, JuryClient


def test_feed_follows_changes_and_resnapshots_on_expired_cursor(
    exam_server: str, national_token: str, tablets: Any
) -> None:
    feed = Feed(exam_server, national_token)
    feed.poll_once()
    assert feed.last_error is None and feed.state.snapshots == 1
    assert len(feed.state.rows) == 120
    first_cursor = feed.state.cursor
    tablets.start()
    feed.poll_once()
    assert feed.state.snapshots == 1  # an incremental answer, not a new snapshot
    assert feed.state.cursor is not None and first_cursor is not None
    assert feed.state.cursor > first_cursor
    live = {cid for cid, r in feed.state.rows.items() if r["state"] != "not_connected"}
    assert set(tablets.ids) <= live

    feed.state.cursor = 1  # a cursor from before this server run
    feed.poll_once()
    assert feed.last_error is None and feed.state.snapshots == 2


def test_centre_scope_only_holds_its_centre(exam_server: str) -> None:
    client = JuryClient(exam_server)
    ident = client.login("centre-AMU", "centre-demo")
    assert ident.role == "centre" and ident.centre == "AMU"
    feed = Feed(exam_server, ident.token, centre="AMU")
    feed.poll_once()
    assert feed.state.rows and {r["centre"] for r in feed.state.rows.values()} == {"AMU"}
    # The server itself refuses another centre to this token.
    with pytest.raises(JuryApiError) as err:
        client.snapshot("LILLE")
    assert err.value.status == 403 and err.value.code == "forbidden"


def test_bad_credentials_are_a_clear_error(exam_server: str) -> None:
    with pytest.raises(JuryApiError) as err:
        JuryClient(exam_server).login("national", "nope")
    assert err.value.status == 401 and err.value.code == "bad_credentials"


def test_unreachable_server_is_reported_not_raised() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    feed = Feed(f"http://127.0.0.1:{port}", "token")
    feed.poll_once()
    assert feed.last_error is not None and feed.last_error.startswith("unreachable")
    assert feed.last_ok is None and feed.state.cursor is None
