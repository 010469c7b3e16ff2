"""What the jury reads: the supervision rows and their feed, a candidate's timeline, and
the answer export."""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta

from vigie.protocol import CandidateState

from ..ws import Count, Seconds, UnixTs
from .base import _Response


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
    paused: Annotated[
        bool,
        Meta(description="the centre, or the candidate alone, paused now (apart from the state)"),
    ]
    paused_alone: Annotated[
        bool,
        Meta(
            description="the jury paused this candidate alone (their centre may be paused too,"
            " or at work): what « Reprendre » for this candidate would lift"
        ),
    ] = False
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
    pending_offline: Annotated[
        Count,
        Meta(description="answers the tablet's heartbeat counts on the unit and the server lacks"),
    ] = 0
    last_answer_at: Annotated[
        UnixTs | None, Meta(description="when the server stored the candidate's last answer")
    ] = None
    room: Annotated[str | None, Meta(description="exam room within the centre (roster)")] = None
    seat: Annotated[str | None, Meta(description="seat in the room (roster)")] = None


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
