"""The candidate's tablet: login, the unit's key and package, answers, finish, ``/me``."""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta

from vigie.protocol import QuestionFormat

from ..ws import UnitInfo as UnitInfo  # in login and /me bodies too
from ..ws import UnixTs
from .base import Id, _Request, _Response


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
    # RUF012 is a false alarm: msgspec copies an empty default per instance (ruff cannot
    # see the Struct base once it is imported from .base).
    extra_time: Annotated[
        dict[str, ExtraTimeParts],
        Meta(description="unit id -> this candidate's extra time by kind (launched units)"),
    ] = {}  # noqa: RUF012
