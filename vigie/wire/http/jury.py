"""The jury's commands: login, the server's figures, launch and close, pause, extra time
and messages (the supervision view and the incidents are in their own modules)."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from vigie.protocol import JuryRole, ReasonCategory

from ..ws import Count, UnitInfo, UnixTs
from .base import Id, Reason, _Request, _Response


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


#: Optional beside every free-text reason of an incident action; kept in the audit.
Category = Annotated[
    ReasonCategory | None,
    Meta(description="what the reason is about (environment, candidate, staff, technical)"),
]


class ReasonOnly(_Request):
    reason: Reason


class IncidentReason(_Request):
    """The reason of an action on the exam's course (pause, resume, end of time)."""

    reason: Reason
    category: Category = None


class ReplaceUnit(_Request):
    """Cancel a unit and count a backup unit, sat in its own time, in its place."""

    backup_id: Id
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
    category: Category = None


class MessageRequest(_Target, kw_only=True):
    text: Annotated[str, Meta(min_length=1, max_length=2000)]
    reason: Reason
    category: Category = None


class Neutralised(_Response):
    """A question the national jury neutralised (what it is worth: the rules file)."""

    question_id: str
    unit_id: str
    reason: str
    actor: str
    ts: UnixTs


class UnitReplaced(_Response):
    """A cancelled unit, and the backup unit that counts in its place from now on."""

    unit_id: str
    backup_id: str
    reason: str
    actor: str
    ts: UnixTs


class PauseResult(_Response):
    centre: str
    paused: bool
    ts: UnixTs


class CandidatePauseResult(_Response):
    candidate_id: str
    centre: str
    paused: bool
    ts: UnixTs


class EndTimeResult(_Response):
    """One candidate's time ended now: ``seconds_lost`` is what they had left."""

    candidate_id: str
    centre: str
    unit_id: str
    seconds_lost: float
    ended_at: UnixTs


class ExtraTimeResult(_Response):
    unit_id: str
    seconds: float
    candidates: Count
    ts: UnixTs


class MessageResult(_Response):
    candidates: Count
    ts: UnixTs
