"""What a tablet knows: its units, where the candidate is, the jury's instructions.

Plain bookkeeping built from the typed wire values (:class:`~vigie.wire.ws.UnitInfo`,
:class:`~vigie.wire.ws.LaunchPush`, :class:`~vigie.wire.ws.Instruction`); no I/O.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from vigie.protocol import InstructionKind, UnitState
from vigie.wire.ws import Instruction, LaunchPush, UnitInfo


@dataclass(slots=True)
class UnitSlot:
    """One unit as this tablet tracks it."""

    unit_id: str
    state: str  # a UnitState
    deadline: float | None = None
    finished: bool = False
    package_sha256: str | None = None
    backup: bool = False  # sat only if the jury launches it

    @classmethod
    def of(cls, info: UnitInfo) -> UnitSlot:
        return cls(
            info.unit_id, info.state, info.deadline, info.finished, info.package_sha256, info.backup
        )

    @property
    def standing_by(self) -> bool:
        """A backup unit nobody launched: neither downloaded nor waited for."""
        return self.backup and self.state == UnitState.SCHEDULED


@dataclass(slots=True)
class Units:
    """The candidate's units in the server's order, and which are over for this tablet."""

    slots: dict[str, UnitSlot] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    ended: set[str] = field(default_factory=set)  # closed by the jury or ended by instruction
    finished: list[str] = field(default_factory=list)  # sat by this tablet, in order

    def merge(self, infos: list[UnitInfo]) -> None:
        """Units from login or ``welcome``: the server's view replaces ours."""
        for info in infos:
            if info.unit_id not in self.slots:
                self.order.append(info.unit_id)
            self.slots[info.unit_id] = UnitSlot.of(info)

    def launched(self, push: LaunchPush) -> None:
        slot = self.slots.get(push.unit_id)
        if slot is None:
            slot = self.slots[push.unit_id] = UnitSlot(push.unit_id, UnitState.LAUNCHED)
            self.order.append(push.unit_id)
        slot.state = UnitState.LAUNCHED
        slot.deadline = push.deadline

    def is_launched(self, unit_id: str) -> bool:
        return self.slots[unit_id].state == UnitState.LAUNCHED

    def is_closed(self, unit_id: str) -> bool:
        return self.slots[unit_id].state == UnitState.CLOSED

    def done(self, unit_id: str) -> bool:
        slot = self.slots[unit_id]
        return (
            slot.finished
            or slot.state == UnitState.CLOSED
            or unit_id in self.ended
            or unit_id in self.finished
        )

    def next_todo(self) -> str | None:
        return next(
            (u for u in self.order if not self.done(u) and not self.slots[u].standing_by), None
        )


@dataclass(slots=True)
class Progress:
    """Where the candidate is: what the heartbeats say, the deadline, the pause."""

    current_unit: str | None = None
    position: int = 0
    answered: int = 0
    battery: int = field(default_factory=lambda: random.randint(60, 100))
    deadline: float | None = None
    paused: bool = False

    def enter(self, unit_id: str | None) -> None:
        self.current_unit = unit_id
        self.position = 0
        self.answered = 0
        self.deadline = None


@dataclass(slots=True)
class Instructions:
    """The jury's instructions, carried out once each (an instruction rides on every
    ``hb_ack`` until confirmed: after a lost ack it comes back and is confirmed again)."""

    progress: Progress
    units: Units
    applied: set[str] = field(default_factory=set)

    def carry_out(self, items: list[Instruction]) -> list[str]:
        """Apply those not applied yet; the ids of all of them, to confirm."""
        for ins in items:
            if ins.id not in self.applied:
                self.applied.add(ins.id)
                self._apply(ins)
        return [ins.id for ins in items]

    def _apply(self, ins: Instruction) -> None:
        progress = self.progress
        mine = ins.unit_id in (None, progress.current_unit)
        if ins.kind == InstructionKind.EXTRA_TIME:
            if not mine:
                return
            if ins.deadline is not None:
                progress.deadline = ins.deadline
            elif progress.deadline is not None:
                progress.deadline += ins.seconds or 0.0
        elif ins.kind == InstructionKind.PAUSE:
            progress.paused = True
        elif ins.kind == InstructionKind.RESUME:
            progress.paused = False
            if ins.deadline is not None and mine:
                progress.deadline = ins.deadline
        elif ins.kind == InstructionKind.END_UNIT and ins.unit_id:
            self.units.ended.add(ins.unit_id)
