"""``docs/wire.md``: every message and body of the wire, written from the types themselves.

``vigie docs`` writes it (with ``docs/openapi.json``); a test fails when the committed file
differs, so the reference cannot drift from what the server and the tablets speak.
"""

from __future__ import annotations

from typing import Any

import msgspec

from . import conntest, http, ws

_REF = "#/components/schemas/{name}"
SECTIONS: tuple[tuple[str, str, tuple[Any, ...]], ...] = (
    (
        "Websocket: tablet → server",
        "JSON text frames of at most 8 KiB (UTF-8 bytes), discriminated by `type`. A frame that"
        " does not decode into one of these, or carries a field not listed, closes the socket"
        " with 1008.",
        (ws.Heartbeat, ws.InstructionAck),
    ),
    (
        "Websocket: server → tablet",
        "A client should ignore fields it does not know (the server may add some).",
        (ws.Welcome, ws.HeartbeatAck, ws.Instruction, ws.LaunchPush, ws.CloseUnitPush, ws.UnitInfo),
    ),
    (
        "HTTP: the candidate's tablet",
        "Requests are strict: an unknown or ill-typed field is `422 invalid_request`.",
        (
            http.Login, http.LoginOk, http.UnitKey, http.PackageDoc, http.QuestionDoc,
            http.LockedQuestion, http.Image, http.AnswerIn, http.ChoicesAnswer,
            http.PointsAnswer, http.TextAnswer, http.ScaleAnswer, http.AnswerResult,
            http.Finish, http.FinishResult, http.Me, http.ExtraTimeParts, http.StoredAnswer,
        ),
    ),
    (
        "HTTP: the jury",
        "",
        (
            http.JuryLogin, http.JuryLoginOk, http.CentreInfo, http.ServerInfo,
            http.ServerKnobs, http.LaunchRequest,
            http.ReasonOnly, http.CloseRequest, http.ClosedUnit, http.Overtime, http.ReplaceUnit,
            http.IncidentReason, http.ExtraTimeRequest, http.MessageRequest, http.PauseResult,
            http.CandidatePauseResult, http.EndTimeResult, http.Neutralised, http.UnitReplaced,
            http.ExtraTimeResult, http.MessageResult, http.Feed, http.Counts, http.Row, http.Timeline,
            http.AuditEvent, http.FraudAlerts, http.FraudAlert, http.Incidents,
            http.Episode, http.ExtraTimeGrant, http.IncidentEvent, http.AnswerRecord,
            http.IncidentTimeProposals, http.CentreProposals, http.IncidentProposal,
            http.IncidentTimeGrant, http.IncidentTimeResult,
        ),
    ),
    (
        "The Monday connection test",
        "A test tablet's login, echo socket (JSON text frames) and report; the jury's figures"
        " (docs/connection-test.md).",
        (
            conntest.ConnectionTestLogin, conntest.ConnectionTestLoginOk, conntest.Probe,
            conntest.ProbeEcho, conntest.ConnectionTestReport, conntest.ConnectionTestReportOk,
            conntest.ConnectionTestSummary, conntest.CentreResult, conntest.TabletResult,
        ),
    ),
    ("Errors", "Every 4xx and 5xx answer.", (http.ErrorResponse, http.ErrorBody)),
    ("Operator: fault control", "Behind the token given to `vigie serve --operator-token`.", (http.FaultRequest, http.ActiveFault, http.Faults)),
    ("Service", "", (http.Health,)),
)  # fmt: skip


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    if "anyOf" in schema:
        return " \\| ".join(_type(s) for s in schema["anyOf"])
    if "enum" in schema:
        return " \\| ".join(f"`{v!r}`" if not isinstance(v, str) else f'`"{v}"`' for v in schema["enum"])  # fmt: skip
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {_type(schema.get('items', {}))}"
    if kind == "object" and "additionalProperties" in schema and schema["additionalProperties"]:
        return f"object of {_type(schema['additionalProperties'])}"
    return str(kind)


def _limits(schema: dict[str, Any]) -> str:
    words = {
        "minimum": "≥ {}", "exclusiveMinimum": "> {}", "maximum": "≤ {}",
        "exclusiveMaximum": "< {}", "minLength": "length ≥ {}", "maxLength": "length ≤ {}",
        "minItems": "≥ {} items", "maxItems": "≤ {} items",
    }  # fmt: skip
    parts = [w.format(schema[k]) for k, w in words.items() if k in schema]
    for alt in schema.get("anyOf", ()):
        parts += [w.format(alt[k]) for k, w in words.items() if k in alt]
    items = schema.get("items")
    if isinstance(items, dict):
        inner = _limits(items)
        if inner:
            parts.append(f"each {inner}")
    return ", ".join(parts)


def _section(t: Any, schema: dict[str, Any]) -> list[str]:
    name = t.__name__
    lines = [f"### {name}", ""]
    doc = " ".join((t.__doc__ or "").replace("``", "`").split())
    tag = getattr(t.__struct_config__, "tag", None)
    if tag is not None:
        lines += [f'`"type": "{tag}"`' + (f" — {doc}" if doc else ""), ""]
    elif doc:
        lines += [" ".join(doc.split()), ""]
    props: dict[str, Any] = schema.get("properties", {})
    if not props:
        return [*lines, f"One of: {_type(schema)}.", ""]
    required = set(schema.get("required", ()))
    lines += ["| field | type | required | limits | meaning |", "|---|---|---|---|---|"]
    for field, prop in props.items():
        if field == "type" and tag is not None:
            continue
        desc = prop.get("description", "")
        lines.append(
            f"| `{field}` | {_type(prop)} | {'yes' if field in required else 'no'} "
            f"| {_limits(prop)} | {desc} |"
        )
    return [*lines, ""]


def markdown() -> str:
    types = [t for _, _, ts in SECTIONS for t in ts]
    _, components = msgspec.json.schema_components(types, ref_template=_REF)
    out = [
        "# The wire, field by field",
        "",
        "Generated from `vigie/wire/` by `vigie docs`: do not edit. The prose (flows, states,"
        " rules) is in [protocol.md](protocol.md); a worked example in [client.md](client.md);"
        " the HTTP routes in [openapi.json](openapi.json). All times are unix seconds (UTC).",
        "",
    ]
    for title, intro, ts in SECTIONS:
        out += [f"## {title}", ""]
        if intro:
            out += [intro, ""]
        for t in ts:
            out += _section(t, components[t.__name__])
    for name in ("CandidateState", "InstructionKind", "JuryRole", "QuestionFormat"):
        if name in components:
            out += [f"### {name}", "", f"One of: {_type(components[name])}.", ""]
    return "\n".join(out).rstrip() + "\n"
