"""The HTTP API's bodies, requests and responses: one definition for the server, the
tablets, the dashboard and the generated ``docs/openapi.json``.

Requests are strict (an unknown or ill-typed field is ``422 invalid_request``) and carry
the limits the server enforces, so that the document states them. Responses are what the
server encodes; the test suite validates every response it receives against the document.

The bodies live in one module per caller (:mod:`.candidate`, :mod:`.jury`,
:mod:`.supervision`, :mod:`.incidents`, :mod:`.faults`, on :mod:`.base`); every name is
re-exported here, so that ``from vigie.wire.http import X`` and ``http.X`` keep meaning
the same type wherever it is defined.
"""

from __future__ import annotations

from .base import (
    ERROR_CODES as ERROR_CODES,
)
from .base import (
    ErrorBody as ErrorBody,
)
from .base import (
    ErrorResponse as ErrorResponse,
)
from .base import (
    Health as Health,
)
from .base import (
    Id as Id,
)
from .base import (
    Reason as Reason,
)
from .base import (
    encoder as encoder,
)
from .candidate import (
    MAX_QROC_CHARS as MAX_QROC_CHARS,
)
from .candidate import (
    MAX_QROC_WORDS as MAX_QROC_WORDS,
)
from .candidate import (
    MAX_ZAP_POINTS as MAX_ZAP_POINTS,
)
from .candidate import (
    Answer as Answer,
)
from .candidate import (
    AnswerIn as AnswerIn,
)
from .candidate import (
    AnswerResult as AnswerResult,
)
from .candidate import (
    Choice as Choice,
)
from .candidate import (
    ChoicesAnswer as ChoicesAnswer,
)
from .candidate import (
    ExtraTimeParts as ExtraTimeParts,
)
from .candidate import (
    Finish as Finish,
)
from .candidate import (
    FinishResult as FinishResult,
)
from .candidate import (
    Image as Image,
)
from .candidate import (
    LockedQuestion as LockedQuestion,
)
from .candidate import (
    Login as Login,
)
from .candidate import (
    LoginOk as LoginOk,
)
from .candidate import (
    Me as Me,
)
from .candidate import (
    PackageDoc as PackageDoc,
)
from .candidate import (
    Point as Point,
)
from .candidate import (
    PointsAnswer as PointsAnswer,
)
from .candidate import (
    QuestionDoc as QuestionDoc,
)
from .candidate import (
    ScaleAnswer as ScaleAnswer,
)
from .candidate import (
    StoredAnswer as StoredAnswer,
)
from .candidate import (
    TextAnswer as TextAnswer,
)
from .candidate import (
    UnitInfo as UnitInfo,
)
from .candidate import (
    UnitKey as UnitKey,
)
from .faults import (
    ActiveFault as ActiveFault,
)
from .faults import (
    FaultRequest as FaultRequest,
)
from .faults import (
    Faults as Faults,
)
from .incidents import (
    CentreProposals as CentreProposals,
)
from .incidents import (
    Episode as Episode,
)
from .incidents import (
    ExtraTimeGrant as ExtraTimeGrant,
)
from .incidents import (
    FraudAlert as FraudAlert,
)
from .incidents import (
    FraudAlerts as FraudAlerts,
)
from .incidents import (
    IncidentEvent as IncidentEvent,
)
from .incidents import (
    IncidentProposal as IncidentProposal,
)
from .incidents import (
    Incidents as Incidents,
)
from .incidents import (
    IncidentTimeGrant as IncidentTimeGrant,
)
from .incidents import (
    IncidentTimeProposals as IncidentTimeProposals,
)
from .incidents import (
    IncidentTimeResult as IncidentTimeResult,
)
from .jury import (
    CandidatePauseResult as CandidatePauseResult,
)
from .jury import (
    CentreInfo as CentreInfo,
)
from .jury import (
    ClosedUnit as ClosedUnit,
)
from .jury import (
    CloseRequest as CloseRequest,
)
from .jury import (
    EndTimeResult as EndTimeResult,
)
from .jury import (
    ExtraTimeRequest as ExtraTimeRequest,
)
from .jury import (
    ExtraTimeResult as ExtraTimeResult,
)
from .jury import (
    IncidentReason as IncidentReason,
)
from .jury import (
    JuryLogin as JuryLogin,
)
from .jury import (
    JuryLoginOk as JuryLoginOk,
)
from .jury import (
    LaunchRequest as LaunchRequest,
)
from .jury import (
    MessageRequest as MessageRequest,
)
from .jury import (
    MessageResult as MessageResult,
)
from .jury import (
    Neutralised as Neutralised,
)
from .jury import (
    Overtime as Overtime,
)
from .jury import (
    PauseResult as PauseResult,
)
from .jury import (
    ReasonOnly as ReasonOnly,
)
from .jury import (
    ReplaceUnit as ReplaceUnit,
)
from .jury import (
    ServerInfo as ServerInfo,
)
from .jury import (
    ServerKnobs as ServerKnobs,
)
from .jury import (
    UnitReplaced as UnitReplaced,
)
from .supervision import (
    AnswerRecord as AnswerRecord,
)
from .supervision import (
    AuditEvent as AuditEvent,
)
from .supervision import (
    Counts as Counts,
)
from .supervision import (
    Feed as Feed,
)
from .supervision import (
    Row as Row,
)
from .supervision import (
    StateCounts as StateCounts,
)
from .supervision import (
    Timeline as Timeline,
)

__all__ = [
    "ERROR_CODES",
    "MAX_QROC_CHARS",
    "MAX_QROC_WORDS",
    "MAX_ZAP_POINTS",
    "ActiveFault",
    "Answer",
    "AnswerIn",
    "AnswerRecord",
    "AnswerResult",
    "AuditEvent",
    "CandidatePauseResult",
    "CentreInfo",
    "CentreProposals",
    "Choice",
    "ChoicesAnswer",
    "CloseRequest",
    "ClosedUnit",
    "Counts",
    "EndTimeResult",
    "Episode",
    "ErrorBody",
    "ErrorResponse",
    "ExtraTimeGrant",
    "ExtraTimeParts",
    "ExtraTimeRequest",
    "ExtraTimeResult",
    "FaultRequest",
    "Faults",
    "Feed",
    "Finish",
    "FinishResult",
    "FraudAlert",
    "FraudAlerts",
    "Health",
    "Id",
    "Image",
    "IncidentEvent",
    "IncidentProposal",
    "IncidentReason",
    "IncidentTimeGrant",
    "IncidentTimeProposals",
    "IncidentTimeResult",
    "Incidents",
    "JuryLogin",
    "JuryLoginOk",
    "LaunchRequest",
    "LockedQuestion",
    "Login",
    "LoginOk",
    "Me",
    "MessageRequest",
    "MessageResult",
    "Neutralised",
    "Overtime",
    "PackageDoc",
    "PauseResult",
    "Point",
    "PointsAnswer",
    "QuestionDoc",
    "Reason",
    "ReasonOnly",
    "ReplaceUnit",
    "Row",
    "ScaleAnswer",
    "ServerInfo",
    "ServerKnobs",
    "StateCounts",
    "StoredAnswer",
    "TextAnswer",
    "Timeline",
    "UnitInfo",
    "UnitKey",
    "UnitReplaced",
    "encoder",
]
