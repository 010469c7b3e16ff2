"""The national refresh through Dash's real request path (Flask test client, no browser)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from dash import Patch, no_update

from supervision_dashboard.app import create_app
from supervision_dashboard.context import AppContext, JurySession
from supervision_dashboard.feed import Feed
from supervision_dashboard.heatmap import STATE_CODE
from supervision_dashboard.pages.national import national_refresh
from vigie.jury_client import JuryIdentity


@pytest.fixture
def app_ctx(snapshot: dict[str, Any]) -> tuple[Any, AppContext, Feed]:
    app, ctx = create_app("http://127.0.0.1:9")  # never polled: the feeds are installed
    feed = Feed(ctx.server_url, "t")
    feed.state.apply_snapshot(snapshot)
    ctx.feeds.install(feed)
    amu = Feed(ctx.server_url, "t-amu", centre="AMU")
    amu.state.apply_snapshot(
        dict(snapshot, candidates=[r for r in snapshot["candidates"] if r["centre"] == "AMU"])
    )
    ctx.feeds.install(amu)
    return app, ctx, feed


NATIONAL = JurySession(JuryIdentity("t", "national", "national", None))


def test_second_refresh_patches_only_the_changed_cell(
    app_ctx: tuple[Any, AppContext, Feed], changes: dict[str, Any]
) -> None:
    _, ctx, feed = app_ctx
    first = national_refresh(ctx, NATIONAL, "view-1", False)
    assert first[0]["data"][0]["type"] == "heatmap"
    assert national_refresh(ctx, NATIONAL, "view-1", False)[0] is no_update

    one = copy.deepcopy(changes)
    one["candidates"] = [dict(one["candidates"][1], state="finished")]  # LILLE-00002
    feed.state.apply_changes(one)
    patch = national_refresh(ctx, NATIONAL, "view-1", False)[0]
    assert isinstance(patch, Patch)
    ops = patch.to_plotly_json()["operations"]
    assert [op["params"]["value"] for op in ops] == [STATE_CODE["finished"]]
    # Another page opening now gets the whole figure, not a patch.
    assert isinstance(national_refresh(ctx, NATIONAL, "view-2", False)[0], dict)


def _national_callback_body(client: Any, view: str) -> dict[str, Any]:
    deps = client.get("/_dash-dependencies").get_json()
    cb = next(d for d in deps if d["output"].startswith("..heatmap.figure"))
    outputs = [
        dict(zip(("id", "property"), part.split(".", 1), strict=True))
        for part in cb["output"].strip(".").split("...")
    ]
    return {
        "output": cb["output"],
        "outputs": outputs,
        "inputs": [
            {"id": "tick", "property": "n_intervals", "value": 1},
            {"id": "only-incidents", "property": "value", "value": []},
        ],
        "state": [{"id": "view-id", "property": "data", "value": view}],
        "changedPropIds": ["tick.n_intervals"],
    }


def test_centre_juror_gets_nothing_from_the_national_callback(
    app_ctx: tuple[Any, AppContext, Feed],
) -> None:
    app, ctx, _ = app_ctx
    nat = ctx.adopt(NATIONAL)
    amu = ctx.adopt(JurySession(JuryIdentity("t-amu", "centre-AMU", "centre", "AMU")))
    client = app.server.test_client()
    with client.session_transaction() as s:
        s["sid"] = nat
    body = _national_callback_body(client, "v")
    national = client.post("/_dash-update-component", json=body)
    assert national.status_code == 200 and b"LILLE" in national.data

    with client.session_transaction() as s:
        s["sid"] = amu
    refused = client.post("/_dash-update-component", json=body)
    assert refused.status_code == 204 and b"LILLE" not in refused.data

    client.get("/logout")
    anonymous = client.post("/_dash-update-component", json=body)
    assert anonymous.status_code == 401
    assert json.loads(anonymous.data)["error"]["code"] == "unauthenticated"
