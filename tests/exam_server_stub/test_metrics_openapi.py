"""/metrics exposition, /healthz, and the OpenAPI document (valid, complete, equal to docs/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from openapi_spec_validator import validate
from prometheus_client.parser import text_string_to_metric_families

from exam_server_stub.openapi import spec

DOCS = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
EXPECTED = {
    "vigie_http_requests", "vigie_http_request_duration_seconds", "vigie_http_errors",
    "vigie_websockets_open", "vigie_connection_cap", "vigie_websocket_connects",
    "vigie_websocket_rejections", "vigie_websocket_disconnects", "vigie_heartbeats",
    "vigie_candidates", "vigie_answers", "vigie_answer_commit_duration_seconds",
    "vigie_event_loop_lag_seconds", "vigie_fraud_alerts", "vigie_injected_faults",
    "process_cpu_seconds", "process_open_fds",
}  # fmt: skip


async def test_metrics_exposition(make_api: Any) -> None:
    api = await make_api(max_connections=7)
    token = await api.candidate_token()
    ws = await api.client.ws_connect("/api/v1/ws", headers=api.bearer(token))
    await ws.receive_json(timeout=5)
    await api.client.get("/api/v1/units/nope/package", headers=api.bearer(token))
    await api.client.get("/some/unknown/path/12345")
    text = await (await api.client.get("/metrics")).text()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert set(families) >= EXPECTED
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in families.values()
        for s in f.samples
    }
    assert samples[("vigie_connection_cap", ())] == 7
    assert samples[("vigie_websockets_open", (("centre", "AMU"),))] == 1
    assert samples[("vigie_websocket_connects_total", ())] == 1
    routes = {
        dict(labels).get("route")
        for (name, labels) in samples
        if name == "vigie_http_requests_total"
    }
    # Route templates, never raw paths: bounded cardinality.
    assert "/api/v1/units/{unit_id}/package" in routes and "unmatched" in routes
    assert not any(r and "nope" in r for r in routes)
    key = (
        "vigie_http_errors_total",
        (("code", "unknown_unit"), ("route", "/api/v1/units/{unit_id}/package")),
    )
    assert samples[key] == 1
    await ws.close()


async def test_healthz(api: Any) -> None:
    r = await api.client.get("/healthz")
    assert r.status == 200 and await r.json() == {"status": "ok"}


async def test_openapi_is_valid_complete_and_published(api: Any) -> None:
    r = await api.client.get("/openapi.json")
    doc = await r.json()
    validate(doc)
    # servers names where the document is read from, whatever the port.
    assert doc["servers"] == [{"url": f"http://{r.url.host}:{r.url.port}"}]
    committed = DOCS.read_bytes()
    assert committed == spec(), "docs/openapi.json is stale: vigie openapi > docs/openapi.json"
    assert {k: v for k, v in doc.items() if k != "servers"} == {
        k: v for k, v in json.loads(committed).items() if k != "servers"
    }
    for route in api.client.app.router.routes():
        info = route.get_info()
        path = info.get("path") or info.get("formatter")
        if route.method == "HEAD":
            continue
        assert route.method.lower() in doc["paths"].get(path, {}), (route.method, path)
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert op["responses"], (method, path)
            for status, resp in op["responses"].items():
                if status.startswith(("4", "5")):  # every error is the documented shape
                    schema = resp["content"]["application/json"]["schema"]
                    assert schema["properties"]["error"]["required"] == ["code", "message"]
