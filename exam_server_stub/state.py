"""In-memory state of the exam: lean per-candidate objects and per-unit runtime.

The hot paths (heartbeats, supervision rows) read and write only these objects;
SQLite holds the durable copy of everything that matters after a restart.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Protocol

from vigie.demo import Unit, seat_of
from vigie.protocol import CandidateState
from vigie.wire.ws import Instruction


class Socket(Protocol):
    """A tablet's open websocket, as the rules see it (aiohttp's WebSocketResponse is one)."""

    @property
    def closed(self) -> bool: ...

    async def send_str(self, data: str, compress: int | None = None) -> None: ...

    async def close(self, *, code: int = ..., message: bytes = ...) -> bool: ...


class AnswerRec:
    __slots__ = ("answer", "final", "server_ts")

    def __init__(self, answer: dict[str, Any], final: bool, server_ts: float) -> None:
        self.answer = answer
        self.final = final
        self.server_ts = server_ts


class Cand:
    """One candidate. ``__slots__`` because 12,000 of them live in one process."""

    __slots__ = (
        "access_code",
        "actions",
        "answers",
        "battery",
        "birth_date",
        "centre",
        "disc_since",
        "disc_total",
        "extra",
        "finished",
        "hb_answered",
        "hb_unit",
        "id",
        "incident",
        "instructions",
        "last_answer",
        "last_hb",
        "lock",
        "network",
        "planned",
        "planned_ratio",
        "position",
        "reconnects",
        "room",
        "seat",
        "sig",
        "state",
        "version",
        "was_connected",
        "ws",
    )

    def __init__(self, cid: str, centre: str, birth_date: str, access_code: str) -> None:
        self.id = cid
        self.centre = centre
        place = seat_of(cid)  # the roster's room and seat, for the jury's groups
        self.room: str | None = place[0] if place is not None else None
        self.seat: str | None = place[1] if place is not None else None
        self.birth_date = birth_date
        self.access_code = access_code
        self.ws: Socket | None = None
        self.last_hb: float | None = None
        self.hb_unit: str | None = None
        self.hb_answered = 0  # answered on the tablet, as its last heartbeat says
        self.last_answer: tuple[str, float] | None = None  # (unit, stored at) of the latest
        self.position = 0
        self.battery: int | None = None
        self.network: str | None = None
        self.reconnects = 0
        self.was_connected = False  # connected at least once during the current unit
        self.disc_since: float | None = None  # socket dropped during the unit at this time
        self.disc_total = 0.0
        # unit id -> question id -> latest answer
        self.answers: dict[str, dict[str, AnswerRec]] = {}
        # (operation, action id) -> (what the request was, its first result), for re-sends
        self.actions: dict[tuple[str, str], tuple[Any, Any]] = {}
        self.finished: dict[str, float] = {}
        self.extra: dict[str, float] = {}  # unit id -> personal extra time granted by the jury
        self.planned_ratio = 0.0  # tiers-temps in the roster: a share of each unit's duration
        self.planned: dict[str, float] = {}  # unit id -> planned extra time applied at the launch
        self.incident: dict[str, float] = {}  # unit id -> incident extra time granted
        self.instructions: dict[str, Instruction] = {}  # pending, unconfirmed
        self.lock: asyncio.Lock | None = None  # created on first answer
        self.state = CandidateState.NOT_CONNECTED
        self.sig: tuple[Any, ...] = ()
        self.version = 0

    def get_lock(self) -> asyncio.Lock:
        if self.lock is None:
            self.lock = asyncio.Lock()
        return self.lock


@dataclass(slots=True)
class UnitRt:
    unit: Unit
    key: bytes
    package: bytes
    sha256: str
    launched_at: float | None = None
    deadline: float | None = None  # national deadline, before any extra time
    closed_at: float | None = None

    @property
    def live(self) -> bool:
        return self.launched_at is not None and self.closed_at is None
