"""The jury API: roles, scope, actions, supervision snapshot and change feed, audit, fraud."""

from __future__ import annotations

from typing import Any

import pytest


async def test_roles_and_centre_scope(api: Any) -> None:
    c = api.client
    observer = await api.jury("observer")
    centre = await api.jury("centre-AMU")
    r = await c.post("/api/v1/jury/units/ue1/launch", json={"reason": "x"}, headers=observer)
    assert r.status == 403 and await api.error_code(r) == "forbidden"
    r = await c.post("/api/v1/jury/units/ue1/launch", json={"reason": "x"}, headers=centre)
    assert r.status == 403
    r = await c.post("/api/v1/jury/centres/LILLE/pause", json={"reason": "x"}, headers=centre)
    assert r.status == 403
    r = await c.post("/api/v1/jury/centres/AMU/pause", json={"reason": "x"}, headers=observer)
    assert r.status == 403
    r = await c.get("/api/v1/jury/snapshot?centre=LILLE", headers=centre)
    assert r.status == 403
    r = await c.get("/api/v1/jury/snapshot", headers=centre)
    rows = (await r.json())["candidates"]
    assert rows and {row["centre"] for row in rows} == {"AMU"}
    r = await c.get("/api/v1/jury/snapshot", headers=observer)
    assert {row["centre"] for row in (await r.json())["candidates"]} == {
        "AMU",
        "LILLE",
        "LILLE-CATHO",
    }
    r = await c.get("/api/v1/jury/candidates/LILLE-00001/timeline", headers=centre)
    assert r.status == 403
    r = await c.post(
        "/api/v1/jury/messages",
        json={"candidate_id": "LILLE-00001", "text": "hi", "reason": "x"},
        headers=centre,
    )
    assert r.status == 403
    # A candidate's token is no jury token.
    cand = api.bearer(await api.candidate_token())
    assert (await c.get("/api/v1/jury/snapshot", headers=cand)).status == 403


async def test_jury_login_refusal(api: Any) -> None:
    r = await api.client.post(
        "/api/v1/jury/login", json={"username": "national", "password": "wrong"}
    )
    assert r.status == 401 and await api.error_code(r) == "bad_credentials"
    r = await api.client.post("/api/v1/jury/login", json={"username": "nobody", "password": "x"})
    assert r.status == 401


async def test_centres_list(api: Any) -> None:
    r = await api.client.get("/api/v1/jury/centres", headers=await api.jury("observer"))
    doc = {c["code"]: c["candidates"] for c in await r.json()}
    assert len(doc) == 35 and doc["AMU"] == 3 and doc["LILLE"] == 2 and doc["BREST"] == 0


async def test_launch_twice_and_close_states(api: Any) -> None:
    doc = await api.launch()
    assert doc["state"] == "launched" and doc["deadline"] - doc["launched_at"] == pytest.approx(
        10800
    )
    r = await api.client.post(
        "/api/v1/jury/units/ue1/launch", json={"reason": "again"}, headers=await api.jury()
    )
    assert r.status == 409 and await api.error_code(r) == "unit_already_launched"
    r = await api.client.post(
        "/api/v1/jury/units/ue2/launch", json={"reason": "overlap"}, headers=await api.jury()
    )
    assert r.status == 409 and await api.error_code(r) == "unit_already_launched"
    r = await api.client.post(
        "/api/v1/jury/units/ue2/close", json={"reason": "x"}, headers=await api.jury()
    )
    assert r.status == 409 and await api.error_code(r) == "unit_not_launched"
    r = await api.client.post(
        "/api/v1/jury/units/nope/close", json={"reason": "x"}, headers=await api.jury()
    )
    assert r.status == 404 and await api.error_code(r) == "unknown_unit"


async def test_pause_credits_time_and_blocks_answers(api: Any) -> None:
    token = await api.candidate_token()
    launched = await api.launch()
    centre = await api.jury("centre-AMU")
    r = await api.client.post(
        "/api/v1/jury/centres/AMU/pause", json={"reason": "fire alarm"}, headers=centre
    )
    assert r.status == 200
    r = await api.answer(token, "ue1-q001", {"text": "x"})
    assert r.status == 409 and await api.error_code(r) == "centre_paused"
    r = await api.client.post(
        "/api/v1/jury/centres/AMU/pause", json={"reason": "x"}, headers=centre
    )
    assert r.status == 409
    snap = await (await api.client.get("/api/v1/jury/snapshot", headers=centre)).json()
    # No tablet is connected: they are not connected (the pause is a fact of its own).
    assert snap["counts"]["national"]["not_connected"] == 3
    assert snap["counts"]["national"]["paused"] == 0
    assert all(row["paused"] and not row["connected"] for row in snap["candidates"])
    r = await api.client.post(
        "/api/v1/jury/centres/AMU/resume", json={"reason": "ok"}, headers=centre
    )
    assert r.status == 200
    me = await (await api.client.get("/api/v1/me", headers=api.bearer(token))).json()
    deadline = next(u for u in me["units"] if u["unit_id"] == "ue1")["deadline"]
    assert deadline > launched["deadline"]  # paused time is credited back


async def test_snapshot_then_change_feed(api: Any) -> None:
    jury = await api.jury("observer")
    snap = await (await api.client.get("/api/v1/jury/snapshot", headers=jury)).json()
    assert len(snap["candidates"]) == 6
    assert sum(snap["counts"]["national"].values()) == 6
    r = await api.client.get(f"/api/v1/jury/changes?since={snap['cursor']}", headers=jury)
    assert (await r.json())["candidates"] == []

    await api.launch()
    r = await api.client.post(
        "/api/v1/jury/extra-time",
        json={"unit_id": "ue1", "candidate_id": "LILLE-00002", "seconds": 300, "reason": "tablet"},
        headers=await api.jury(),
    )
    assert r.status == 200
    feed = await (
        await api.client.get(f"/api/v1/jury/changes?since={snap['cursor']}", headers=jury)
    ).json()
    assert feed["cursor"] > snap["cursor"]
    lille = next(row for row in feed["candidates"] if row["id"] == "LILLE-00002")
    assert lille["extra_time_s"] == 300
    again = await (
        await api.client.get(f"/api/v1/jury/changes?since={feed['cursor']}", headers=jury)
    ).json()
    assert again["candidates"] == []
    for bad in ("0", str(feed["cursor"] + 10**9), "abc"):
        r = await api.client.get(f"/api/v1/jury/changes?since={bad}", headers=jury)
        assert r.status in (410, 422)
        assert await api.error_code(r) in ("cursor_expired", "invalid_request")


async def test_extra_time_to_a_centre_and_messages(api: Any) -> None:
    await api.launch()
    national = await api.jury()
    r = await api.client.post(
        "/api/v1/jury/extra-time",
        json={"unit_id": "ue1", "centre": "LILLE", "seconds": 120, "reason": "network outage"},
        headers=national,
    )
    assert (await r.json())["candidates"] == 2
    r = await api.client.post(
        "/api/v1/jury/messages",
        json={"centre": "AMU", "text": "Silence, please.", "reason": "noise"},
        headers=national,
    )
    assert (await r.json())["candidates"] == 3
    token = await api.candidate_token("LILLE-00001")
    me = await (await api.client.get("/api/v1/me", headers=api.bearer(token))).json()
    assert next(u for u in me["units"] if u["unit_id"] == "ue1")["extra_time_s"] == 120
    incidents = await (
        await api.client.get("/api/v1/jury/incidents?centre=LILLE", headers=national)
    ).json()
    assert [e["seconds"] for e in incidents["extra_time"]] == [120]
    timeline = await (
        await api.client.get("/api/v1/jury/candidates/LILLE-00001/timeline", headers=national)
    ).json()
    extra = [e for e in timeline["events"] if e["kind"] == "extra_time"]
    assert extra and extra[0]["actor"] == "jury:national"
    assert extra[0]["data"]["reason"] == "network outage"


async def test_fraud_urls_become_alerts_with_identity(api: Any) -> None:
    token = await api.candidate_token("LILLE-00002")
    h = api.bearer(token)
    for path in ("/correction.php", "/api/v1/answers", "/admin", "/api/v1/units/ue1/%2e%2e/secret"):
        r = await api.client.get(path, headers=h)
        assert r.status == 404 and await api.error_code(r) == "not_found"
    assert (await api.client.get("/favicon.ico", headers=h)).status == 404  # not fraud
    assert (await api.client.get("/admin")).status == 404  # no token: no identity
    jury = await api.jury()
    alerts = (await (await api.client.get("/api/v1/jury/fraud-alerts", headers=jury)).json())[
        "alerts"
    ]
    assert len(alerts) == 4
    assert {a["candidate_id"] for a in alerts} == {"LILLE-00002"}
    assert alerts[0]["path"] == "/correction.php" and alerts[0]["centre"] == "LILLE"
    newer = await api.client.get(f"/api/v1/jury/fraud-alerts?since={alerts[1]['id']}", headers=jury)
    assert len((await newer.json())["alerts"]) == 2
    timeline = await (
        await api.client.get("/api/v1/jury/candidates/LILLE-00002/timeline", headers=jury)
    ).json()
    assert sum(e["kind"] == "fraud" for e in timeline["events"]) == 4
