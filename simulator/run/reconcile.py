"""The end of every run: the tablets' ledger of acknowledged answers against the server's.

Each generator process keeps a :class:`~simulator.tablet.ledger.Ledger` (every answer the
server acknowledged, and those still waiting in an offline queue). Workers ship theirs to
the master when they stop (Locust custom message ``vigie_ledger``, in parts); a local
runner reads its own. The master then streams the server's jury export once
(``GET /api/v1/jury/answers/export``, NDJSON, the national account) and compares, question
by question, the last acknowledged answer with the server's last stored one:

- ``stored``: the acknowledged answer is on the server and the server's last value for
  the question is it (or a later answer that the tablet gave and was still waiting for);
- ``lost``: the server never stored the acknowledged answer (its action id is not there);
- ``mismatched``: it was stored, but the server now holds another value for the question
  (or the same action id with another value);
- ``pending``: given, never acknowledged by the end (not judged: the tablet still has it).

The ledger is the tablets' and the export the server's: a server restarted during the run
(``server_crash``) changes neither side's meaning, and answers of earlier runs on the same
database never match an action id of this one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import msgspec

from simulator.record import FaultRun, Reconciliation
from simulator.tablet.ledger import Ledger, LedgerEntry, answer_digest, unpack
from vigie.jury_client import UNREACHABLE, JuryApiError, JuryClient
from vigie.wire.http import AnswerRecord

Key = tuple[str, str, str]  # candidate, unit, question
EXAMPLES = 10
LEDGER_WAIT_S = 30.0  # past the workers' stop, how long their ledgers may take to arrive
EXPORT_TIMEOUT_S = 60.0  # the login; the stream waits up to jury_client.STREAM_READ_S
EXPORT_ATTEMPTS = 3  # a broken stream resumes after the last seq read
_record = msgspec.json.Decoder(AnswerRecord)


@dataclass(slots=True)
class _Source:
    """What one generator process shipped: its tables, last acknowledgements, pending."""

    tables: dict[str, Any] = field(default_factory=dict)
    acked: dict[Key, LedgerEntry] = field(default_factory=dict)
    pending: list[LedgerEntry] = field(default_factory=list)
    complete: bool = False


class LedgerInbox:
    """The master's merge of the processes' ledgers (a part 0 starts a source afresh)."""

    def __init__(self) -> None:
        self.sources: dict[str, _Source] = {}

    def add(self, source: str, chunk: dict[str, Any]) -> None:
        if chunk.get("part") == 0:
            self.sources[source] = _Source(
                tables={k: chunk[k] for k in ("nonce", "candidates", "centres", "names", "foreign")}
            )
        src = self.sources.get(source)
        if src is None:
            return  # a part without its source's first one: the ledger stays incomplete
        for entry in unpack(src.tables, chunk.get("acked", b""), chunk.get("acked_at", b"")):
            src.acked[(entry.candidate_id, entry.unit_id, entry.question_id)] = entry
        src.pending.extend(unpack(src.tables, chunk.get("pending", b"")))
        src.complete = bool(chunk.get("last"))

    def add_ledger(self, ledger: Ledger, source: str = "local") -> None:
        for chunk in ledger.chunks():
            self.add(source, chunk)

    def on_message(self, environment: Any = None, msg: Any = None, **_: Any) -> None:
        """Locust's listener for the ledger message (on the master)."""
        if msg is not None and isinstance(msg.data, dict):
            self.add(str(msg.node_id), msg.data)

    def complete(self) -> int:
        return sum(1 for s in self.sources.values() if s.complete)

    def wait(self, sources: int, timeout_s: float, sleep: Callable[[float], object]) -> bool:
        """Until ``sources`` ledgers are complete (bounded); False if some never came."""
        deadline = time.monotonic() + timeout_s
        while self.complete() < sources:
            if time.monotonic() > deadline:
                return False
            sleep(0.2)
        return True

    def acked(self) -> dict[Key, LedgerEntry]:
        out: dict[Key, LedgerEntry] = {}
        for src in self.sources.values():
            out.update(src.acked)
        return out

    def pending(self) -> list[LedgerEntry]:
        return [e for src in self.sources.values() for e in src.pending]


class _Check:
    __slots__ = ("entry", "last_action", "last_digest", "seen")

    def __init__(self, entry: LedgerEntry) -> None:
        self.entry = entry
        self.seen = False
        self.last_action: str | None = None
        self.last_digest = 0


def reconcile(inbox: LedgerInbox, records: Iterable[AnswerRecord]) -> Reconciliation:
    """Compare the ledgers with the server's stored answers (every change, in seq order)."""
    checks = {key: _Check(entry) for key, entry in inbox.acked().items()}
    pending = inbox.pending()
    waiting: dict[Key, set[str]] = {}
    for e in pending:
        waiting.setdefault((e.candidate_id, e.unit_id, e.question_id), set()).add(e.action_id)
    for rec in records:
        check = checks.get((rec.candidate_id, rec.unit_id, rec.question_id))
        if check is None:
            continue  # an answer no tablet of this run had acknowledged
        check.last_action = rec.action_id
        check.last_digest = answer_digest(rec.answer, rec.final)
        if rec.action_id == check.entry.action_id:
            check.seen = True
    out = Reconciliation(acked=len(checks), pending=len(pending))
    for key, check in checks.items():
        verdict = _classify(check, waiting.get(key, set()))
        if verdict == "stored":
            out.stored += 1
            continue
        if verdict == "lost":
            out.lost += 1
        else:
            out.mismatched += 1
        e = check.entry
        out.losses.append((e.centre, e.acked_at))
        if len(out.examples) < EXAMPLES:
            out.examples.append(
                {
                    "problem": verdict,
                    "candidate_id": e.candidate_id,
                    "centre": e.centre,
                    "unit_id": e.unit_id,
                    "question_id": e.question_id,
                    "action_id": e.action_id,
                    "server_action_id": check.last_action,
                }
            )
    return out


def _classify(check: _Check, waiting: set[str]) -> str:
    if not check.seen:
        return "lost"
    entry = check.entry
    if check.last_action == entry.action_id:
        return "stored" if check.last_digest == entry.digest else "mismatched"
    if check.last_action in waiting or check.last_digest == entry.digest:
        return "stored"  # superseded by a later answer the tablet gave (its ack never came)
    return "mismatched"


def export_records(
    target: str | JuryClient, credentials: tuple[str, str]
) -> Iterator[AnswerRecord]:
    """Every stored answer, streamed from the jury export (a broken stream resumes)."""
    jury = (
        target
        if isinstance(target, JuryClient)
        else JuryClient(target, timeout_s=EXPORT_TIMEOUT_S, credentials=credentials)
    )
    since = 0
    for attempt in range(EXPORT_ATTEMPTS):
        try:
            for line in jury.export_answers(since):
                rec = _record.decode(line)
                since = rec.seq
                yield rec
            return
        except JuryApiError as exc:
            if exc.code != UNREACHABLE:
                raise ExportError(f"the export answered {exc}") from exc
            if attempt == EXPORT_ATTEMPTS - 1:
                raise ExportError(f"the export broke after seq {since}: {exc}") from exc


class ExportError(Exception):
    """The server's export could not be read to its end."""


def reconcile_run(
    target: str, inbox: LedgerInbox, credentials: tuple[str, str] | None = None
) -> Reconciliation:
    """The run's reconciliation; ``problem`` says why when the export cannot be read."""
    if credentials is None:
        from simulator.run.master import NATIONAL_USER

        credentials = NATIONAL_USER
    try:
        return reconcile(inbox, export_records(target, credentials))
    except (
        ExportError,
        JuryApiError,
        msgspec.DecodeError,
        KeyError,
        ValueError,
    ) as exc:
        acked = inbox.acked()
        return Reconciliation(
            acked=len(acked),
            pending=len(inbox.pending()),
            problem=f"the server's answer export could not be read ({target}): {exc}",
        )


def end_of_run(
    inbox: LedgerInbox, workers: int, target: str, sleep: Callable[[float], object]
) -> Reconciliation:
    """On the master once the tablets are stopped: the ledgers gathered (this process's own
    for a local runner, else the workers', bounded wait), then reconciled with the export."""
    if not workers:
        from simulator.tablet.ledger import LEDGER

        inbox.add_ledger(LEDGER)
    elif not inbox.wait(workers, LEDGER_WAIT_S, sleep):
        got = inbox.complete()
        return Reconciliation(
            acked=len(inbox.acked()),
            pending=len(inbox.pending()),
            problem=f"the ledgers of {workers - got} of {workers} worker processes never "
            f"reached the master (within {LEDGER_WAIT_S:g} s of their stop): the answers "
            "their tablets had acknowledged cannot be checked",
        )
    try:
        return reconcile_run(target, inbox)
    except Exception as exc:  # a bug here must not cost the run its record
        return Reconciliation(problem=f"the reconciliation failed: {exc!r}")


def blame_losses(rec: Reconciliation, faults: list[FaultRun], started_at: float) -> int:
    """Each fault's ``answers_lost``: a lost (or changed) answer is put on the first
    applied fault that could have cost it, the earliest whose window closes after the
    answer was acknowledged and that touched its centre (a fault without centres touches
    them all). Returns how many losses no fault explains (the platform lost them alone).
    ``started_at``: the run's start, unix seconds (faults are in run seconds).

    Left untouched when the reconciliation was not done: nothing is known then.
    """
    if rec.problem is not None:
        return 0
    applied = sorted(
        (f for f in faults if f.applied and f.window_end_s is not None),
        key=lambda f: f.window_end_s or 0.0,
    )
    for fault in applied:
        fault.answers_lost = 0
    alone = 0
    for centre, acked_at in rec.losses:
        t = acked_at - started_at - 1.0  # the ledger keeps whole seconds, truncated
        for fault in applied:
            if (fault.window_end_s or 0.0) >= t and (not fault.centres or centre in fault.centres):
                fault.answers_lost = (fault.answers_lost or 0) + 1
                break
        else:
            alone += 1
    return alone


def summary(rec: Reconciliation) -> str:
    """One line for the run's notes."""
    if rec.problem is not None:
        return f"reconciliation: not done: {rec.problem}"
    return (
        f"reconciliation: {rec.acked:,} acknowledged answers, {rec.stored:,} on the server, "
        f"{rec.lost:,} lost, {rec.mismatched:,} with another value, {rec.pending:,} pending"
    )
