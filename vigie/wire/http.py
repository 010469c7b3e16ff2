"""The HTTP API's bodies, requests and responses: one definition for the server, the
tablets, the dashboard and the generated ``docs/openapi.json``.

Requests are strict (an unknown or ill-typed field is ``422 invalid_request``) and carry
the limits the server enforces, so that the document states them. Responses are what the
server encodes; the test suite validates every response it receives against the document.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta

from vigie.protocol import CandidateState, ErrorCode, JuryRole, QuestionFormat

from .metrics import FaultKind
from .ws import Count, Seconds, UnixTs
from .ws import UnitInfo as UnitInfo  # in login and /me bodies too

Id = Annotated[str, Meta(min_length=1, max_length=64)]
Reason = Annotated[
    str, Meta(min_length=1, max_length=500, description="why: kept in the audit trail")
]


class _Request(msgspec.Struct, forbid_unknown_fields=True):
    pass


class _Response(msgspec.Struct):
    pass


# --- errors ---------------------------------------------------------------------------
class ErrorBody(_Response):
    code: Annotated[str, Meta(description="an ErrorCode, or `internal` for a server bug")]
    message: Annotated[str, Meta(description="for humans")]


class ErrorResponse(_Response):
    error: ErrorBody


ERROR_CODES: tuple[str, ...] = (*(c.value for c in ErrorCode), "internal")


class Health(_Response):
    status: str


# --- candidate ------------------------------------------------------------------------
class Login(_Request):
    candidate_id: Id
    centre: Id
    access_code: Annotated[str, Meta(min_length=1, max_length=128)]


class LoginOk(_Response):
    token: Annotated[str, Meta(description="send as `Authorization: Bearer <token>`")]
    candidate_id: str
    centre: str
    heartbeat_interval_s: Annotated[float, Meta(gt=0)]
    units: list[UnitInfo]


class UnitKey(_Response):
    unit_id: str
    key: Annotated[str, Meta(description="base64 of the 32-byte AES-256-GCM key")]
    launched_at: UnixTs
    deadline: Annotated[float | None, Meta(description="this candidate's own deadline")]


class Image(_Response):
    mime: str
    data: Annotated[str, Meta(description="base64")]


class QuestionDoc(_Response, omit_defaults=True):
    """A question in clear (after the launch), and in the decrypted package."""

    id: str
    format: QuestionFormat
    index: Annotated[int, Meta(ge=0, description="0-based position in the unit")]
    text: str
    propositions: Annotated[
        list[str], Meta(description="choices are 0-based indexes into this list")
    ]
    dossier_id: Annotated[str | None, Meta(description="null for an isolated question")]
    dossier_index: Annotated[int, Meta(ge=0, description="0-based position in its dossier")]
    expected_count: Annotated[
        int | None, Meta(description="QRP/QRPL: the stated number of answers")
    ] = None
    context: Annotated[str | None, Meta(description="a dossier's opening text")] = None
    image: Image | None = None


class LockedQuestion(_Response):
    """In a package, a dossier question after the first: fetch it in clear once unlocked."""

    id: str
    dossier_id: str
    index: Annotated[int, Meta(ge=0, description="0-based position in its dossier")]
    locked: bool


class PackageDoc(_Response):
    """The decrypted package of a unit (AES-256-GCM, associated data: the unit id)."""

    unit_id: str
    questions: Annotated[
        list[dict[str, Any]],
        Meta(description="QuestionDoc, or LockedQuestion for a dossier's later questions"),
    ]


MAX_ZAP_POINTS = 10
MAX_QROC_WORDS = 5
MAX_QROC_CHARS = 200
Choice = Annotated[int, Meta(ge=0, le=24)]
Point = Annotated[list[Annotated[float, Meta(ge=0, le=1)]], Meta(min_length=2, max_length=2)]


class ChoicesAnswer(_Request):
    """QRU, QRM, QRP, QRPL: 0-based proposition indexes, no repeats (QRU: exactly one;
    QRP, QRPL: exactly ``expected_count``)."""

    choices: Annotated[list[Choice], Meta(min_length=1, max_length=25)]


class PointsAnswer(_Request):
    """ZAP: 1-10 points, each ``[x, y]`` as fractions of the image's width and height."""

    points: Annotated[list[Point], Meta(min_length=1, max_length=MAX_ZAP_POINTS)]


class TextAnswer(_Request):
    """QROC: 1-5 words, at most 200 characters."""

    text: Annotated[str, Meta(min_length=1, max_length=MAX_QROC_CHARS)]


class ScaleAnswer(_Request):
    """TCS: the Likert scale, -2 to 2."""

    scale: Annotated[int, Meta(ge=-2, le=2)]


Answer = ChoicesAnswer | PointsAnswer | TextAnswer | ScaleAnswer


class AnswerIn(_Request):
    action_id: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=64,
            description="client-made, unique per candidate and operation; re-send it unchanged",
        ),
    ]
    question_id: Id
    answer: Annotated[
        dict[str, Any],
        Meta(description="by format: {choices} | {points} | {text} | {scale} (see Answer*)"),
    ]
    final: Annotated[
        bool,
        Meta(
            description="progressive question: validates it (no change after) and unlocks the"
            " next; isolated question: no effect (it can change until the deadline)"
        ),
    ]
    client_ts: float


class AnswerResult(_Response):
    action_id: str
    question_id: str
    server_ts: Annotated[float, Meta(description="when it was committed to disk")]
    client_ts: float
    duplicate: Annotated[bool, Meta(description="true: a re-send, nothing changed")]
    unlocked: Annotated[str | None, Meta(description="the next question of the dossier")]


class Finish(_Request):
    action_id: Id
    client_ts: float


class FinishResult(_Response):
    unit_id: str
    finished_at: UnixTs


class StoredAnswer(_Response):
    answer: dict[str, Any]
    final: bool
    server_ts: UnixTs


class ExtraTimeParts(_Response):
    """A candidate's extra time on a unit, by kind; ``UnitInfo.extra_time_s`` is their sum."""

    planned_s: Annotated[float, Meta(description="tiers-temps from the roster, applied at the launch")]  # fmt: skip
    incident_s: Annotated[float, Meta(description="time lost to incidents, granted back by the jury")]  # fmt: skip
    granted_s: Annotated[float, Meta(description="other extra time granted by the jury (may be < 0)")]  # fmt: skip


class Me(_Response):
    candidate_id: str
    centre: str
    units: list[UnitInfo]
    answers: Annotated[
        dict[str, dict[str, StoredAnswer]],
        Meta(description="unit id -> question id -> the last stored answer"),
    ]
    extra_time: Annotated[
        dict[str, ExtraTimeParts],
        Meta(description="unit id -> this candidate's extra time by kind (launched units)"),
    ] = {}


# --- jury -----------------------------------------------------------------------------
class JuryLogin(_Request):
    username: Id
    password: Annotated[str, Meta(min_length=1, max_length=256)]


class JuryLoginOk(_Response):
    token: str
    username: str
    role: JuryRole
    centre: str | None


class CentreInfo(_Response):
    code: str
    name: str
    candidates: Count


class ServerKnobs(_Response):
    """The knobs in force (names as in a scenario's ``server:`` block, plus the heartbeat)."""

    max_connections: Annotated[int, Meta(ge=0, description="open tablet websockets; 0 = no cap")]
    latency_ms: float
    error_rate: float
    ws_compression: bool
    heartbeat_interval_s: float
    late_after_s: float
    lost_after_s: float
    request_cpu_ms: Annotated[float, Meta(description="CPU burnt on the loop per API call")] = 0.0


class ServerInfo(_Response):
    """What a fleet checks before its first wave (the seed is never shown)."""

    scenario: Annotated[str | None, Meta(description="vigie serve --scenario, else null")]
    candidates: Count
    knobs: ServerKnobs


class LaunchRequest(_Request):
    reason: Reason
    duration_s: Annotated[float, Meta(gt=0, le=86_400)] | None = None


class ReasonOnly(_Request):
    reason: Reason


class CloseRequest(_Request):
    reason: Reason
    # Ending candidates' extra time at the close is explicit, never a side effect.
    end_extra_time: Annotated[
        bool,
        Meta(description="end every candidate's extra time now (recorded as negative extra time)"),
    ] = False


class Overtime(_Response):
    """A candidate whose time runs on after the national close (or whose extra time ended)."""

    candidate_id: str
    centre: str
    deadline: Annotated[float, Meta(description="their own deadline, before any end_extra_time")]
    seconds: Annotated[float, Meta(description="time left after the close")]


class ClosedUnit(UnitInfo, kw_only=True):
    """The closed unit, and who works on after the national close (their own deadline)."""

    overtime: list[Overtime]
    end_extra_time: bool


class _Target(_Request, kw_only=True):
    """Exactly one of ``candidate_id`` and ``centre``."""

    candidate_id: Id | None = None
    centre: Id | None = None

    def __post_init__(self) -> None:
        if (self.candidate_id is None) == (self.centre is None):
            raise ValueError("give exactly one of candidate_id or centre")


class ExtraTimeRequest(_Target, kw_only=True):
    unit_id: Id
    seconds: Annotated[float, Meta(gt=0, le=4 * 3600)]
    reason: Reason


class MessageRequest(_Target, kw_only=True):
    text: Annotated[str, Meta(min_length=1, max_length=2000)]
    reason: Reason


class PauseResult(_Response):
    centre: str
    paused: bool
    ts: UnixTs


class ExtraTimeResult(_Response):
    unit_id: str
    seconds: float
    candidates: Count
    ts: UnixTs


class MessageResult(_Response):
    candidates: Count
    ts: UnixTs


class Row(_Response):
    """One candidate in the supervision view."""

    id: str
    centre: str
    state: CandidateState
    last_hb: float | None
    unit_id: str | None
    position: Count
    answered: Count
    question_count: Count
    progress: Annotated[float, Meta(ge=0, description="answered / question_count")]
    deadline: float | None
    extra_time_s: Seconds
    battery: int | None
    network: str | None
    reconnects: Count
    disconnected_s: Annotated[
        float, Meta(description="during the current unit, from the last heartbeat heard")
    ]
    connected: Annotated[bool, Meta(description="socket open now (apart from the state)")]
    paused: Annotated[bool, Meta(description="centre paused now (apart from the state)")]
    planned_extra_s: Annotated[
        float, Meta(description="planned extra time (tiers-temps) in the deadline")
    ] = 0.0
    planned_due_s: Annotated[
        float, Meta(description="planned extra time the roster gives this candidate")
    ] = 0.0
    planned_missing: Annotated[
        bool, Meta(description="the deadline lacks part of the planned extra time: an alert")
    ] = False
    incident_extra_s: Annotated[
        float, Meta(description="incident extra time granted (time lost, credited back)")
    ] = 0.0
    proposed_incident_s: Annotated[
        float,
        Meta(
            description="incident extra time proposed: time disconnected during the unit, rounded up"
        ),
    ] = 0.0


StateCounts = dict[str, Count]


class Counts(_Response):
    """Candidates by state; a centre's view (a centre jury, or ?centre=) counts its own only."""

    national: Annotated[StateCounts, Meta(description="state -> candidates, in the view")]
    centres: Annotated[dict[str, StateCounts], Meta(description="centre -> state -> candidates")]


class Feed(_Response):
    """A snapshot, or the rows changed since a cursor (``/jury/changes``)."""

    cursor: Annotated[int, Meta(description="pass it as `since` to /jury/changes")]
    server_ts: UnixTs
    unit_id: str | None
    counts: Counts
    candidates: list[Row]


class AuditEvent(_Response):
    seq: int
    ts: UnixTs
    client_ts: float | None
    kind: str
    actor: str
    data: dict[str, Any]


class Timeline(_Response):
    candidate_id: str
    answers_shown: Annotated[bool, Meta(description="answer contents included (?answers=1)")]
    events: list[AuditEvent]


class FraudAlert(_Response):
    id: int
    ts: UnixTs
    candidate_id: str
    centre: str
    method: str
    path: str
    user_agent: str


class FraudAlerts(_Response):
    alerts: list[FraudAlert]


class ExtraTimeGrant(_Response):
    id: int
    unit_id: str
    candidate_id: str | None
    centre: str | None
    seconds: float
    reason: str
    actor: str
    ts: UnixTs


class IncidentEvent(_Response):
    seq: int
    ts: UnixTs
    kind: str
    actor: str
    centre: str | None
    candidate_id: str | None
    data: dict[str, Any]


class Episode(_Response):
    """One disconnection during a unit, rebuilt from the audit's connection rows."""

    candidate_id: str
    centre: str
    unit_id: str
    start: Annotated[float, Meta(description="the last heartbeat heard (within the unit)")]
    end: Annotated[float | None, Meta(description="the reconnection; null if none")]
    duration_s: Annotated[float | None, Meta(description="up to the close when unfinished")]
    cause: Annotated[str | None, Meta(description="a DisconnectReason")]
    close_code: int | None
    ongoing: Annotated[bool, Meta(description="still away, the unit running")]
    unfinished: Annotated[bool, Meta(description="the unit closed before the tablet came back")]


class Incidents(_Response):
    server_ts: UnixTs
    centre: str | None
    incidents: Annotated[list[Row], Meta(description="candidates late or lost now")]
    planned_missing: Annotated[
        list[Row], Meta(description="candidates whose deadline lacks their planned extra time")
    ]
    episodes: Annotated[list[Episode], Meta(description="every disconnection during a unit")]
    extra_time: list[ExtraTimeGrant]
    events: list[IncidentEvent]
    fraud_alerts: list[FraudAlert]


class IncidentProposal(_Response):
    """A candidate's time disconnected during the unit, proposed as incident extra time."""

    candidate_id: str
    disconnected_s: Annotated[float, Meta(description="during the unit, from the last heartbeat heard")]  # fmt: skip
    proposed_s: Annotated[float, Meta(description="disconnected_s rounded up to the minute")]
    granted_s: Annotated[float, Meta(description="incident extra time already granted")]
    to_grant_s: Annotated[float, Meta(description="proposed_s - granted_s, what a grant adds")]


class CentreProposals(_Response):
    centre: str
    candidates: Annotated[Count, Meta(description="candidates with something to grant")]
    to_grant_s: Annotated[float, Meta(description="the sum of the centre's to_grant_s")]
    proposals: Annotated[
        list[IncidentProposal], Meta(description="every candidate with time disconnected")
    ]


class IncidentTimeProposals(_Response):
    unit_id: str | None
    server_ts: UnixTs
    centres: list[CentreProposals]


class IncidentTimeGrant(_Request):
    """Grant the proposed incident extra time: every centre (national), or one centre."""

    reason: Reason
    centre: Annotated[
        Id | None, Meta(description="a centre; none: every centre (national jury only)")
    ] = None
    unit_id: Annotated[Id | None, Meta(description="default: the unit running now")] = None


class IncidentTimeResult(_Response):
    unit_id: str
    candidates: Annotated[Count, Meta(description="candidates whose deadline moved")]
    seconds: Annotated[float, Meta(description="incident extra time added, all candidates")]
    centres: list[str]
    ts: UnixTs


# --- the operator (fault control, behind the token given to vigie serve) ---------------
class FaultRequest(_Request):
    """A timed fault, applied now, ended by itself (`vigie certify` applies a scenario's)."""

    kind: Annotated[
        FaultKind, Meta(description="latency, error, db_stall or drop_planned_extra_time")
    ]
    duration_s: Annotated[float, Meta(gt=0, le=3600)]
    ms: Annotated[float, Meta(gt=0, le=60_000, description="latency: added to each call")] | None = None  # fmt: skip
    ratio: Annotated[float, Meta(gt=0, le=1, description="error: share answered 503")] | None = None  # fmt: skip
    centres: (
        Annotated[
            list[Id], Meta(min_length=1, max_length=100, description="drop_planned_extra_time")
        ]
        | None
    ) = None


class ActiveFault(_Response):
    kind: FaultKind
    started_at: UnixTs
    until: UnixTs
    value: Annotated[float, Meta(description="ms for latency, the ratio for error; 0 for db_stall")]
    centres: Annotated[list[str], Meta(description="the centres it hits; empty: all")] = []


class Faults(_Response):
    active: list[ActiveFault]


class AnswerRecord(_Response):
    """One stored answer (every change), a line of the NDJSON answer export."""

    seq: Annotated[int, Meta(description="storage order; the last per question counts")]
    candidate_id: str
    centre: str
    unit_id: str
    question_id: str
    action_id: str
    answer: dict[str, Any]
    final: bool
    client_ts: float
    server_ts: UnixTs


encoder = msgspec.json.Encoder()
