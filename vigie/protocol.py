"""The vigie tablet/jury protocol: the one place where shared names live.

The exam server, the simulated tablets and the supervision dashboard all import
their message types, states, error codes and close codes from here, and
``docs/protocol.md`` documents exactly these. This module must stay import-light
(no aiohttp, no gevent, no locust): it is imported by gevent-patched Locust
workers and by the asyncio server alike.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, NotRequired, TypedDict

PROTOCOL_VERSION = 1
API_PREFIX = "/api/v1"
#: The answer route's template: the server's metrics label its latency with it, and the
#: certifier reads the server's own answer latency by it.
ANSWER_ROUTE = f"{API_PREFIX}/units/{{unit_id}}/answers"

# --- Defaults (settings on the server; tablets learn them from `welcome`). ---
DEFAULT_HEARTBEAT_INTERVAL_S = 5.0
DEFAULT_LATE_AFTER_S = 10.0
DEFAULT_LOST_AFTER_S = 15.0
MAX_HTTP_BODY_BYTES = 64 * 1024
MAX_WS_MESSAGE_BYTES = 8 * 1024


class CandidateState(StrEnum):
    """Supervision state of one candidate, as the jury sees it.

    Derived by the server from the websocket, the heartbeat age and the unit:
    ``late`` once the last heartbeat is older than ``late_after_s``, ``lost``
    once older than ``lost_after_s`` or when the socket dropped during a unit.
    A pause does not hide a loss: ``paused`` only stands for a tablet that would
    otherwise be ``in_progress`` (rows carry ``connected`` and ``paused`` apart).
    Between units the state speaks of the next one (``waiting`` when connected),
    except ``unfinished``, kept until the next launch.
    """

    NOT_CONNECTED = "not_connected"
    WAITING = "waiting"  # connected, current unit not launched yet
    IN_PROGRESS = "in_progress"
    LATE = "late"
    LOST = "lost"
    PAUSED = "paused"
    FINISHED = "finished"
    # The unit closed while the tablet was disconnected and the candidate never
    # finished: not "finished", and an incident for the procès-verbal.
    UNFINISHED = "unfinished"


#: States that count as incidents and sort first in the supervision view.
INCIDENT_STATES: frozenset[CandidateState] = frozenset(
    {CandidateState.LATE, CandidateState.LOST, CandidateState.UNFINISHED}
)


class UnitState(StrEnum):
    SCHEDULED = "scheduled"
    LAUNCHED = "launched"
    CLOSED = "closed"


class UnitKind(StrEnum):
    STANDARD = "standard"  # 3 h, 90-110 questions: isolated + progressive dossiers
    LCA = "lca"  # 1 h 30, critical reading, 13-17 progressive questions


class QuestionFormat(StrEnum):
    QRU = "QRU"  # single answer among 4-5
    QRM = "QRM"  # multiple answers among 4-5
    QRP = "QRP"  # stated number of answers among 4-5
    QRPL = "QRPL"  # stated number (1-5) among 10-25
    ZAP = "ZAP"  # zones to point on an image
    QROC = "QROC"  # short open answer, at most 5 words
    TCS = "TCS"  # script concordance test


class ReasonCategory(StrEnum):
    """What a jury action's reason is about (as SEB Server and Inspera sort incidents),
    with the free-text reason always beside it."""

    ENVIRONMENT = "environment"  # the room: noise, alarm, power, heat
    CANDIDATE = "candidate"  # the candidate: illness, late arrival, conduct
    STAFF = "staff"  # the centre's team: a supervisor's mistake, a late start
    TECHNICAL = "technical"  # tablet, network, platform


class JuryRole(StrEnum):
    NATIONAL = "national"  # every centre, may launch and close units
    CENTRE = "centre"  # its own centre only
    OBSERVER = "observer"  # read-only, every centre


class InstructionKind(StrEnum):
    EXTRA_TIME = "extra_time"
    PAUSE = "pause"
    RESUME = "resume"
    MESSAGE = "message"
    END_UNIT = "end_unit"


class AuditKind(StrEnum):
    """What an audit event records (``kind``; its ``data`` by kind: docs/protocol.md)."""

    LOGIN = "login"
    CONNECT = "connect"
    DISCONNECT = "disconnect"
    ANSWER = "answer"
    ANSWER_CHANGE = "answer_change"
    FINISH = "finish"
    LAUNCH = "launch"
    CLOSE = "close"
    PAUSE = "pause"
    RESUME = "resume"
    EXTRA_TIME = "extra_time"
    MESSAGE = "message"
    INSTRUCTION_ACK = "instruction_ack"
    FRAUD = "fraud"
    FAULT = "fault"  # an operator applied a timed fault
    INCIDENT_TIME = "incident_time"  # incident extra time granted (a centre's candidates)
    NEUTRALISE = "neutralise"  # the national jury neutralised a question (correction)
    REPLACE_UNIT = "replace_unit"  # a cancelled unit replaced by a backup one (correction)
    CANDIDATE_PAUSE = "candidate_pause"  # one candidate paused by the jury
    CANDIDATE_RESUME = "candidate_resume"
    END_TIME = "end_time"  # the jury ended one candidate's time early (the seconds lost)


class DisconnectReason(StrEnum):
    CLIENT_CLOSE = "client_close"
    HEARTBEAT_TIMEOUT = "heartbeat_timeout"
    SUPERSEDED = "superseded"
    PROTOCOL_ERROR = "protocol_error"
    SERVER_SHUTDOWN = "server_shutdown"
    NETWORK = "network"  # socket dropped without a close frame


# --- Websocket messages: JSON text frames, discriminated by "type". ---------
class MsgType(StrEnum):
    # server -> tablet
    WELCOME = "welcome"
    HEARTBEAT_ACK = "hb_ack"
    LAUNCH = "launch"
    CLOSE_UNIT = "close_unit"
    ERROR = "error"
    # tablet -> server
    HEARTBEAT = "hb"
    INSTRUCTION_ACK = "ack"
    # the Monday connection test's echo socket (docs/connection-test.md)
    PROBE = "probe"  # tablet -> server
    PROBE_ECHO = "probe_echo"  # server -> tablet


class WsClose:
    """Websocket close codes used by the server."""

    NORMAL = 1000
    GOING_AWAY = 1001  # server shutting down: reconnect with backoff
    POLICY_VIOLATION = 1008  # bad/expired token, malformed or unknown message
    MESSAGE_TOO_BIG = 1009  # message over MAX_WS_MESSAGE_BYTES
    SUPERSEDED = 4001  # the same candidate opened a newer socket
    HEARTBEAT_TIMEOUT = 4002  # no heartbeat for lost_after_s


class Instruction(TypedDict):
    id: str  # unique; the tablet confirms it with an `ack` message
    kind: str  # an InstructionKind
    unit_id: NotRequired[str]
    seconds: NotRequired[float]  # extra_time: seconds added
    deadline: NotRequired[float]  # new personal deadline (unix s) after the instruction
    text: NotRequired[str]  # message
    reason: NotRequired[str]


class Heartbeat(TypedDict):
    type: Literal["hb"]
    seq: int
    unit_id: str | None  # unit on screen, null while waiting
    position: int  # index of the question on screen (0-based)
    answered: int  # answered questions in this unit
    battery: int  # 0-100
    network: str  # "wifi" | "ethernet" | "cellular" | "none"
    client_ts: float  # unix seconds, tablet clock


class HeartbeatAck(TypedDict):
    type: Literal["hb_ack"]
    seq: int
    server_ts: float
    instructions: list[Instruction]


class InstructionAck(TypedDict):
    type: Literal["ack"]
    ids: list[str]


class Launch(TypedDict):
    type: Literal["launch"]
    unit_id: str
    launched_at: float
    deadline: float  # the candidate's own deadline, extra time included


class CloseUnit(TypedDict):
    type: Literal["close_unit"]
    unit_id: str
    closed_at: float


class Welcome(TypedDict):
    type: Literal["welcome"]
    server_ts: float
    candidate_id: str
    heartbeat_interval_s: float
    units: list[dict[str, object]]  # same objects as GET /me "units"


# --- HTTP errors: every 4xx carries {"error": {"code": ..., "message": ...}}.
class ErrorCode(StrEnum):
    MALFORMED_JSON = "malformed_json"
    MALFORMED_REQUEST = "malformed_request"  # not parseable HTTP (e.g. a NUL in a header)
    INVALID_REQUEST = "invalid_request"  # missing, unknown or ill-typed field
    BODY_TOO_LARGE = "body_too_large"
    UNAUTHENTICATED = "unauthenticated"  # missing/bad token
    TOKEN_EXPIRED = "token_expired"
    BAD_CREDENTIALS = "bad_credentials"
    FORBIDDEN = "forbidden"  # role may not do this / other centre
    NOT_FOUND = "not_found"
    UNKNOWN_UNIT = "unknown_unit"
    UNKNOWN_QUESTION = "unknown_question"
    UNKNOWN_CANDIDATE = "unknown_candidate"
    UNKNOWN_CENTRE = "unknown_centre"
    UNIT_NOT_LAUNCHED = "unit_not_launched"
    UNIT_ALREADY_LAUNCHED = "unit_already_launched"
    UNIT_CLOSED = "unit_closed"
    UNIT_NOT_CLOSED = "unit_not_closed"  # results asked for before the unit's close
    UNIT_REPLACED = "unit_replaced"  # a unit already replaced, or a backup already in use
    OUTSIDE_TIME_WINDOW = "outside_time_window"
    QUESTION_LOCKED = "question_locked"
    QUESTION_FINAL = "question_final"
    INVALID_ANSWER = "invalid_answer"
    CENTRE_PAUSED = "centre_paused"
    CANDIDATE_PAUSED = "candidate_paused"
    CANDIDATE_NOT_PAUSED = "candidate_not_paused"
    CENTRE_NOT_PAUSED = "centre_not_paused"
    ACTION_ID_REUSED = "action_id_reused"  # a known action id sent with a different request
    UNIT_FINISHED = "unit_finished"
    CURSOR_EXPIRED = "cursor_expired"
    CONNECTION_CAP = "connection_cap"  # 503 + Retry-After
    INJECTED_FAULT = "injected_fault"  # 503 from the error-rate knob
    METHOD_NOT_ALLOWED = "method_not_allowed"


class ErrorBody(TypedDict):
    code: str
    message: str


class ErrorResponse(TypedDict):
    error: ErrorBody
