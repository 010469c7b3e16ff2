"""The OpenAPI 3.1 document, generated from the typed route table and the wire types.

Served at ``/openapi.json`` (``servers`` names where it is served from) and committed as
``docs/openapi.json``, written by ``vigie openapi > docs/openapi.json``; a test fails when
the committed file is stale. Nothing here is written by hand but prose: each route's
operation comes from its :meth:`Api.route` declaration, each schema from ``vigie.wire``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from functools import cache
from typing import Any, get_args, get_origin

import msgspec

from vigie.protocol import API_PREFIX, PROTOCOL_VERSION, ErrorCode
from vigie.wire import http as w
from vigie.wire import ws as wsm

from .api import Caller, Operation
from .errors import STATUS

DEFAULT_SERVER = "http://127.0.0.1:8080"
_REF = "#/components/schemas/{name}"
E = ErrorCode
_AUTH_ERRORS = (E.UNAUTHENTICATED, E.TOKEN_EXPIRED, E.FORBIDDEN)
_BODY_ERRORS = (E.MALFORMED_JSON, E.INVALID_REQUEST, E.BODY_TOO_LARGE)
# Documented for the reader (docs/protocol.md), not returned by any route as such.
_EXTRA_TYPES: tuple[Any, ...] = (
    w.ErrorResponse, w.AnswerRecord, w.PackageDoc, w.QuestionDoc, w.LockedQuestion, w.ChoicesAnswer, w.PointsAnswer, w.TextAnswer, w.ScaleAnswer,
    wsm.Heartbeat, wsm.InstructionAck, wsm.Welcome, wsm.HeartbeatAck, wsm.LaunchPush,
    wsm.CloseUnitPush,
)  # fmt: skip


def operations() -> list[Operation]:
    # Imported here: service_routes serves this document and imports this module.
    from .route_tables import TABLES

    return [op for table in TABLES for op in table.operations]


def _types(ops: Sequence[Operation]) -> list[Any]:
    found: list[Any] = []
    for op in ops:
        for t in (op.body, op.ok):
            if t is None or isinstance(t, str | tuple):
                continue
            t = get_args(t)[0] if get_origin(t) is list else t
            if t not in found:
                found.append(t)
    found += [t for t in _EXTRA_TYPES if t not in found]
    return found


def _schema_of(t: Any, names: dict[Any, str]) -> dict[str, Any]:
    if get_origin(t) is list:
        return {"type": "array", "items": _schema_of(get_args(t)[0], names)}
    return {"$ref": _REF.format(name=names[t])}


def _medias(ok: str | tuple[str, ...]) -> tuple[str, ...]:
    return (ok,) if isinstance(ok, str) else ok


def _media_schema(media: str) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object" if media.endswith("json") else "string"}
    if media == "application/octet-stream":
        schema["contentMediaType"] = media
    return schema


def _operation_id(op: Operation) -> str:
    name = op.path.strip("/").replace("/", "_").replace("{", "").replace("}", "")
    if op.path.endswith("/") and op.path != "/":
        name += "_index"  # /tablet/ beside /tablet
    return f"{op.method.lower()}_{name}"


def _error_codes(op: Operation) -> list[ErrorCode]:
    codes: list[ErrorCode] = [E.MALFORMED_REQUEST]
    if op.caller is not Caller.ANYONE:
        codes += _AUTH_ERRORS
    if op.body is not None:
        codes += _BODY_ERRORS
    codes += op.errors
    if op.path.startswith(API_PREFIX):
        codes.append(E.INJECTED_FAULT)  # the error-rate knob spares only the probes
    return list(dict.fromkeys(codes))


def _responses(op: Operation, names: dict[Any, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if op.ok is not None:
        ok: dict[str, Any] = {"description": "OK"}
        if isinstance(op.ok, str | tuple):
            ok["content"] = {media: {"schema": _media_schema(media)} for media in _medias(op.ok)}
        else:
            ok["content"] = {"application/json": {"schema": _schema_of(op.ok, names)}}
        if op.headers:
            ok["headers"] = {h: {"description": d, "schema": {"type": "string"}} for h, d in op.headers.items()}  # fmt: skip
        out["200"] = ok
    for status, text in op.extra_responses.items():
        out[str(status)] = {"description": text}
    by_status: dict[int, list[str]] = {}
    for code in _error_codes(op):
        by_status.setdefault(STATUS[code], []).append(code.value)
    for status in sorted(by_status):
        codes = by_status[status]
        resp: dict[str, Any] = {
            "description": ", ".join(f"`{c}`" for c in codes),
            "content": {"application/json": {"schema": _error_schema(codes)}},
        }
        if status == 503:
            resp["headers"] = {"Retry-After": {"description": "seconds", "schema": {"type": "string"}}}  # fmt: skip
        out[str(status)] = resp
    return out


def _error_schema(codes: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "error": {
                "type": "object",
                "properties": {"code": {"enum": codes}, "message": {"type": "string"}},
                "required": ["code", "message"],
            }
        },
        "required": ["error"],
    }


def _parameters(op: Operation) -> list[dict[str, Any]]:
    return [
        {
            "name": p.name,
            "in": p.where,
            "required": p.required or p.where == "path",
            "description": p.description,
            "schema": p.schema,
        }
        for p in op.params
    ]


def _operation(op: Operation, names: dict[Any, str]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "operationId": _operation_id(op),
        "summary": op.summary,
        "tags": [op.tag],
        "responses": _responses(op, names),
    }
    who = {
        Caller.ANYONE: "no token",
        Caller.CANDIDATE: "a candidate's token",
        Caller.JURY: "a jury token (any role)",
        Caller.JURY_ACT: "a national or centre jury token (observers are read-only)",
        Caller.NATIONAL: "the national jury's token",
        Caller.OPERATOR: "the operator token given to vigie serve --operator-token",
        Caller.CONNECTION_TEST: "a connection-test token (POST /api/v1/connection-test/login)",
    }[op.caller]
    doc["description"] = (op.description + "\n\n" if op.description else "") + f"Caller: {who}."
    if op.caller is Caller.ANYONE:
        doc["security"] = []
    params = _parameters(op)
    if params:
        doc["parameters"] = params
    if op.body is not None:
        doc["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _schema_of(op.body, names)}},
        }
    return doc


@cache
def _document() -> dict[str, Any]:
    ops = operations()
    types = _types(ops)
    (_, components) = msgspec.json.schema_components(types, ref_template=_REF)
    names = {t: t.__name__ for t in types}
    # The answer is checked against its question's format, so the body types it as an
    # object; the document says which shapes it takes.
    answer_in = components["AnswerIn"]["properties"]["answer"]
    answer_in.pop("type", None)
    answer_in.pop("additionalProperties", None)
    answer_in["oneOf"] = [
        {"$ref": _REF.format(name=n)}
        for n in ("ChoicesAnswer", "PointsAnswer", "TextAnswer", "ScaleAnswer")
    ]
    components["PackageDoc"]["properties"]["questions"]["items"] = {
        "oneOf": [{"$ref": _REF.format(name=n)} for n in ("QuestionDoc", "LockedQuestion")]
    }
    components["ErrorBody"]["properties"]["code"]["enum"] = list(w.ERROR_CODES)
    for name in ("ExtraTimeRequest", "MessageRequest"):
        # One target: its field a string, the other absent or null.
        components[name]["oneOf"] = [
            {
                "required": [mine],
                "properties": {mine: {"type": "string"}, other: {"type": "null"}},
            }
            for mine, other in (("candidate_id", "centre"), ("centre", "candidate_id"))
        ]
    paths: dict[str, dict[str, Any]] = {}
    for op in ops:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, names)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "vigie exam server",
            "version": f"{PROTOCOL_VERSION}",
            "description": (
                "Generated from vigie.wire and the route table (vigie openapi). The websocket"
                " and the exam rules are in docs/protocol.md. Every error is"
                ' {"error": {"code", "message"}}; a method a path does not take is 405'
                " method_not_allowed with an Allow header."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


def spec(server_url: str = DEFAULT_SERVER) -> bytes:
    """The document as served: ``servers`` is where it is read from."""
    doc = {**_document(), "servers": [{"url": server_url}]}
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False).encode() + b"\n"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="vigie openapi", description="print the exam server's OpenAPI document"
    )
    ap.add_argument("--server", default=DEFAULT_SERVER, help="the servers URL to write")
    args = ap.parse_args(argv)
    sys.stdout.buffer.write(spec(args.server))
    return 0


if __name__ == "__main__":
    sys.exit(main())
