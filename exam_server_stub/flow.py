"""The candidate's flow: the unit's window, questions unlocked in order, answers, finishes.

The fourth layer of :class:`~exam_server_stub.exam.Exam`. Validation comes first, then the
replay of a re-sent action (ids scoped per candidate and operation), then the window;
an answer is acknowledged only once its commit succeeded, and memory changes after it.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import msgspec
import orjson

from vigie import demo
from vigie.protocol import AuditKind, ErrorCode
from vigie.wire.http import AnswerResult, ExtraTimeParts, FinishResult, Me, StoredAnswer
from vigie.wire.metrics import AnswerOutcome

from . import queries
from .answer_format import answer_problem
from .errors import ApiError
from .sockets import Sockets
from .state import AnswerRec, Cand, UnitRt

ANSWER_OP, FINISH_OP = "answer", "finish"  # action ids are scoped per operation


def _dumps(doc: Any) -> str:
    return orjson.dumps(doc).decode()


class CandidateFlow(Sockets):
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
        if self.own_pause(c):
            raise ApiError(ErrorCode.CANDIDATE_PAUSED, "The jury paused your exam.")
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
                fingerprint = answer_print(unit_id, q.id, answer, final)
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
            kind = AuditKind.ANSWER if current is None else AuditKind.ANSWER_CHANGE
            body = _dumps(answer)

            def job(conn: sqlite3.Connection) -> None:
                queries.insert_answer(
                    conn, c.id, action_id, unit_id, q.id, body, final, client_ts, now, unlocked
                )
                data: dict[str, Any] = {"unit_id": unit_id, "question_id": q.id}
                data.update(action_id=action_id, answer=answer, final=final)
                queries.audit(
                    conn, now, kind, "candidate", data,
                    candidate_id=c.id, centre=c.centre, client_ts=client_ts,
                )  # fmt: skip

            await self.write(job)
            self.metrics.answer_commit.observe(time.perf_counter() - arrived)
            c.answers.setdefault(unit_id, {})[q.id] = AnswerRec(answer, final, now)
            c.last_answer = (unit_id, now)
            result = answer_result(action_id, q.id, now, client_ts, unlocked)
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
                queries.insert_finish(conn, c.id, unit_id, action_id, now)
                queries.audit(
                    conn, now, AuditKind.FINISH, "candidate", {"unit_id": unit_id, "action_id": action_id},
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


def answer_print(unit_id: str, question_id: str, answer: Any, final: bool) -> tuple[Any, ...]:
    """What makes two answer requests the same request (the tablet's clock aside)."""
    return (unit_id, question_id, orjson.dumps(answer, option=orjson.OPT_SORT_KEYS), final)


def answer_result(
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
