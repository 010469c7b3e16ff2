"""A tablet's bookkeeping: units from the typed wire, instructions carried out once."""

from __future__ import annotations

from simulator.tablet.state import Instructions, Progress, Units
from vigie.protocol import InstructionKind, UnitState
from vigie.wire.ws import Instruction, LaunchPush, UnitInfo


def info(uid: str, state: str = UnitState.SCHEDULED, finished: bool = False) -> UnitInfo:
    return UnitInfo(
        unit_id=uid,
        title=uid,
        kind="standard",
        question_count=3,
        duration_s=60.0,
        state=state,
        launched_at=None,
        deadline=None,
        extra_time_s=0.0,
        finished=finished,
        package_sha256="ab",
    )


def test_units_keep_the_server_order_and_know_what_is_left() -> None:
    units = Units()
    units.merge([info("U1", finished=True), info("U2"), info("U3", UnitState.CLOSED)])
    units.merge([info("U2", UnitState.LAUNCHED)])  # a welcome after a reconnect
    assert units.order == ["U1", "U2", "U3"]
    assert units.next_todo() == "U2" and units.is_launched("U2")
    units.finished.append("U2")
    assert units.next_todo() is None


def test_a_backup_unit_is_not_waited_for_until_the_jury_launches_it() -> None:
    units = Units()
    spare = info("S1")
    spare.backup = True
    units.merge([info("U1"), spare])
    assert units.slots["S1"].standing_by and not units.slots["U1"].standing_by
    units.finished.append("U1")
    assert units.next_todo() is None  # the day is over for this tablet: S1 may never be sat
    units.launched(LaunchPush(unit_id="S1", launched_at=1.0, deadline=99.0))
    assert not units.slots["S1"].standing_by and units.next_todo() == "S1"


def test_a_launch_push_for_a_unit_never_seen_adds_it() -> None:
    units = Units()
    units.merge([info("U1")])
    units.launched(LaunchPush(unit_id="U2", launched_at=1.0, deadline=99.0))
    units.launched(LaunchPush(unit_id="U1", launched_at=1.0, deadline=50.0))
    assert units.order == ["U1", "U2"]
    assert units.is_launched("U2") and units.slots["U2"].deadline == 99.0
    assert units.slots["U1"].deadline == 50.0


def sitting(unit: str = "U1", deadline: float = 100.0) -> tuple[Instructions, Progress, Units]:
    units, progress = Units(), Progress()
    progress.enter(unit)
    progress.deadline = deadline
    return Instructions(progress, units), progress, units


def test_an_instruction_is_carried_out_once_and_confirmed_each_time() -> None:
    book, progress, _ = sitting()
    extra = Instruction(id="i1", kind=InstructionKind.EXTRA_TIME, unit_id="U1", seconds=30.0)
    assert book.carry_out([extra]) == ["i1"]
    assert progress.deadline == 130.0
    # the ack got lost: it comes back on the next hb_ack; confirm again, do not add twice
    assert book.carry_out([extra]) == ["i1"]
    assert progress.deadline == 130.0


def test_extra_time_with_a_deadline_sets_it_and_other_units_are_left_alone() -> None:
    book, progress, _ = sitting()
    book.carry_out([Instruction(id="i1", kind=InstructionKind.EXTRA_TIME, deadline=500.0)])
    assert progress.deadline == 500.0
    other = Instruction(id="i2", kind=InstructionKind.EXTRA_TIME, unit_id="U9", seconds=60.0)
    book.carry_out([other])
    assert progress.deadline == 500.0


def test_pause_resume_and_end_unit() -> None:
    book, progress, units = sitting()
    book.carry_out([Instruction(id="p", kind=InstructionKind.PAUSE)])
    assert progress.paused
    book.carry_out([Instruction(id="r", kind=InstructionKind.RESUME, deadline=160.0)])
    assert not progress.paused and progress.deadline == 160.0
    ids = book.carry_out(
        [
            Instruction(id="m", kind=InstructionKind.MESSAGE, text="hello"),
            Instruction(id="e", kind=InstructionKind.END_UNIT, unit_id="U1"),
        ]
    )
    assert ids == ["m", "e"] and units.ended == {"U1"}
