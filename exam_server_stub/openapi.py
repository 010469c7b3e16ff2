"""The OpenAPI 3.1 description of the HTTP API, served at /openapi.json.

``docs/openapi.json`` is this document, written by
``python -m exam_server_stub.openapi > docs/openapi.json``; a test keeps them equal
and checks that every route of the app appears here.
"""

from __future__ import annotations

import json
import sys
from functools import cache
from typing import Any

from vigie.protocol import API_PREFIX, CandidateState, ErrorCode, UnitState

P = API_PREFIX
J = f"{API_PREFIX}/jury"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(
    props: dict[str, Any], required: list[str] | None = None, extra: bool = False
) -> dict[str, Any]:
    doc: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": extra}
    doc["required"] = list(props) if required is None else required
    return doc


S = {"type": "string"}
N = {"type": "number"}
I = {"type": "integer"}  # noqa: E741
B = {"type": "boolean"}
NS = {"type": ["number", "null"]}
SS = {"type": ["string", "null"]}
ANY_OBJ = {"type": "object"}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(s): {"$ref": f"#/components/responses/E{s}"} for s in statuses}


def _op(
    summary: str,
    ok: dict[str, Any],
    *,
    body: dict[str, Any] | None = None,
    errors: tuple[int, ...] = (),
    auth: bool = True,
    params: list[dict[str, Any]] | None = None,
    tag: str = "candidate",
) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": {"200": ok}}
    codes = set(errors) | {503}
    if auth:
        codes |= {401}
    if body is not None:
        codes |= {400, 413, 422}
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    op["responses"].update(_errors(*sorted(codes)))
    if not auth:
        op["security"] = []
    if params:
        op["parameters"] = params
    return op


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": S}


def _query(name: str, schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema}


REASON = {"type": "string", "minLength": 1, "maxLength": 500}
ID = {"type": "string", "minLength": 1, "maxLength": 64}


def _schemas() -> dict[str, Any]:
    state = {"type": "string", "enum": [s.value for s in CandidateState]}
    counts = {"type": "object", "additionalProperties": I}
    return {
        "Error": _obj(
            {
                "error": _obj(
                    {
                        "code": {
                            "type": "string",
                            "enum": [c.value for c in ErrorCode] + ["internal"],
                        },
                        "message": S,
                    }
                )
            }
        ),
        "Unit": _obj(
            {
                "unit_id": S,
                "title": S,
                "kind": {"type": "string", "enum": ["standard", "lca"]},
                "question_count": I,
                "duration_s": N,
                "state": {"type": "string", "enum": [s.value for s in UnitState]},
                "launched_at": NS,
                "deadline": NS,
                "extra_time_s": N,
                "finished": B,
                "package_sha256": S,
            }
        ),
        "Answer": {
            "description": "By format: QRU/QRM/QRP/QRPL {choices}, ZAP {points}, QROC {text}, TCS {scale}.",
            "oneOf": [
                _obj({"choices": {"type": "array", "items": I}}),
                _obj(
                    {
                        "points": {
                            "type": "array",
                            "items": {"type": "array", "items": N, "minItems": 2, "maxItems": 2},
                        }
                    }
                ),
                _obj({"text": S}),
                _obj({"scale": {"type": "integer", "minimum": -2, "maximum": 2}}),
            ],
        },
        "AnswerResult": _obj(
            {
                "action_id": S,
                "question_id": S,
                "server_ts": N,
                "client_ts": N,
                "duplicate": B,
                "unlocked": SS,
            }
        ),
        "Question": {
            "type": "object",
            "description": "A question in clear: id, format, index, text, propositions, dossier_id, dossier_index, expected_count?, context?, image?",
        },
        "Row": _obj(
            {
                "id": S,
                "centre": S,
                "state": state,
                "last_hb": NS,
                "unit_id": SS,
                "position": I,
                "answered": I,
                "question_count": I,
                "progress": N,
                "deadline": NS,
                "extra_time_s": N,
                "battery": {"type": ["integer", "null"]},
                "network": SS,
                "reconnects": I,
                "disconnected_s": N,
            }
        ),
        "Counts": _obj(
            {"national": counts, "centres": {"type": "object", "additionalProperties": counts}}
        ),
        "Feed": _obj(
            {
                "cursor": I,
                "server_ts": N,
                "unit_id": SS,
                "counts": _ref("Counts"),
                "candidates": {"type": "array", "items": _ref("Row")},
            }
        ),
        "AuditEvent": _obj(
            {"seq": I, "ts": N, "client_ts": NS, "kind": S, "actor": S, "data": ANY_OBJ}
        ),
        "FraudAlert": _obj(
            {
                "id": I,
                "ts": N,
                "candidate_id": S,
                "centre": S,
                "method": S,
                "path": S,
                "user_agent": S,
            }
        ),
        "Target": {
            "description": "Exactly one of candidate_id or centre.",
            "properties": {"candidate_id": ID, "centre": ID},
        },
    }


@cache
def spec() -> dict[str, Any]:
    e = _errors
    unit_p = _path_param("unit_id")
    centre_q = _query("centre", S)
    paths: dict[str, Any] = {
        f"{P}/login": {"post": _op(
            "Candidate login with id, centre and access code", _json(_obj({"token": S, "candidate_id": S, "centre": S, "heartbeat_interval_s": N, "units": {"type": "array", "items": _ref("Unit")}})),
            body=_obj({"candidate_id": ID, "centre": ID, "access_code": S}), auth=False)},
        f"{P}/units/{{unit_id}}/package": {"get": _op(
            "Encrypted subject package (12-byte nonce + AES-256-GCM ciphertext, AAD = unit id)",
            {"description": "The package", "headers": {"ETag": {"schema": S}, "X-Vigie-Sha256": {"schema": S}},
             "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
            errors=(404,), params=[unit_p])},
        f"{P}/units/{{unit_id}}/key": {"get": _op(
            "Package key, after the national launch only", _json(_obj({"unit_id": S, "key": S, "launched_at": N, "deadline": N})),
            errors=(404, 409), params=[unit_p])},
        f"{P}/units/{{unit_id}}/questions/{{question_id}}": {"get": _op(
            "A question in clear (after launch; dossier questions unlock in order)", _json(_ref("Question")),
            errors=(404, 409), params=[unit_p, _path_param("question_id")])},
        f"{P}/units/{{unit_id}}/answers": {"post": _op(
            "Submit an answer; 200 only after it is committed to disk; idempotent by action_id", _json(_ref("AnswerResult")),
            body=_obj({"action_id": ID, "question_id": ID, "answer": _ref("Answer"), "final": B, "client_ts": N}),
            errors=(404, 409), params=[unit_p])},
        f"{P}/units/{{unit_id}}/finish": {"post": _op(
            "Finish a unit", _json(_obj({"unit_id": S, "finished_at": N})),
            body=_obj({"action_id": ID, "client_ts": N}), errors=(404, 409), params=[unit_p])},
        f"{P}/me": {"get": _op(
            "The candidate's own state, to resume after a reconnect",
            _json(_obj({"candidate_id": S, "centre": S, "units": {"type": "array", "items": _ref("Unit")}, "answers": ANY_OBJ})))},
        f"{P}/ws": {"get": _op(
            "Tablet websocket (see docs/protocol.md); token as Bearer or ?token=",
            {"description": "Switching protocols (101)"}, errors=(400,), params=[_query("token", S)])},
        f"{J}/login": {"post": _op(
            "Jury login", _json(_obj({"token": S, "username": S, "role": {"type": "string", "enum": ["national", "centre", "observer"]}, "centre": SS})),
            body=_obj({"username": ID, "password": S}), auth=False, tag="jury")},
        f"{J}/centres": {"get": _op(
            "Centres and their candidate counts", _json({"type": "array", "items": _obj({"code": S, "name": S, "candidates": I})}), tag="jury")},
        f"{J}/units/{{unit_id}}/launch": {"post": _op(
            "Launch a unit nationally (national jury)", _json(_ref("Unit")),
            body=_obj({"reason": REASON, "duration_s": {"type": "number", "exclusiveMinimum": 0}}, ["reason"]),
            errors=(403, 404, 409), params=[unit_p], tag="jury")},
        f"{J}/units/{{unit_id}}/close": {"post": _op(
            "Close a unit nationally (national jury)", _json(_ref("Unit")), body=_obj({"reason": REASON}),
            errors=(403, 404, 409), params=[unit_p], tag="jury")},
        f"{J}/centres/{{centre}}/pause": {"post": _op(
            "Pause a centre", _json(_obj({"centre": S, "paused": B, "ts": N})), body=_obj({"reason": REASON}),
            errors=(403, 404, 409), params=[_path_param("centre")], tag="jury")},
        f"{J}/centres/{{centre}}/resume": {"post": _op(
            "Resume a centre (paused time is credited back)", _json(_obj({"centre": S, "paused": B, "ts": N})),
            body=_obj({"reason": REASON}), errors=(403, 404), params=[_path_param("centre")], tag="jury")},
        f"{J}/extra-time": {"post": _op(
            "Grant extra time to a candidate or a centre", _json(_obj({"unit_id": S, "seconds": N, "candidates": I, "ts": N})),
            body={"allOf": [_ref("Target"), _obj({"unit_id": ID, "seconds": N, "reason": REASON, "candidate_id": ID, "centre": ID}, ["unit_id", "seconds", "reason"])]},
            errors=(403, 404, 409), tag="jury")},
        f"{J}/messages": {"post": _op(
            "Send a message to a candidate or a centre", _json(_obj({"candidates": I, "ts": N})),
            body={"allOf": [_ref("Target"), _obj({"text": S, "reason": REASON, "candidate_id": ID, "centre": ID}, ["text", "reason"])]},
            errors=(403, 404), tag="jury")},
        f"{J}/snapshot": {"get": _op(
            "Supervision snapshot of every candidate", _json(_ref("Feed")), errors=(403, 404), params=[centre_q], tag="jury")},
        f"{J}/changes": {"get": _op(
            "Rows changed since a cursor", _json(_ref("Feed")), errors=(403, 404, 410, 422),
            params=[_query("since", I, True), centre_q], tag="jury")},
        f"{J}/candidates/{{candidate_id}}/timeline": {"get": _op(
            "A candidate's audit timeline", _json(_obj({"candidate_id": S, "events": {"type": "array", "items": _ref("AuditEvent")}})),
            errors=(403, 404), params=[_path_param("candidate_id")], tag="jury")},
        f"{J}/fraud-alerts": {"get": _op(
            "Fraud alerts (URLs that look like cheating, with the candidate's identity)",
            _json(_obj({"alerts": {"type": "array", "items": _ref("FraudAlert")}})),
            errors=(403, 404, 422), params=[_query("since", I), centre_q], tag="jury")},
        f"{J}/incidents": {"get": _op(
            "Incident report material: current incidents, extra time, pauses, messages, fraud alerts",
            _json({"type": "object"}), errors=(403, 404), params=[centre_q], tag="jury")},
        "/healthz": {"get": _op("Liveness", _json(_obj({"status": S})), auth=False, tag="ops")},
        "/metrics": {"get": _op(
            "Prometheus metrics (text exposition format)",
            {"description": "Metrics", "content": {"text/plain": {"schema": S}}}, auth=False, tag="ops")},
        "/openapi.json": {"get": _op("This document", _json(ANY_OBJ), auth=False, tag="ops")},
    }  # fmt: skip
    descriptions = {
        400: "malformed_json",
        401: "unauthenticated, token_expired or bad_credentials",
        403: "forbidden",
        404: "not_found or unknown_*",
        409: "action in the wrong state",
        410: "cursor_expired",
        413: "body_too_large",
        422: "invalid_request or invalid_answer",
        503: "connection_cap or injected_fault (Retry-After set)",
    }
    responses = {
        f"E{status}": {
            "description": text,
            "headers": {"Retry-After": {"schema": I}} if status == 503 else {},
            "content": {"application/json": {"schema": _ref("Error")}},
        }
        for status, text in descriptions.items()
    }
    del e
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "vigie exam server",
            "version": "1",
            "description": "HTTP API of the vigie exam server. The websocket messages, supervision "
            "states and metrics are specified in docs/protocol.md.",
        },
        "servers": [{"url": "http://127.0.0.1:8080"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": _schemas(),
            "responses": responses,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def main() -> None:
    json.dump(spec(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
