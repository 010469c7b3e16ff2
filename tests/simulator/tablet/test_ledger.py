"""The process's ledger: acknowledged answers packed small, pending ones read from the
queues, answers gone offline counted per centre, and all of it shipped and unpacked."""

from __future__ import annotations

import tracemalloc

from simulator.settings import FailureKind, TabletFailure
from simulator.tablet.ledger import Ledger, LedgerEntry, answer_digest, unpack
from simulator.tablet.offline import AnswerQueue, Flush
from vigie.wire.http import AnswerIn, AnswerResult


def body(action_id: str, question_id: str, choices: list[int], final: bool = False) -> AnswerIn:
    return AnswerIn(
        action_id=action_id,
        question_id=question_id,
        answer={"choices": choices},
        final=final,
        client_ts=1.0,
    )


def ok(unit_id: str, b: AnswerIn) -> AnswerResult:
    return AnswerResult(b.action_id, b.question_id, 2.0, b.client_ts, False, None)


def down(unit_id: str, b: AnswerIn) -> AnswerResult:
    raise TabletFailure(FailureKind.REFUSED, "down")


def shipped(ledger: Ledger) -> tuple[list[LedgerEntry], list[LedgerEntry]]:
    chunks = list(ledger.chunks(entries=2))
    tables = chunks[0]
    acked = [e for c in chunks for e in unpack(tables, c["acked"], c["acked_at"])]
    pending = [e for c in chunks for e in unpack(tables, c["pending"])]
    assert [c["last"] for c in chunks] == [False] * (len(chunks) - 1) + [True]
    return acked, pending


def test_the_digest_ignores_key_order_and_spacing_not_the_value() -> None:
    a = answer_digest({"points": [[0.125, 0.5]], "z": 1}, False)
    assert a == answer_digest({"z": 1, "points": [[0.125, 0.5]]}, False)
    assert a != answer_digest({"points": [[0.125, 0.5]], "z": 1}, True)
    assert a != answer_digest({"points": [[0.5, 0.125]], "z": 1}, False)


def test_acknowledgements_round_trip_through_the_shipped_parts() -> None:
    ledger = Ledger(nonce="n" * 16)
    queue = AnswerQueue(ok, lambda: None)
    queue.bind(ledger, "AMIENS-0001", "AMIENS")
    made = [ledger.new_action_id() for _ in range(3)]
    queue.add("U1", body(made[0], "U1-q001", [1]))
    queue.add("U1", body(made[1], "U1-q002", [0, 2], final=True))
    queue.add("U2", body("someone-elses-id", "U2-q001", [3]))  # not made here: interned
    queue.add("U1", body(made[2], "U1-q001", [2]))  # a changed answer: both booked
    assert queue.flush() is Flush.EMPTY
    acked, pending = shipped(ledger)
    assert pending == []
    assert [(e.unit_id, e.question_id, e.action_id) for e in acked] == [
        ("U1", "U1-q001", made[0]),
        ("U1", "U1-q002", made[1]),
        ("U2", "U2-q001", "someone-elses-id"),
        ("U1", "U1-q001", made[2]),
    ]
    assert {(e.candidate_id, e.centre) for e in acked} == {("AMIENS-0001", "AMIENS")}
    assert acked[1].digest == answer_digest({"choices": [0, 2]}, True)


def test_each_acknowledgement_ships_with_its_second() -> None:
    now = [1_800_000_000.9]
    ledger = Ledger(clock=lambda: now[0])
    queue = AnswerQueue(ok, lambda: None)
    queue.bind(ledger, "AMIENS-0001", "AMIENS")
    for i in range(5):  # over three parts of two entries
        now[0] += 60
        queue.add("U1", body(ledger.new_action_id(), f"U1-q00{i}", [i]))
        queue.flush()
    acked, _ = shipped(ledger)
    assert [e.acked_at for e in acked] == [1_800_000_000.0 + 60 * (i + 1) for i in range(5)]


def test_answers_that_wait_are_pending_and_counted_offline_once_per_centre() -> None:
    ledger = Ledger()
    server = {"send": down}
    queues = []
    for cand, centre in (("A-1", "AMIENS"), ("A-2", "AMIENS"), ("B-1", "BREST")):
        q = AnswerQueue(lambda u, b: server["send"](u, b), lambda: None)
        q.bind(ledger, cand, centre)
        queues.append(q)
    for i, q in enumerate(queues):
        q.add("U1", body(ledger.new_action_id(), f"q{i}", [0]))
        assert q.flush() is Flush.OFFLINE
        assert q.flush() is Flush.OFFLINE  # tried again: not counted twice
    queues[0].add("U1", body(ledger.new_action_id(), "q9", [1]))
    assert queues[0].flush() is Flush.OFFLINE
    assert ledger.queued_offline == {"AMIENS": 3, "BREST": 1}
    assert ledger.pending_by_centre() == {"AMIENS": 3, "BREST": 1}
    _, pending = shipped(ledger)
    assert sorted(e.question_id for e in pending) == ["q0", "q1", "q2", "q9"]
    server["send"] = ok
    assert all(q.flush() is Flush.EMPTY for q in queues)
    assert ledger.pending_by_centre() == {} and len(ledger) == 4
    assert ledger.queued_offline == {"AMIENS": 3, "BREST": 1}  # cumulative


def test_an_answer_stored_at_its_first_try_never_went_offline() -> None:
    ledger = Ledger()
    q = AnswerQueue(ok, lambda: None)
    q.bind(ledger, "A-1", "AMIENS")
    q.add("U1", body(ledger.new_action_id(), "q1", [0]))
    assert q.flush() is Flush.EMPTY
    assert ledger.queued_offline == {} and ledger.waiting == {}


def test_an_entry_costs_well_under_100_bytes() -> None:
    # 2,000 tablets x 20 answers; the bodies are the queues' (made first), the ledger's
    # growth is the intern tables, the slots and the array of words
    tablets, answers = 2000, 20
    questions = [f"U1-q{i:03d}" for i in range(1, 111)]
    made = Ledger()
    bodies = [
        [body(made.new_action_id(), questions[(t + i) % 110], [i % 4]) for i in range(answers)]
        for t in range(tablets)
    ]
    candidates = [(f"CENTRE-{t:05d}", "CENTRE") for t in range(tablets)]
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    ledger = made
    for (cand, centre), mine in zip(candidates, bodies, strict=True):
        slot = ledger.candidate(cand, centre)
        for b in mine:
            ledger.acked(slot, "U1", b)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename"))
    per_entry = grown / (tablets * answers)
    assert len(ledger) == tablets * answers
    assert per_entry < 40, f"{per_entry:.1f} bytes per ledger entry"
