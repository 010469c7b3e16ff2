"""The exam: candidates, units, time windows, answers, instructions and supervision rows.

Rules live here, free of HTTP: handlers parse and authenticate, then call these
methods, which raise :class:`ApiError` for anything refused. Every change is
written through the single writer (answers and jury actions awaited until their
commit) and applied in memory only after the commit succeeded, so a refused or
failed request leaves nothing half-written.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import msgspec
import orjson

from vigie import demo
from vigie.centres import Centre
from vigie.protocol import INCIDENT_STATES, CandidateState, ErrorCode, UnitState
from vigie.wire.http import AnswerResult, ExtraTimeParts, FinishResult, Me, Row, StoredAnswer
from vigie.wire.metrics import AnswerOutcome
from vigie.wire.ws import CloseUnitPush, Heartbeat, Instruction, LaunchPush, UnitInfo

from . import extra_time as extra
from . import store
from .answer_format import answer_problem
from .bootstrap import read_meta
from .errors import ApiError
from .metrics import Metrics
from .package import build_package
from .reconnects import disconnected_since, replay_connections
from .settings import ServerSettings
from .state import AnswerRec, Cand, Socket, UnitRt
from .store import Writer, connect
from .supervision import ChangeLog, HeardOrder, StateCounts

log = logging.getLogger(__name__)
PUSH_CHUNK = 500  # sockets written concurrently per step of a launch/close push
SWEEP_SLICE = 500  # candidates judged per slice of a sweep (about a millisecond)
ANSWER_OP, FINISH_OP = "answer", "finish"  # action ids are scoped per operation
# States of a connected tablet heard recently: silence moves them to late.
_FRESH = frozenset({CandidateState.IN_PROGRESS, CandidateState.PAUSED})


_ENCODE = msgspec.json.Encoder().encode
_INSTRUCTION = msgspec.json.Decoder(Instruction)


def wall_clock() -> float:
    """Unix seconds, looked up at each call (so that a patched time.time is seen too)."""
    return time.time()


def _dumps(doc: Any) -> str:
    return orjson.dumps(doc).decode()


class Exam:
    def __init__(
        self,
        settings: ServerSettings,
        centres: Sequence[Centre],
        metrics: Metrics,
        clock: Callable[[], float] = wall_clock,
    ) -> None:
        # Every rule reads this clock, never self.clock(): tests move time instead of sleeping.
        self.clock = clock
        self.settings = settings
        self.metrics = metrics
        self.centres = {c.code: c for c in centres}
        self.cands: dict[str, Cand] = {}
        self.by_centre: dict[str, list[Cand]] = {c.code: [] for c in centres}
        self.units: dict[str, UnitRt] = {}
        self.centre_extra: dict[tuple[str, str], float] = {}  # (centre, unit) -> seconds
        self.pauses: dict[str, list[list[float | None]]] = {}  # centre -> [[start, end|None]]
        # Candidates still composing the closed unit (extra time beyond the national close):
        # an index for the sweeper, which ends each one at their own deadline.
        self.overtime: set[str] = set()
        self.incident_lock = asyncio.Lock()  # incident grants, one at a time (idempotence)
        self.open_ws = 0
        self.open_by_centre: dict[str, int] = dict.fromkeys(self.centres, 0)
        # Feed cursors start at the boot time in microseconds: a cursor from a previous
        # process is below the floor and gets 410 cursor_expired, never wrong rows.
        self.cursor_floor = int(self.clock() * 1_000_000)
        self.cursor = self.cursor_floor
        self.counts = StateCounts()
        self.changes = ChangeLog()
        self.heard = HeardOrder()
        for state in CandidateState:
            # Read at scrape time from the counts: nothing to update on the hot paths.
            metrics.candidates.labels(state.value).set_function(
                functools.partial(self.counts.national.__getitem__, state.value)
            )
        self.planned_missing = extra.PlannedMissing(metrics.planned_extra_missing, self.centres)
        self.writer: Writer | None = None
        self.secret = b""
        self._load(settings.db_path)

    # --- loading -----------------------------------------------------------------------
    def _load(self, path: Path) -> None:
        conn = connect(path)
        try:
            meta = read_meta(conn)
            self.secret = bytes.fromhex(meta["secret"])
            self.seed = int(meta["seed"])
            session = demo.generate_session(self.seed)
            self.tiers_temps = extra.roster_tiers_temps(
                conn,
                meta,
                self.settings.tiers_temps_share,
                self.settings.tiers_temps_ratio,
            )
            for row in conn.execute("SELECT * FROM candidates ORDER BY rowid"):
                c = Cand(row["id"], row["centre"], row["birth_date"], row["access_code"])
                self.cands[c.id] = c
                self.by_centre.setdefault(c.centre, []).append(c)
                self.counts.add(c)
            rows = {r["id"]: r for r in conn.execute("SELECT * FROM units")}
            for unit in session.units:
                r = rows[unit.id]
                body, sha = build_package(unit, r["key"], r["nonce"])
                self.units[unit.id] = UnitRt(
                    unit, r["key"], body, sha, r["launched_at"], r["deadline"], r["closed_at"]
                )
            for r in conn.execute("SELECT * FROM extra_time ORDER BY id"):
                if r["candidate_id"] is not None:
                    c = self.cands[r["candidate_id"]]
                    c.extra[r["unit_id"]] = c.extra.get(r["unit_id"], 0.0) + r["seconds"]
                else:
                    k = (r["centre"], r["unit_id"])
                    self.centre_extra[k] = self.centre_extra.get(k, 0.0) + r["seconds"]
            for r in conn.execute("SELECT * FROM pauses ORDER BY id"):
                self.pauses.setdefault(r["centre"], []).append([r["paused_at"], r["resumed_at"]])
            for r in conn.execute("SELECT * FROM answers ORDER BY seq"):
                c = self.cands[r["candidate_id"]]
                answer = orjson.loads(r["answer"])
                c.answers.setdefault(r["unit_id"], {})[r["question_id"]] = AnswerRec(
                    answer, bool(r["final"]), r["server_ts"]
                )
                c.actions[(ANSWER_OP, r["action_id"])] = (
                    _answer_print(r["unit_id"], r["question_id"], answer, bool(r["final"])),
                    _answer_result(
                        r["action_id"],
                        r["question_id"],
                        r["server_ts"],
                        r["client_ts"],
                        r["unlocked"],
                    ),
                )
            for r in conn.execute("SELECT * FROM finishes"):
                c = self.cands[r["candidate_id"]]
                c.finished[r["unit_id"]] = r["finished_at"]
                c.actions[(FINISH_OP, r["action_id"])] = (
                    r["unit_id"],
                    FinishResult(unit_id=r["unit_id"], finished_at=r["finished_at"]),
                )
            for r in conn.execute(
                "SELECT * FROM instructions WHERE acked_at IS NULL ORDER BY created_at"
            ):
                self.cands[r["candidate_id"]].instructions[r["id"]] = _INSTRUCTION.decode(r["body"])
            replay_connections(conn, self.cands)
            extra.assign_planned(self.cands.values(), self.seed, *self.tiers_temps)
            extra.replay_extra(conn, self.cands)
        finally:
            conn.close()
        now = self.clock()
        u = self.current_unit()
        if u is not None and u.closed_at is not None:
            self.overtime = {c.id for c in self.cands.values() if self._beyond(c, u, now)}
        for c in self.cands.values():
            self.refresh(c, now)

    # --- time ----------------------------------------------------------------------------
    def current_unit(self) -> UnitRt | None:
        """The live unit, else the last one launched, else None."""
        best: UnitRt | None = None
        for u in self.units.values():
            if u.launched_at is None:
                continue
            if u.live:
                return u
            if best is None or u.launched_at > (best.launched_at or 0.0):
                best = u
        return best

    def is_paused(self, centre: str) -> bool:
        spans = self.pauses.get(centre)
        return bool(spans) and spans[-1][1] is None  # type: ignore[index]

    def paused_seconds(self, centre: str, u: UnitRt, now: float) -> float:
        if u.launched_at is None:
            return 0.0
        start, end = u.launched_at, u.closed_at or now
        total = 0.0
        for a, b in self.pauses.get(centre, ()):
            assert a is not None
            lo, hi = max(a, start), min(b if b is not None else now, end)
            if hi > lo:
                total += hi - lo
        return total

    def granted_time(self, c: Cand, u: UnitRt) -> float:
        """Extra time granted by the jury (candidate and centre), neither planned nor incident."""
        uid = u.unit.id
        return c.extra.get(uid, 0.0) + self.centre_extra.get((c.centre, uid), 0.0)

    def extra_time(self, c: Cand, u: UnitRt) -> float:
        uid = u.unit.id
        return self.granted_time(c, u) + c.planned.get(uid, 0.0) + c.incident.get(uid, 0.0)

    def planned_due(self, c: Cand, u: UnitRt) -> float:
        """The planned extra time the roster gives ``c`` on ``u`` (a share of its duration)."""
        if not c.planned_ratio or u.launched_at is None or u.deadline is None:
            return 0.0
        return c.planned_ratio * (u.deadline - u.launched_at)

    def lacks_planned(self, c: Cand, u: UnitRt | None) -> bool:
        """The deadline lacks part of the planned time (the jury's own grants may make it up)."""
        if u is None or not c.planned_ratio:
            return False
        due = self.planned_due(c, u)
        have = self.extra_time(c, u) - c.incident.get(u.unit.id, 0.0)
        return due > 0 and have < due - extra.MISSING_TOLERANCE_S

    def disconnected(self, c: Cand, u: UnitRt | None, now: float) -> float:
        """Time disconnected during ``u``: an ongoing disconnection counts up to the end of
        the candidate's own time (their finish, or their deadline before incident time:
        granting it must not lengthen what it compensates)."""
        if c.disc_since is None or u is None:
            return c.disc_total
        end = now
        deadline = self.deadline(c, u, now)
        if deadline is not None:
            end = min(end, deadline - c.incident.get(u.unit.id, 0.0))
        finished = c.finished.get(u.unit.id)
        if finished is not None:
            end = min(end, finished)
        return c.disc_total + max(0.0, end - c.disc_since)

    def proposed_incident(self, c: Cand, u: UnitRt | None, now: float) -> float:
        return extra.incident_proposal(self.disconnected(c, u, now))

    def deadline(self, c: Cand, u: UnitRt, now: float) -> float | None:
        if u.deadline is None:
            return None
        national = u.deadline + self.paused_seconds(c.centre, u, now)
        if u.closed_at is not None:
            # The close ends the national time (early, on time or late); each candidate's
            # extra time runs on after it: the tiers-temps work on after the close.
            national = min(national, u.closed_at)
        return national + self.extra_time(c, u)

    def _beyond(self, c: Cand, u: UnitRt, now: float) -> bool:
        """Still has time on the closed unit ``u`` (and has not finished it)."""
        if u.unit.id in c.finished:
            return False
        deadline = self.deadline(c, u, now)
        return deadline is not None and deadline > now

    def in_overtime(self, c: Cand, u: UnitRt, now: float) -> bool:
        return u.closed_at is not None and c.id in self.overtime and self._beyond(c, u, now)

    def running_for(self, c: Cand, u: UnitRt | None, now: float) -> bool:
        """The unit is running for this candidate: live, or closed with their time left."""
        if u is None or u.launched_at is None:
            return False
        return u.closed_at is None or self.in_overtime(c, u, now)

    def unit_json(self, c: Cand, u: UnitRt, now: float) -> UnitInfo:
        if u.closed_at is not None and not self.in_overtime(c, u, now):
            state = UnitState.CLOSED
        elif u.launched_at is not None:
            state = UnitState.LAUNCHED
        else:
            state = UnitState.SCHEDULED
        return UnitInfo(
            unit_id=u.unit.id,
            title=u.unit.title,
            kind=u.unit.kind.value,
            question_count=len(u.unit.questions),
            duration_s=(u.deadline - u.launched_at)
            if u.deadline is not None and u.launched_at is not None
            else u.unit.duration_s,
            state=state.value,
            launched_at=u.launched_at,
            deadline=self.deadline(c, u, now),
            extra_time_s=self.extra_time(c, u),
            finished=u.unit.id in c.finished,
            package_sha256=u.sha256,
        )

    def units_json(self, c: Cand, now: float) -> list[UnitInfo]:
        return [self.unit_json(c, u, now) for u in self.units.values()]

    # --- supervision -----------------------------------------------------------------
    def state_of(self, c: Cand, u: UnitRt | None, now: float) -> CandidateState:
        connected = c.ws is not None
        if u is None or u.launched_at is None:
            return CandidateState.WAITING if connected else CandidateState.NOT_CONNECTED
        uid = u.unit.id
        if u.closed_at is not None and not self.in_overtime(c, u, now):
            # What the closed unit left behind first, then who is here for the next one.
            # disc_since survives the close: set during the unit, cleared only by a
            # reconnection during it (or the next launch).
            if uid not in c.finished and c.disc_since is not None:
                return CandidateState.UNFINISHED
            if connected:
                return CandidateState.WAITING
            took_part = c.was_connected or uid in c.finished
            return CandidateState.FINISHED if took_part else CandidateState.NOT_CONNECTED
        if uid in c.finished:
            return CandidateState.FINISHED
        # Connection before pause: a paused centre's lost tablets must show as lost.
        if not connected:
            return CandidateState.LOST if c.was_connected else CandidateState.NOT_CONNECTED
        age = now - (c.last_hb or now)
        if age > self.settings.lost_after_s:
            return CandidateState.LOST
        if age > self.settings.late_after_s:
            return CandidateState.LATE
        return CandidateState.PAUSED if self.is_paused(c.centre) else CandidateState.IN_PROGRESS

    def answered_count(self, c: Cand, u: UnitRt | None) -> int:
        if u is None:
            return 0
        return len(c.answers.get(u.unit.id, ()))

    def refresh(self, c: Cand, now: float, u: UnitRt | None = None) -> None:
        """Recompute the state; a row enters the feed only when what the jury sees changed."""
        if u is None:
            u = self.current_unit()
        state = self.state_of(c, u, now)
        deadline = self.deadline(c, u, now) if u is not None else None
        lacks = self.lacks_planned(c, u)
        self.planned_missing.mark(c, lacks)
        sig = (
            state,
            self.answered_count(c, u),
            round(deadline) if deadline is not None else None,
            c.reconnects,
            c.ws is not None,
            self.is_paused(c.centre),
            lacks,
        )
        if state is not c.state:
            self.counts.move(c.centre, c.state, state)
            c.state = state
        if sig != c.sig:
            c.sig = sig
            self.cursor += 1
            c.version = self.cursor
            self.changes.touch(c)

    def row(self, c: Cand, u: UnitRt | None, now: float) -> Row:
        count = len(u.unit.questions) if u is not None else 0
        answered = self.answered_count(c, u)
        disc = self.disconnected(c, u, now)
        uid = u.unit.id if u is not None else ""
        return Row(
            id=c.id,
            centre=c.centre,
            state=c.state,
            last_hb=c.last_hb,
            unit_id=u.unit.id if u is not None else None,
            position=c.position,
            answered=answered,
            question_count=count,
            progress=answered / count if count else 0.0,
            deadline=self.deadline(c, u, now) if u is not None else None,
            extra_time_s=self.extra_time(c, u) if u is not None else 0.0,
            battery=c.battery,
            network=c.network,
            reconnects=c.reconnects,
            disconnected_s=disc,
            connected=c.ws is not None,
            paused=self.is_paused(c.centre),
            planned_extra_s=c.planned.get(uid, 0.0),
            planned_due_s=self.planned_due(c, u) if u is not None else 0.0,
            planned_missing=self.lacks_planned(c, u),
            incident_extra_s=c.incident.get(uid, 0.0),
            proposed_incident_s=extra.incident_proposal(disc),
        )

    def sweep(self, now: float) -> list[Cand]:
        """A whole sweep at once (tests, benches); the server runs :meth:`sweep_slices`."""
        silent: list[Cand] = []
        for part in self.sweep_slices(now):
            silent += part
        return silent

    def sweep_slices(self, now: float) -> Iterator[list[Cand]]:
        """Judge tablets gone quiet, a slice at a time; yields those silent past ``lost_after_s``.

        Only a connected candidate's state moves with the clock alone (in progress ->
        late -> lost), and only once it has been silent for ``late_after_s``: the
        heard order yields exactly those, so a sweep costs nothing while tablets
        heartbeat, and a candidate is refreshed only when its silence crosses the next
        threshold. Slices let the caller give the loop back to heartbeats when a whole
        network drops at once. A paused centre's rows keep the deadline of their last
        change until the resume (the row itself is computed at each read).
        """
        late_after, lost_after = self.settings.late_after_s, self.settings.lost_after_s
        u = self.current_unit()
        if self.overtime and u is not None:
            for cid in [i for i in self.overtime if not self._beyond(self.cands[i], u, now)]:
                self.overtime.discard(cid)  # their own deadline passed (or they finished)
                self.refresh(self.cands[cid], now, u)
        silent: list[Cand] = []
        for n, c in enumerate(self.heard.silent_for(late_after, now), 1):
            if c.ws is None or c.last_hb is None:
                continue  # dropped during an earlier slice: detach refreshed it
            age = now - c.last_hb
            if c.state in _FRESH or (c.state is CandidateState.LATE and age > lost_after):
                self.refresh(c, now, u)
            if age > lost_after:
                silent.append(c)
            if n % SWEEP_SLICE == 0:
                yield silent
                silent = []
                u = self.current_unit()  # a jury action may have run meanwhile
        yield silent

    # --- audit helpers -------------------------------------------------------------------
    def audit_later(self, c: Cand, kind: str, data: dict[str, Any]) -> None:
        """Connection events: committed with the next group, not awaited (never on a hot path)."""
        ts = self.clock()
        assert self.writer is not None
        self.writer.submit(
            lambda conn: store.audit(
                conn, ts, kind, "candidate", data, candidate_id=c.id, centre=c.centre
            )
        )

    async def write(self, job: Callable[[sqlite3.Connection], Any]) -> Any:
        assert self.writer is not None
        return await self.writer.run(job)

    # --- candidate flow ------------------------------------------------------------------
    def unit(self, unit_id: str) -> UnitRt:
        u = self.units.get(unit_id)
        if u is None:
            raise ApiError(ErrorCode.UNKNOWN_UNIT, f"There is no unit {unit_id!r}.")
        return u

    def check_window(self, c: Cand, u: UnitRt, now: float) -> None:
        if u.launched_at is None:
            raise ApiError(ErrorCode.UNIT_NOT_LAUNCHED, f"Unit {u.unit.id} is not launched yet.")
        if u.unit.id in c.finished:
            raise ApiError(ErrorCode.UNIT_FINISHED, f"You finished unit {u.unit.id}.")
        if u.closed_at is not None and not self.in_overtime(c, u, now):
            raise ApiError(ErrorCode.UNIT_CLOSED, f"Unit {u.unit.id} is closed.")
        if self.is_paused(c.centre):
            raise ApiError(ErrorCode.CENTRE_PAUSED, f"Centre {c.centre} is paused by the jury.")
        deadline = self.deadline(c, u, now)
        if deadline is not None and now > deadline:
            raise ApiError(
                ErrorCode.OUTSIDE_TIME_WINDOW, f"Your time for unit {u.unit.id} is over."
            )

    def question(self, c: Cand, u: UnitRt, question_id: str) -> demo.Question:
        q = self.known_question(u, question_id)
        self.check_unlocked(c, u, q)
        return q

    @staticmethod
    def known_question(u: UnitRt, question_id: str) -> demo.Question:
        q = u.unit.by_id.get(question_id)
        if q is None:
            raise ApiError(
                ErrorCode.UNKNOWN_QUESTION, f"Unit {u.unit.id} has no question {question_id!r}."
            )
        return q

    @staticmethod
    def replay(c: Cand, op: str, action_id: str, fingerprint: object) -> Any:
        """The first result of a re-sent action, None for a new one; 409 for a reused id.

        Action ids are scoped per candidate and per operation, and a replay must be the
        same request: a different request under a known id is refused, never answered
        with another request's result.
        """
        first = c.actions.get((op, action_id))
        if first is None:
            return None
        if first[0] != fingerprint:
            raise ApiError(
                ErrorCode.ACTION_ID_REUSED,
                f"Action id {action_id!r} was already used for a different {op}.",
            )
        return first[1]

    def check_unlocked(self, c: Cand, u: UnitRt, q: demo.Question) -> None:
        prev = u.unit.previous_in_dossier(q)
        if prev is not None:
            rec = c.answers.get(u.unit.id, {}).get(prev.id)
            if rec is None or not rec.final:
                raise ApiError(
                    ErrorCode.QUESTION_LOCKED,
                    f"Question {q.id} of dossier {q.dossier_id} unlocks once {prev.id} is final.",
                )

    async def answer(
        self,
        c: Cand,
        unit_id: str,
        action_id: str,
        question_id: str,
        answer: dict[str, Any],
        final: bool,
        client_ts: float,
    ) -> AnswerResult:
        arrived = time.perf_counter()
        async with c.get_lock():  # one candidate's answers are decided one at a time
            try:
                # What the request is comes first: a malformed answer is refused even under
                # a known action id. Whether it may still be stored comes after the replay
                # check, so a re-send of an acknowledged answer is acknowledged again after
                # the deadline too.
                u = self.unit(unit_id)
                q = self.known_question(u, question_id)
                problem = answer_problem(q, answer)
                if problem is not None:
                    raise ApiError(
                        ErrorCode.INVALID_ANSWER, f"Question {q.id} ({q.format}): {problem}."
                    )
                fingerprint = _answer_print(unit_id, q.id, answer, final)
                first: AnswerResult | None = self.replay(c, ANSWER_OP, action_id, fingerprint)
                if first is not None:
                    self.metrics.answers.labels(AnswerOutcome.DUPLICATE).inc()
                    return msgspec.structs.replace(first, duplicate=True)
                now = self.clock()
                self.check_unlocked(c, u, q)
                self.check_window(c, u, now)
                current = c.answers.get(unit_id, {}).get(q.id)
                progressive = q.dossier_id is not None
                if current is not None and current.final and progressive:
                    raise ApiError(
                        ErrorCode.QUESTION_FINAL, f"Question {q.id} is final and cannot change."
                    )
            except ApiError:
                self.metrics.answers.labels(AnswerOutcome.REJECTED).inc()
                raise
            nxt = u.unit.next_in_dossier(q) if final and progressive else None
            unlocked = nxt.id if nxt is not None else None
            kind = "answer" if current is None else "answer_change"
            body = _dumps(answer)

            def job(conn: sqlite3.Connection) -> None:
                conn.execute(
                    "INSERT INTO answers (candidate_id, action_id, unit_id, question_id, answer,"
                    " final, client_ts, server_ts, unlocked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (c.id, action_id, unit_id, q.id, body, final, client_ts, now, unlocked),
                )
                data: dict[str, Any] = {"unit_id": unit_id, "question_id": q.id}
                data.update(action_id=action_id, answer=answer, final=final)
                store.audit(
                    conn, now, kind, "candidate", data,
                    candidate_id=c.id, centre=c.centre, client_ts=client_ts,
                )  # fmt: skip

            await self.write(job)
            self.metrics.answer_commit.observe(time.perf_counter() - arrived)
            c.answers.setdefault(unit_id, {})[q.id] = AnswerRec(answer, final, now)
            result = _answer_result(action_id, q.id, now, client_ts, unlocked)
            c.actions[(ANSWER_OP, action_id)] = (fingerprint, result)
            self.metrics.answers.labels(AnswerOutcome.ACCEPTED).inc()
            self.refresh(c, now)
            return result

    async def finish(self, c: Cand, unit_id: str, action_id: str, client_ts: float) -> FinishResult:
        async with c.get_lock():
            u = self.unit(unit_id)
            done: FinishResult | None = self.replay(c, FINISH_OP, action_id, unit_id)
            if done is not None:
                return done
            if unit_id in c.finished:
                return FinishResult(unit_id=unit_id, finished_at=c.finished[unit_id])
            if u.launched_at is None:
                raise ApiError(ErrorCode.UNIT_NOT_LAUNCHED, f"Unit {unit_id} is not launched yet.")
            now = self.clock()

            def job(conn: sqlite3.Connection) -> None:
                conn.execute(
                    "INSERT INTO finishes (candidate_id, unit_id, action_id, finished_at)"
                    " VALUES (?, ?, ?, ?)",
                    (c.id, unit_id, action_id, now),
                )
                store.audit(
                    conn, now, "finish", "candidate", {"unit_id": unit_id, "action_id": action_id},
                    candidate_id=c.id, centre=c.centre, client_ts=client_ts,
                )  # fmt: skip

            await self.write(job)
            c.finished[unit_id] = now
            result = FinishResult(unit_id=unit_id, finished_at=now)
            c.actions[(FINISH_OP, action_id)] = (unit_id, result)
            self.refresh(c, now)
            return result

    def me(self, c: Cand, now: float) -> Me:
        return Me(
            candidate_id=c.id,
            centre=c.centre,
            units=self.units_json(c, now),
            answers={
                uid: {
                    qid: StoredAnswer(answer=r.answer, final=r.final, server_ts=r.server_ts)
                    for qid, r in per.items()
                }
                for uid, per in c.answers.items()
            },
            extra_time={
                uid: ExtraTimeParts(
                    planned_s=c.planned.get(uid, 0.0),
                    incident_s=c.incident.get(uid, 0.0),
                    granted_s=self.granted_time(c, u),
                )
                for uid, u in self.units.items()
                if u.launched_at is not None
            },
        )

    # --- websockets ----------------------------------------------------------------------
    def attach(self, c: Cand, ws: Socket, now: float) -> Socket | None:
        """Register a new socket; returns the older one it supersedes, if any."""
        old = c.ws
        u = self.current_unit()
        if u is not None and u.live:  # (the restart replay knows no overtime: neither does this)
            if c.was_connected:
                c.reconnects += 1
            c.was_connected = True
            if c.disc_since is not None:
                c.disc_total += now - c.disc_since
                c.disc_since = None
        c.ws = ws
        c.last_hb = now
        self.heard.heard(c)
        if old is None:
            self.open_ws += 1
            self.open_by_centre[c.centre] = self.open_by_centre.get(c.centre, 0) + 1
            self.metrics.ws_open.labels(c.centre).inc()
        self.refresh(c, now, u)
        return old

    def detach(self, c: Cand, ws: Socket, now: float) -> bool:
        """Forget ``ws`` if it is still the candidate's socket; False if superseded."""
        if c.ws is not ws:
            return False
        c.ws = None
        self.heard.forget(c)
        self.open_ws -= 1
        self.open_by_centre[c.centre] -= 1
        self.metrics.ws_open.labels(c.centre).dec()
        u = self.current_unit()
        if u is not None and u.live and u.unit.id not in c.finished:
            c.disc_since = disconnected_since(c.last_hb, u.launched_at, now)
        self.refresh(c, now, u)
        return True

    def heartbeat(self, c: Cand, hb: Heartbeat, now: float) -> None:
        """A tablet is alive and says where it is; no write, no histogram (the hot path)."""
        c.last_hb = now
        self.heard.heard(c)  # the sweeper looks only at the least recently heard
        c.hb_unit = hb.unit_id
        c.position = hb.position
        c.battery = hb.battery
        c.network = hb.network
        if c.state in INCIDENT_STATES:
            self.refresh(c, now)  # a late tablet that speaks again is back in progress

    async def ack_instructions(self, c: Cand, ids: list[str]) -> None:
        done = [i for i in ids if i in c.instructions]
        if not done:
            return
        now = self.clock()

        def job(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "UPDATE instructions SET acked_at = ? WHERE id = ? AND acked_at IS NULL",
                [(now, i) for i in done],
            )
            store.audit(
                conn, now, "instruction_ack", "candidate", {"ids": done},
                candidate_id=c.id, centre=c.centre,
            )  # fmt: skip

        await self.write(job)
        for i in done:
            c.instructions.pop(i, None)

    async def push(self, targets: Iterable[Cand], make: Callable[[Cand], str]) -> None:
        """Send to many sockets concurrently, in chunks, yielding to the loop between them."""
        batch: list[tuple[Socket, str]] = []
        for c in targets:
            if c.ws is not None:
                batch.append((c.ws, make(c)))
        for i in range(0, len(batch), PUSH_CHUNK):
            await asyncio.gather(
                *(_send(ws, text) for ws, text in batch[i : i + PUSH_CHUNK]), return_exceptions=True
            )

    # --- jury actions --------------------------------------------------------------------
    def targets(self, candidate_id: str | None, centre: str | None) -> list[Cand]:
        if candidate_id is not None:
            c = self.cands.get(candidate_id)
            if c is None:
                raise ApiError(
                    ErrorCode.UNKNOWN_CANDIDATE, f"There is no candidate {candidate_id!r}."
                )
            return [c]
        assert centre is not None
        self.check_centre(centre)
        return list(self.by_centre.get(centre, ()))

    def check_centre(self, centre: str) -> None:
        if centre not in self.centres:
            raise ApiError(ErrorCode.UNKNOWN_CENTRE, f"There is no centre {centre!r}.")

    async def launch(
        self,
        unit_id: str,
        duration_s: float | None,
        reason: str,
        actor: str,
        planned_dropped: frozenset[str] = frozenset(),
    ) -> UnitRt:
        """Launch ``unit_id`` everywhere, each candidate's planned extra time applied.

        ``planned_dropped``: centres whose planned extra time is forgotten (the
        ``drop_planned_extra_time`` fault): their candidates' deadlines lack it, which
        the supervision then shows as an alert.
        """
        u = self.unit(unit_id)
        if u.launched_at is not None:
            raise ApiError(ErrorCode.UNIT_ALREADY_LAUNCHED, f"Unit {unit_id} was already launched.")
        for other in self.units.values():
            if other.live:
                raise ApiError(
                    ErrorCode.UNIT_ALREADY_LAUNCHED,
                    f"Unit {other.unit.id} is still running: close it before launching {unit_id}.",
                )
        now = self.clock()
        prev = self.current_unit()
        pending = [
            c for cid in self.overtime if prev and self._beyond(c := self.cands[cid], prev, now)
        ]
        if pending and prev is not None:
            last = max(self.deadline(c, prev, now) or now for c in pending)
            raise ApiError(
                ErrorCode.UNIT_ALREADY_LAUNCHED,
                f"{len(pending)} candidate(s) still have extra time on unit {prev.unit.id},"
                f" until {time.strftime('%H:%M:%S', time.gmtime(last))} UTC.",
            )
        deadline = now + (duration_s if duration_s is not None else u.unit.duration_s)
        entitled = [c for c in self.cands.values() if c.planned_ratio]
        planned = {
            c.id: round(c.planned_ratio * (deadline - now), 3)
            for c in entitled
            if c.centre not in planned_dropped
        }
        dropped = sorted({c.centre for c in entitled if c.centre in planned_dropped})

        def job(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE units SET launched_at = ?, deadline = ? WHERE id = ?",
                (now, deadline, unit_id),
            )
            data = {"unit_id": unit_id, "deadline": deadline, "reason": reason}
            # What was applied, per candidate: a restart reads it back from here.
            data.update({extra.PLANNED_KEY: planned, extra.DROPPED_KEY: dropped})
            store.audit(conn, now, "launch", actor, data)

        await self.write(job)
        u.launched_at, u.deadline = now, deadline
        for c in entitled:
            c.planned.pop(unit_id, None)
            if c.id in planned:
                c.planned[unit_id] = planned[c.id]
        for c in self.cands.values():
            # A new unit starts every candidate's connection history afresh.
            c.was_connected = c.ws is not None
            c.disc_since, c.disc_total, c.reconnects = None, 0.0, 0
            self.refresh(c, now, u)

        def message(c: Cand) -> str:
            push = LaunchPush(unit_id=unit_id, launched_at=now, deadline=self.deadline(c, u, now))
            return _ENCODE(push).decode()

        await self.push(list(self.cands.values()), message)
        return u

    async def close_unit(
        self, unit_id: str, reason: str, actor: str, end_extra_time: bool = False
    ) -> list[dict[str, Any]]:
        """Close the national time; returns who works on after it (or who lost how much).

        A candidate with extra time keeps it: their unit ends at their own deadline.
        ``end_extra_time`` ends everyone's time now instead: each loss is written as a
        negative extra time with the reason and the juror, so it is audited, reported,
        and survives a restart.
        """
        u = self.unit(unit_id)
        if u.launched_at is None:
            raise ApiError(ErrorCode.UNIT_NOT_LAUNCHED, f"Unit {unit_id} is not launched.")
        if u.closed_at is not None:
            raise ApiError(ErrorCode.UNIT_CLOSED, f"Unit {unit_id} is already closed.")
        now = self.clock()
        u.closed_at = now  # tentatively, to compute the deadlines after the close
        try:
            beyond = [(c, self.deadline(c, u, now) or now) for c in self.cands.values()]
            beyond = [(c, d) for c, d in beyond if d > now and unit_id not in c.finished]
        finally:
            u.closed_at = None
        after: list[dict[str, Any]] = [
            {"candidate_id": c.id, "centre": c.centre, "deadline": d, "seconds": d - now}
            for c, d in beyond
        ]

        def job(conn: sqlite3.Connection) -> None:
            conn.execute("UPDATE units SET closed_at = ? WHERE id = ?", (now, unit_id))
            data: dict[str, Any] = {"unit_id": unit_id, "reason": reason}
            data["end_extra_time"] = end_extra_time
            data["overtime"] = [
                {"candidate_id": a["candidate_id"], "seconds": a["seconds"]} for a in after
            ]
            store.audit(conn, now, "close", actor, data)
            if end_extra_time:
                cut = f"extra time ended at the close: {reason}"
                conn.executemany(
                    "INSERT INTO extra_time (unit_id, candidate_id, centre, seconds, reason, actor,"
                    " ts) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(unit_id, a["candidate_id"], a["centre"], -a["seconds"], cut, actor, now) for a in after],
                )  # fmt: skip

        await self.write(job)
        u.closed_at = now
        if end_extra_time:
            for c, d in beyond:
                c.extra[unit_id] = c.extra.get(unit_id, 0.0) - (d - now)
            self.overtime = set()
        else:
            self.overtime = {c.id for c, _ in beyond}
        for c in self.cands.values():
            self.refresh(c, now, u)
        text = _ENCODE(CloseUnitPush(unit_id=unit_id, closed_at=now)).decode()
        # Tablets with time left are not told to stop: their own deadline stands.
        done = [c for c in self.cands.values() if c.id not in self.overtime]
        await self.push(done, lambda _c: text)
        return after

    async def instruct(
        self,
        cands: Sequence[Cand],
        make: Callable[[Cand, str], Instruction],
        change: Callable[[sqlite3.Connection], None],
        apply: Callable[[], None],
        now: float,
    ) -> list[Instruction]:
        """Commit a jury change, its audit and one instruction per candidate in ONE transaction.

        ``make`` builds each instruction body (with its id) before the commit, so a new
        deadline it announces is computed by the caller; ``apply`` updates memory only
        once the commit succeeded. Instructions then ride on every hb_ack until acked.
        """
        bodies = [make(c, uuid.uuid4().hex[:16]) for c in cands]

        def job(conn: sqlite3.Connection) -> None:
            change(conn)
            conn.executemany(
                "INSERT INTO instructions (id, candidate_id, body, created_at) VALUES (?, ?, ?, ?)",
                [(b.id, c.id, _ENCODE(b), now) for b, c in zip(bodies, cands, strict=True)],
            )

        await self.write(job)
        apply()
        for b, c in zip(bodies, cands, strict=True):
            c.instructions[b.id] = b
            self.refresh(c, now)
        return bodies


def _answer_print(unit_id: str, question_id: str, answer: Any, final: bool) -> tuple[Any, ...]:
    """What makes two answer requests the same request (the tablet's clock aside)."""
    return (unit_id, question_id, orjson.dumps(answer, option=orjson.OPT_SORT_KEYS), final)


def _answer_result(
    action_id: str, question_id: str, server_ts: float, client_ts: float, unlocked: str | None
) -> AnswerResult:
    return AnswerResult(
        action_id=action_id,
        question_id=question_id,
        server_ts=server_ts,
        client_ts=client_ts,
        duplicate=False,
        unlocked=unlocked,
    )


async def _send(ws: Socket, text: str) -> None:
    if not ws.closed:
        await ws.send_str(text)
