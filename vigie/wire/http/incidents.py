"""The incidents' report (disconnections, extra time granted, fraud alerts) and the
incident extra time proposed from the time disconnected, then granted."""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta

from ..ws import Count, UnixTs
from .base import Id, Reason, _Request, _Response
from .supervision import Row


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
