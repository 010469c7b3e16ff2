"""The offline queue: kept answers, re-sends with the same ids, what counts as stored."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from simulator.settings import FailureKind, TabletFailure
from simulator.tablet.failures import Expected, http_failure
from simulator.tablet.offline import AnswerQueue, Flush
from vigie.protocol import ErrorCode
from vigie.wire.http import AnswerIn, AnswerResult, ErrorBody, ErrorResponse, encoder

Outcome = Callable[[AnswerIn], AnswerResult]


def answer(n: int) -> AnswerIn:
    return AnswerIn(
        action_id=f"A{n}",
        question_id=f"q{n}",
        answer={"choices": [0]},
        final=False,
        client_ts=1.0,
    )


def ok(duplicate: bool = False) -> Outcome:
    def send(body: AnswerIn) -> AnswerResult:
        return AnswerResult(
            action_id=body.action_id,
            question_id=body.question_id,
            server_ts=2.0,
            client_ts=body.client_ts,
            duplicate=duplicate,
            unlocked=None,
        )

    return send


def refused(status: int, code: str) -> Outcome:
    def send(body: AnswerIn) -> AnswerResult:
        raw = encoder.encode(ErrorResponse(error=ErrorBody(code=code, message="no")))
        raise http_failure("POST answers", status, {}, raw)

    return send


def offline(body: AnswerIn) -> AnswerResult:
    raise TabletFailure(FailureKind.REFUSED, "connection refused")


def paused(body: AnswerIn) -> AnswerResult:
    raise Expected(ErrorCode.CENTRE_PAUSED)


class Server:
    """Answers each send with the next scripted outcome; records what was sent."""

    def __init__(self, *script: Outcome) -> None:
        self.script = list(script)
        self.sent: list[tuple[str, AnswerIn]] = []
        self.logins = 0

    def send(self, unit_id: str, body: AnswerIn) -> AnswerResult:
        self.sent.append((unit_id, body))
        return self.script.pop(0)(body)

    def login(self) -> None:
        self.logins += 1

    def queue(self) -> AnswerQueue:
        return AnswerQueue(self.send, self.login)


def test_answers_are_sent_in_order_and_stored() -> None:
    srv = Server(ok(), ok())
    q = srv.queue()
    q.add("u1", answer(1))
    q.add("u1", answer(2))
    assert q.flush() is Flush.EMPTY
    assert [b.action_id for _, b in srv.sent] == ["A1", "A2"]
    assert q.stored == ["A1", "A2"] and not q.resent and len(q) == 0


def test_offline_answers_are_kept_and_resent_with_the_same_action_ids() -> None:
    srv = Server(offline, offline, ok(), ok())
    q = srv.queue()
    q.add("u1", answer(1))
    assert q.flush() is Flush.OFFLINE
    q.add("u1", answer(2))  # given while offline: waits behind the first
    assert q.flush() is Flush.OFFLINE
    assert len(q) == 2 and q.stored == []
    assert q.flush() is Flush.EMPTY
    ids = [b.action_id for _, b in srv.sent]
    assert ids == ["A1", "A1", "A1", "A2"]  # the first is never overtaken
    assert srv.sent[0][1] is srv.sent[2][1]  # the very same request, not a new one
    assert q.stored == ["A1", "A2"] and q.resent == ["A1"]


def test_a_resend_answered_duplicate_counts_as_stored() -> None:
    # committed on the server, but the connection broke before the 200 came back
    srv = Server(offline, ok(duplicate=True))
    q = srv.queue()
    q.add("u1", answer(1))
    q.flush()
    assert q.flush() is Flush.EMPTY
    assert q.stored == ["A1"] and q.duplicates == ["A1"] and q.resent == ["A1"]


def test_action_id_reused_is_a_bug_never_retried() -> None:
    srv = Server(refused(409, ErrorCode.ACTION_ID_REUSED), ok())
    q = srv.queue()
    q.add("u1", answer(1))
    q.add("u1", answer(2))
    assert q.flush() is Flush.EMPTY
    assert q.bugs == ["A1"] and q.stored == ["A2"]
    assert [b.action_id for _, b in srv.sent] == ["A1", "A2"]  # A1 sent once only
    assert q.flush() is Flush.EMPTY and len(srv.sent) == 2


@pytest.mark.parametrize(
    ("status", "code"),
    [(409, ErrorCode.UNIT_CLOSED), (409, ErrorCode.OUTSIDE_TIME_WINDOW), (422, "invalid_answer")],
)
def test_other_refusals_drop_the_answer_for_good(status: int, code: str) -> None:
    srv = Server(refused(status, code), ok())
    q = srv.queue()
    q.add("u1", answer(1))
    q.add("u1", answer(2))
    assert q.flush() is Flush.EMPTY
    assert q.dropped == ["A1"] and q.stored == ["A2"] and not q.bugs


def test_server_errors_keep_the_answer() -> None:
    srv = Server(refused(503, ErrorCode.INJECTED_FAULT), refused(500, "internal"), ok())
    q = srv.queue()
    q.add("u1", answer(1))
    assert q.flush() is Flush.OFFLINE
    assert q.flush() is Flush.OFFLINE
    assert q.flush() is Flush.EMPTY
    assert q.stored == ["A1"] and q.resent == ["A1"]


def test_a_paused_centre_keeps_the_answer_and_says_so() -> None:
    srv = Server(paused, ok())
    q = srv.queue()
    q.add("u1", answer(1))
    assert q.flush() is Flush.PAUSED
    assert len(q) == 1
    assert q.flush() is Flush.EMPTY and q.stored == ["A1"]


def test_an_expired_token_logs_in_again_once_per_flush() -> None:
    srv = Server(refused(401, ErrorCode.TOKEN_EXPIRED), ok())
    q = srv.queue()
    q.add("u1", answer(1))
    assert q.flush() is Flush.EMPTY
    assert srv.logins == 1 and q.stored == ["A1"] and not q.resent
    # a server refusing every token does not make the tablet spin: kept for later
    srv.script = [refused(401, ErrorCode.UNAUTHENTICATED)] * 2
    q.add("u1", answer(2))
    assert q.flush() is Flush.OFFLINE
    assert srv.logins == 2 and len(q) == 1


def test_flush_stops_when_the_tablet_stops() -> None:
    srv = Server()
    q = srv.queue()
    q.add("u1", answer(1))
    assert q.flush(stop=lambda: True) is Flush.OFFLINE
    assert srv.sent == [] and len(q) == 1


def test_each_answer_goes_to_its_own_unit() -> None:
    srv = Server(offline, ok(), ok())
    q = srv.queue()
    q.add("u1", answer(1))
    q.flush()
    q.add("u2", answer(2))
    q.flush()
    assert [(u, b.action_id) for u, b in srv.sent] == [("u1", "A1"), ("u1", "A1"), ("u2", "A2")]
