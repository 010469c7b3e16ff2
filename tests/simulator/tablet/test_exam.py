"""The exam flow against a stand-in API: a unit sat from key to finish, a locked dossier
question, answers given offline, and the finish's bounded retries."""

from __future__ import annotations

import base64
import hashlib
import os
import random
from typing import Any, cast

import gevent.event
import msgspec
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from simulator.settings import (
    FailureKind,
    FleetSettings,
    TabletFailure,
    TabletIdentity,
    ThinkTime,
)
from simulator.tablet.api import TabletApi
from simulator.tablet.backoff import Backoff, Pacer
from simulator.tablet.exam import ExamFlow
from simulator.tablet.failures import Expected, http_failure
from simulator.tablet.link import TabletLink
from simulator.tablet.offline import AnswerQueue
from simulator.tablet.state import Progress, Units
from vigie.protocol import ErrorCode, QuestionFormat, UnitState
from vigie.wire.http import (
    AnswerIn,
    AnswerResult,
    ErrorBody,
    ErrorResponse,
    Finish,
    FinishResult,
    LockedQuestion,
    PackageDoc,
    QuestionDoc,
    UnitKey,
    encoder,
)
from vigie.wire.ws import LaunchPush

UNIT = "U1"
KEY = bytes(range(32))


def question(n: int, dossier: str | None = None, index: int = 0) -> QuestionDoc:
    return QuestionDoc(
        id=f"q{n}",
        format=QuestionFormat.QRU,
        index=n,
        text="?",
        propositions=["a", "b", "c", "d"],
        dossier_id=dossier,
        dossier_index=index,
    )


QUESTIONS = [question(0), question(1, "d1", 0), question(2, "d1", 1)]


def package() -> bytes:
    items: list[dict[str, Any]] = [
        msgspec.to_builtins(QUESTIONS[0]),
        msgspec.to_builtins(QUESTIONS[1]),
        msgspec.to_builtins(LockedQuestion(id="q2", dossier_id="d1", index=1, locked=True)),
    ]
    nonce = os.urandom(12)
    plain = msgspec.json.encode(PackageDoc(unit_id=UNIT, questions=items))
    return nonce + AESGCM(KEY).encrypt(nonce, plain, UNIT.encode())


def refusal(status: int, code: str, headers: dict[str, str] | None = None) -> TabletFailure:
    body = encoder.encode(ErrorResponse(error=ErrorBody(code=code, message="no")))
    return http_failure("x", status, headers or {}, body)


class Api:
    """The candidate API of one unit; ``script`` makes given calls fail first."""

    def __init__(self) -> None:
        self.identity = TabletIdentity("C1", "AMIENS", "code", 1)
        self.calls: list[str] = []
        self.answers: list[AnswerIn] = []
        self.finishes: list[Finish] = []
        self.logins = 0
        self.script: dict[str, list[BaseException]] = {}
        self.package_body = package()

    def _fail(self, name: str) -> None:
        self.calls.append(name)
        pending = self.script.get(name)
        if pending:
            raise pending.pop(0)

    def login(self) -> None:
        self.logins += 1

    def key(self, unit_id: str) -> UnitKey:
        self._fail("key")
        key = base64.b64encode(KEY).decode()
        return UnitKey(unit_id=unit_id, key=key, launched_at=1.0, deadline=None)

    def package(self, unit_id: str) -> tuple[bytes, str | None]:
        self._fail("package")
        return self.package_body, hashlib.sha256(self.package_body).hexdigest()

    def question(self, unit_id: str, question_id: str) -> QuestionDoc:
        self._fail("question")
        assert question_id == "q2"
        return QUESTIONS[2]

    def answer(self, unit_id: str, body: AnswerIn) -> AnswerResult:
        self._fail("answer")
        dup = any(a.action_id == body.action_id for a in self.answers)
        self.answers.append(body)
        return AnswerResult(body.action_id, body.question_id, 2.0, body.client_ts, dup, None)

    def finish(self, unit_id: str, body: Finish) -> FinishResult:
        self._fail("finish")
        self.finishes.append(body)
        return FinishResult(unit_id=unit_id, finished_at=3.0)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.naps: list[float] = []

    def sleep(self, s: float) -> None:
        self.naps.append(s)
        self.now += s


Report = tuple[str, str, BaseException | None]


def flow(api: Api, reports: list[Report] | None = None) -> tuple[ExamFlow, Units, Progress, Clock]:
    cfg = FleetSettings(
        target="http://127.0.0.1:9",
        think_time=ThinkTime(median_s=0.001, sigma=0.0, min_s=0.0, max_s=0.001),
        reconnect_base_s=0.5,
        reconnect_max_s=2.0,
    )
    clock = Clock()
    sink = reports if reports is not None else []
    pacer = Pacer(
        Backoff(0.5, 2.0), sleep=clock.sleep, clock=lambda: clock.now, rng=random.Random(4)
    )
    units, progress = Units(), Progress()
    units.launched(LaunchPush(unit_id=UNIT, launched_at=1.0, deadline=None))
    queue = AnswerQueue(api.answer, api.login)
    exam = ExamFlow(
        cfg,
        cast(TabletApi, api),
        cast(TabletLink, None),
        queue,
        units,
        progress,
        lambda rtype, name, ms, n, exc: sink.append((rtype, name, exc)),
        pacer,
        gevent.event.Event(),
        lambda: False,
    )
    return exam, units, progress, clock


def test_a_unit_from_key_to_finish() -> None:
    api = Api()
    api.script["key"] = [Expected(ErrorCode.UNIT_NOT_LAUNCHED)]
    api.script["question"] = [Expected(ErrorCode.QUESTION_LOCKED)]
    exam, units, progress, _ = flow(api)
    exam.sit(UNIT)
    assert [a.question_id for a in api.answers] == ["q0", "q1", "q2"]
    assert [a.final for a in api.answers] == [False, True, True]  # dossier questions: final
    assert api.calls.count("key") == 2 and api.calls.count("question") == 2
    assert len(api.finishes) == 1
    assert exam.queue.stored == [a.action_id for a in api.answers]
    assert units.finished == [UNIT] and progress.current_unit is None


def test_answers_given_offline_are_resent_before_the_locked_question() -> None:
    api = Api()
    down = TabletFailure(FailureKind.REFUSED, "down")
    api.script["answer"] = [down, down]
    exam, _, _, _ = flow(api)
    exam.sit(UNIT)
    ids = [a.action_id for a in api.answers]
    assert len(ids) == 3 and len(set(ids)) == 3
    assert exam.queue.resent == ids[:1]  # q0: failed when given, and at the next think
    # q2 was fetched only once q1 (final) was on the server: q0 three tries, q1 one
    first_question = api.calls.index("question")
    assert api.calls[:first_question].count("answer") == 4


def test_finish_honours_retry_after_logs_in_again_and_keeps_its_action_id() -> None:
    api = Api()
    api.script["finish"] = [
        refusal(503, ErrorCode.INJECTED_FAULT, {"retry-after": "3"}),
        refusal(401, ErrorCode.TOKEN_EXPIRED),
    ]
    exam, _, _, clock = flow(api)
    exam.sit(UNIT)
    assert api.calls.count("finish") == 3 and api.logins == 1
    assert [n for n in clock.naps if n >= 1.0] == [pytest.approx(3.25, abs=0.25)]
    assert len(api.finishes) == 1


@pytest.mark.parametrize("code", [ErrorCode.UNIT_FINISHED, ErrorCode.UNIT_CLOSED])
def test_a_finish_refused_for_good_is_not_retried(code: str) -> None:
    api = Api()
    api.script["finish"] = [refusal(409, code)]
    exam, units, _, _ = flow(api)
    exam.sit(UNIT)
    assert api.calls.count("finish") == 1 and units.finished == [UNIT]


def test_finish_retries_are_bounded_in_time() -> None:
    api = Api()
    api.script["finish"] = [refusal(503, ErrorCode.INJECTED_FAULT)] * 1000
    exam, units, _, clock = flow(api)
    exam.sit(UNIT)
    assert 2 <= api.calls.count("finish") < 1000
    assert clock.now <= 4 * 2.0  # the grace: 4 * reconnect_max_s
    assert units.finished == [UNIT]


def test_a_package_that_does_not_match_its_digest_is_fetched_again() -> None:
    api = Api()
    good = api.package_body
    exam, units, _, _ = flow(api)
    units.slots[UNIT].package_sha256 = hashlib.sha256(good).hexdigest()
    api.package_body = b"\x00" * len(good)
    api.script["package"] = [TabletFailure(FailureKind.TIMEOUT, "slow")]

    calls = 0
    real = api.package

    def package(unit_id: str) -> tuple[bytes, str | None]:
        nonlocal calls
        calls += 1
        api.package_body = good if calls >= 3 else b"\x00" * len(good)
        return real(unit_id)

    api.package = package  # type: ignore[method-assign]
    assert exam.download(UNIT)[1] == good
    assert calls == 3 and units.slots[UNIT].state == UnitState.LAUNCHED


def test_a_package_that_does_not_open_is_a_protocol_failure() -> None:
    api = Api()
    api.package_body = os.urandom(12) + b"not the right ciphertext"
    reports: list[Report] = []
    exam, units, _, _ = flow(api, reports)
    exam.sit(UNIT)
    failures = [exc for _, name, exc in reports if name == "package"]
    assert [getattr(f, "kind", None) for f in failures] == [FailureKind.PROTOCOL]
    assert api.answers == [] and units.finished == [UNIT]


def test_tablets_of_one_process_hold_one_copy_of_a_package_and_drop_it_once_sat() -> None:
    first, second = Api(), Api()
    second.package_body = bytes(bytearray(first.package_body))
    a, _, _, _ = flow(first)
    b, _, _, _ = flow(second)
    assert a.download(UNIT)[1] is b.download(UNIT)[1] is first.package_body
    a.sit(UNIT)
    assert [x.question_id for x in first.answers] == ["q0", "q1", "q2"]
    assert UNIT not in a.packages and UNIT in b.packages
