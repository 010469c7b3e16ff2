"""The process's ledger of the answers the server acknowledged, and of those still waiting.

The certifier reconciles it with the server's answer export at the end of every run
(:mod:`simulator.run.reconcile`); plain bookkeeping, no I/O.
"""

from __future__ import annotations

import contextlib
import secrets
import sys
import time
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import msgspec

_canonical = msgspec.json.Encoder(order="sorted")
_FOREIGN = 1 << 31  # an action code naming an id this ledger did not make
_MASK20 = (1 << 20) - 1
LEDGER_MESSAGE = "vigie_ledger"  # the Locust custom message that ships a worker's ledger
CHUNK_ENTRIES = 1 << 16  # ledger entries per message (1 MiB of words)


def answer_digest(answer: Any, final: bool) -> int:
    """32 bits of the answer as the server stores it: key order and JSON spacing do not
    matter (sorted, compact), so the tablet's value and the export's compare equal."""
    return zlib.crc32(_canonical.encode([answer, final]))


class Waiting(Protocol):
    """An offline queue, as the ledger reads it (answers given, not acknowledged yet)."""

    @property
    def pending(self) -> Iterable[Any]: ...  # items with ``unit_id`` and ``body``
    def __len__(self) -> int: ...


class Ledger:
    """Every answer the server acknowledged in this process, and those still waiting.

    One per process (:data:`LEDGER`), shared by its tablets, because 12,000 tablets must fit
    in a small generator: an acknowledgement is two 64-bit words appended to one array
    (candidate, unit and question as slots of intern tables; the action id's code and the
    answer's digest) appended to one array, and the second of its acknowledgement (unix
    time, 32 bits, so that a loss can be put next to the fault that caused it) to another:
    ~22 bytes with the arrays' slack, nothing per tablet but a slot. The
    last entry for a question is its last acknowledged answer. Action ids that
    :meth:`new_action_id` made are a per-process nonce and a counter, so the code is the
    counter; any other id is interned. Pending answers are read from the queues that hold
    some (:meth:`wait`), at the end. :meth:`chunks` ships it all in msgpack-friendly parts.
    """

    def __init__(self, nonce: str | None = None, clock: Callable[[], float] = time.time) -> None:
        self.nonce = nonce or secrets.token_hex(8)
        # Wall time, not monotonic: the master compares it with its own run's start.
        self._clock = clock
        self.candidates: list[str] = []  # slot -> candidate id
        self.centres: list[str] = []  # slot -> centre
        self._slots: dict[str, int] = {}
        self.names: list[str] = []  # unit and question ids
        self._names: dict[str, int] = {}
        self.foreign: list[str] = []  # action ids not made here
        self._foreign: dict[str, int] = {}
        self._made = 0
        self.acks = array("Q")  # two words per acknowledged answer, in order
        self.acked_at = array("I")  # its unix second, one per acknowledged answer
        self.waiting: dict[int, Waiting] = {}  # slot -> its queue, while it holds answers
        self.queued_offline: dict[str, int] = {}  # centre -> answers that had to wait

    def __len__(self) -> int:
        return len(self.acks) // 2

    # --- the tablets' side -------------------------------------------------------------
    def candidate(self, candidate_id: str, centre: str) -> int:
        slot = self._slots.get(candidate_id)
        if slot is None:
            slot = self._slots[candidate_id] = len(self.candidates)
            self.candidates.append(candidate_id)
            self.centres.append(sys.intern(centre))
        return slot

    def new_action_id(self) -> str:
        """A fresh answer action id: unique per candidate (the nonce is per process)."""
        n, self._made = self._made, self._made + 1
        return f"{self.nonce}{n:08x}"

    def acked(self, owner: int, unit_id: str, body: AnswerBody) -> None:
        self.acks.extend(self._entry(owner, unit_id, body))
        self.acked_at.append(int(self._clock()))

    def went_offline(self, owner: int, count: int) -> None:
        centre = self.centres[owner]
        self.queued_offline[centre] = self.queued_offline.get(centre, 0) + count

    def wait(self, owner: int, queue: Waiting | None) -> None:
        """``queue`` holds answers not acknowledged yet (None: it holds none)."""
        if queue is None:
            self.waiting.pop(owner, None)
        else:
            self.waiting[owner] = queue

    def pending_by_centre(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for owner, queue in self.waiting.items():
            centre = self.centres[owner]
            out[centre] = out.get(centre, 0) + len(queue)
        return out

    # --- shipping ------------------------------------------------------------------------
    def chunks(self, entries: int = CHUNK_ENTRIES) -> Iterator[dict[str, Any]]:
        """The whole ledger in parts of at most ``entries`` entries; the first carries the
        intern tables, the last the pending answers and ``last: true``."""
        pending = array("Q")
        for owner, queue in self.waiting.items():
            for item in queue.pending:
                pending.extend(self._entry(owner, item.unit_id, item.body))
        words = 2 * entries
        total = max(1, -(-len(self.acks) // words))
        for part in range(total):
            chunk: dict[str, Any] = {"part": part, "last": part == total - 1}
            if part == 0:
                chunk.update(
                    nonce=self.nonce,
                    candidates=self.candidates,
                    centres=self.centres,
                    names=self.names,
                    foreign=self.foreign,
                )
            chunk["acked"] = _le_bytes(self.acks[part * words : (part + 1) * words])
            chunk["acked_at"] = _le_bytes(self.acked_at[part * entries : (part + 1) * entries])
            chunk["pending"] = _le_bytes(pending) if part == total - 1 else b""
            yield chunk

    # --- packing -------------------------------------------------------------------------
    def _entry(self, owner: int, unit_id: str, body: AnswerBody) -> tuple[int, int]:
        key = (owner << 40) | (self._name(unit_id) << 20) | self._name(body.question_id)
        return key, (self._action_code(body.action_id) << 32) | answer_digest(
            body.answer, body.final
        )

    def _name(self, name: str) -> int:
        slot = self._names.get(name)
        if slot is None:
            slot = self._names[name] = len(self.names)
            self.names.append(name)
        return slot

    def _action_code(self, action_id: str) -> int:
        tail = action_id[len(self.nonce) :]
        if action_id.startswith(self.nonce) and len(tail) == 8:
            with contextlib.suppress(ValueError):
                n = int(tail, 16)
                if n < _FOREIGN and f"{n:08x}" == tail:
                    return n
        code = self._foreign.get(action_id)
        if code is None:
            code = self._foreign[action_id] = _FOREIGN | len(self.foreign)
            self.foreign.append(action_id)
        return code


class AnswerBody(Protocol):
    """What the ledger reads of an :class:`~vigie.wire.http.AnswerIn`."""

    action_id: str
    question_id: str
    answer: Any
    final: bool


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One answer of a shipped ledger, unpacked (the master's side)."""

    candidate_id: str
    centre: str
    unit_id: str
    question_id: str
    action_id: str
    digest: int
    acked_at: float = 0.0  # unix second of the acknowledgement (0: pending, or not shipped)


def unpack(tables: dict[str, Any], raw: bytes, raw_at: bytes = b"") -> Iterator[LedgerEntry]:
    """The entries of one shipped part, with the tables of the source's first part (and
    the part's acknowledgement times, when it has them)."""
    words = array("Q")
    words.frombytes(raw)
    at = array("I")
    at.frombytes(raw_at)
    if sys.byteorder != "little":
        words.byteswap()
        at.byteswap()
    nonce: str = tables["nonce"]
    candidates: list[str] = tables["candidates"]
    centres: list[str] = tables.get("centres") or [""] * len(candidates)
    names: list[str] = tables["names"]
    foreign: list[str] = tables["foreign"]
    for i in range(0, len(words) - 1, 2):
        key, value = words[i], words[i + 1]
        owner = key >> 40
        code = value >> 32
        action = foreign[code & ~_FOREIGN] if code & _FOREIGN else f"{nonce}{code:08x}"
        yield LedgerEntry(
            candidates[owner],
            centres[owner],
            names[(key >> 20) & _MASK20],
            names[key & _MASK20],
            action,
            value & 0xFFFFFFFF,
            float(at[i // 2]) if i // 2 < len(at) else 0.0,
        )


def _le_bytes(words: array[int]) -> bytes:
    if sys.byteorder != "little":
        words = array(words.typecode, words)
        words.byteswap()
    return words.tobytes()


LEDGER = Ledger()  # this process's
