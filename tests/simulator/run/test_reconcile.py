"""The comparison: the tablets' last acknowledged answers against the server's export."""

from __future__ import annotations

from typing import Any

from simulator.record import FaultRun, Reconciliation
from simulator.run.reconcile import LedgerInbox, blame_losses, reconcile, reconcile_run, summary
from simulator.tablet.ledger import Ledger
from simulator.tablet.offline import AnswerQueue
from vigie.testing import free_port
from vigie.wire.http import AnswerIn, AnswerRecord, AnswerResult

CAND, CENTRE, UNIT = "AMIENS-0001", "AMIENS", "U1"


def body(action_id: str, question_id: str, choice: int, final: bool = False) -> AnswerIn:
    return AnswerIn(
        action_id=action_id,
        question_id=question_id,
        answer={"choices": [choice]},
        final=final,
        client_ts=1.0,
    )


class Tablet:
    """One candidate's queue on a ledger; ``up`` decides whether the server takes answers."""

    def __init__(self, ledger: Ledger, candidate: str = CAND, centre: str = CENTRE) -> None:
        self.ledger = ledger
        self.up = True
        self.queue = AnswerQueue(self.send, lambda: None)
        self.queue.bind(ledger, candidate, centre)

    def send(self, unit_id: str, b: AnswerIn) -> AnswerResult:
        if not self.up:
            from simulator.settings import FailureKind, TabletFailure

            raise TabletFailure(FailureKind.REFUSED, "down")
        return AnswerResult(b.action_id, b.question_id, 2.0, b.client_ts, False, None)

    def give(self, question_id: str, choice: int, final: bool = False) -> AnswerIn:
        b = body(self.ledger.new_action_id(), question_id, choice, final)
        self.queue.add(UNIT, b)
        self.queue.flush()
        return b


def stored(seq: int, b: AnswerIn, candidate: str = CAND, **change: Any) -> AnswerRecord:
    return AnswerRecord(
        seq=seq,
        candidate_id=candidate,
        centre=CENTRE,
        unit_id=UNIT,
        question_id=change.get("question_id", b.question_id),
        action_id=change.get("action_id", b.action_id),
        answer=change.get("answer", dict(b.answer)),
        final=change.get("final", b.final),
        client_ts=b.client_ts,
        server_ts=2.0,
    )


def inbox_of(ledger: Ledger) -> LedgerInbox:
    inbox = LedgerInbox()
    inbox.add_ledger(ledger)
    return inbox


def test_every_acknowledged_answer_on_the_server_reconciles() -> None:
    ledger = Ledger()
    t = Tablet(ledger)
    a, b = t.give("q1", 0), t.give("q2", 1, final=True)
    rec = reconcile(inbox_of(ledger), [stored(1, a), stored(2, b)])
    assert (rec.acked, rec.stored, rec.lost, rec.mismatched, rec.pending) == (2, 2, 0, 0, 0)
    assert rec.ok and rec.examples == []


def test_an_acknowledged_answer_missing_from_the_server_is_lost() -> None:
    ledger = Ledger()
    t = Tablet(ledger)
    a, b = t.give("q1", 0), t.give("q2", 1)
    rec = reconcile(inbox_of(ledger), [stored(1, a)])
    assert (rec.acked, rec.stored, rec.lost) == (2, 1, 1) and not rec.ok
    assert rec.examples == [
        {
            "problem": "lost",
            "candidate_id": CAND,
            "centre": CENTRE,
            "unit_id": UNIT,
            "question_id": "q2",
            "action_id": b.action_id,
            "server_action_id": None,
        }
    ]


def test_another_value_on_the_server_is_a_mismatch() -> None:
    ledger = Ledger()
    t = Tablet(ledger)
    a, b = t.give("q1", 0), t.give("q2", 1)
    later = stored(3, b, action_id="not-from-this-tablet", answer={"choices": [3]})
    same_id_other_value = stored(1, a, answer={"choices": [2]})
    rec = reconcile(inbox_of(ledger), [same_id_other_value, stored(2, b), later])
    assert (rec.stored, rec.lost, rec.mismatched) == (0, 0, 2)
    assert {e["problem"] for e in rec.examples} == {"mismatched"}


def test_answers_never_acknowledged_are_pending_not_lost() -> None:
    ledger = Ledger()
    t = Tablet(ledger)
    a = t.give("q1", 0)
    t.up = False
    b = t.give("q1", 2)  # the candidate changed it offline
    c = t.give("q2", 1)
    # b reached the server (its acknowledgement was lost on the way): it supersedes a
    rec = reconcile(inbox_of(ledger), [stored(1, a), stored(2, b)])
    assert (rec.acked, rec.stored, rec.lost, rec.mismatched, rec.pending) == (1, 1, 0, 0, 2)
    assert c.question_id == "q2"


def test_a_duplicate_resend_is_one_answer() -> None:
    ledger = Ledger()
    t = Tablet(ledger)
    a = t.give("q1", 0)
    t.queue.add(UNIT, a)  # the same request again (its first answer had not come back)
    t.queue.flush()
    rec = reconcile(inbox_of(ledger), [stored(1, a)])
    assert (rec.acked, rec.stored, rec.lost) == (1, 1, 0)


def test_the_last_answer_of_a_question_counts() -> None:
    ledger = Ledger()
    t = Tablet(ledger)
    first, last = t.give("q1", 0), t.give("q1", 3)
    # the server's every change, in seq order: the last one must be the last acknowledged
    assert reconcile(inbox_of(ledger), [stored(1, first), stored(2, last)]).stored == 1
    only_first = reconcile(inbox_of(ledger), [stored(1, first)])
    assert (only_first.lost, only_first.stored) == (1, 0)
    # a progressive question: its final answer is the one that counts
    ledger = Ledger()
    t = Tablet(ledger)
    final = t.give("q5", 2, final=True)
    not_final = stored(1, final, final=False)
    assert reconcile(inbox_of(ledger), [not_final]).mismatched == 1
    assert reconcile(inbox_of(ledger), [stored(1, final)]).stored == 1


def test_answers_of_earlier_runs_and_other_candidates_do_not_count() -> None:
    ledger = Ledger()
    t = Tablet(ledger)
    a = t.give("q1", 0)
    earlier = stored(1, a, action_id="an-earlier-run")
    other = stored(2, a, candidate="BREST-0001", action_id="theirs")
    rec = reconcile(inbox_of(ledger), [earlier, other, stored(3, a)])
    assert (rec.acked, rec.stored, rec.lost, rec.mismatched) == (1, 1, 0, 0)


def test_the_workers_parts_merge_and_a_new_first_part_starts_over() -> None:
    ledgers = [Ledger(), Ledger()]
    tablets = [Tablet(ledgers[0], "A-1"), Tablet(ledgers[1], "B-1")]
    given = [t.give(f"q{i}", i) for i in range(3) for t in tablets]
    inbox = LedgerInbox()
    for n, ledger in enumerate(ledgers):
        for chunk in ledger.chunks(entries=1):
            inbox.add(f"worker-{n}", chunk)
    for chunk in ledgers[0].chunks(entries=2):  # shipped again (a second test_stop)
        inbox.add("worker-0", chunk)
    assert inbox.complete() == 2 and len(inbox.acked()) == len(given) == 6


def test_an_unreadable_export_says_why() -> None:
    ledger = Ledger()
    Tablet(ledger).give("q1", 0)
    rec = reconcile_run(f"http://127.0.0.1:{free_port()}", inbox_of(ledger))
    assert rec.problem is not None and "could not be read" in rec.problem
    assert rec.acked == 1 and not rec.ok


def test_the_summary_line_names_what_was_lost() -> None:
    ledger = Ledger()
    t = Tablet(ledger)
    a, _ = t.give("q1", 0), t.give("q2", 1)
    line = summary(reconcile(inbox_of(ledger), [stored(1, a)]))
    assert line == (
        "reconciliation: 2 acknowledged answers, 1 on the server, 1 lost, "
        "0 with another value, 0 pending"
    )


START = 1_800_000_000.0  # the run's start, unix seconds


def fault(kind: str, at_s: float, end_s: float, centres: list[str] | None = None) -> FaultRun:
    run = FaultRun(kind, centres or [], at_s, end_s - at_s, applied=True, started_at=at_s)
    run.window_end_s = end_s
    return run


def test_each_loss_is_put_on_the_first_fault_that_could_have_cost_it() -> None:
    now = [START]
    ledger = Ledger(clock=lambda: now[0])
    amiens, brest = Tablet(ledger), Tablet(ledger, "BREST-0001", "BREST")
    given = []
    for t, tablet, q in ((10, amiens, "q1"), (205, brest, "q2"), (260, amiens, "q3"),
                         (300, brest, "q4"), (700, amiens, "q5")):  # fmt: skip
        now[0] = START + t + 0.7  # kept as a whole second
        given.append(tablet.give(q, 0))
    rec = reconcile(inbox_of(ledger), [])  # the server holds none of them
    assert rec.lost == 5
    assert sorted(rec.losses) == [
        ("AMIENS", START + 10), ("AMIENS", START + 260), ("AMIENS", START + 700),
        ("BREST", START + 205), ("BREST", START + 300),
    ]  # fmt: skip
    outage = fault("centre_outage", 200, 290, ["BREST"])
    stall = fault("db_stall", 250, 320)
    not_applied = FaultRun("server_crash", [], 100, 10)  # never injected: blamed for none
    alone = blame_losses(rec, [stall, outage, not_applied], START)
    # q1 (AMIENS, 10 s): the outage closes first but is not Amiens', the stall is;
    # q2 (BREST, 205 s): the outage; q3, q4: the stall; q5 after every window: alone.
    assert (outage.answers_lost, stall.answers_lost, not_applied.answers_lost) == (1, 3, None)
    assert alone == 1


def test_without_a_reconciliation_no_fault_is_said_to_have_lost_nothing() -> None:
    stall = fault("db_stall", 250, 320)
    problem = Reconciliation(problem="the server's answer export could not be read")
    assert blame_losses(problem, [stall], START) == 0 and stall.answers_lost is None
    assert blame_losses(Reconciliation(acked=4, stored=4), [stall], START) == 0
    assert stall.answers_lost == 0
