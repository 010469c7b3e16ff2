"""The exam as a candidate sits it: units one after the other, think, answer, finish.

Runs in the Locust user's greenlet and blocks (HTTP calls, think times). It knows
nothing of sockets: :class:`~.link.TabletLink` keeps the websocket up on its own, the
jury's instructions land in :class:`~.state.Progress` and :class:`~.state.Units`, and
``wake`` is set whenever something the flow waits for may have changed. Every answer's
action id comes from the process's :class:`~.ledger.Ledger`, which the queue books each
acknowledgement in (the end-of-run reconciliation reads it).
"""

from __future__ import annotations

import base64
import hashlib
import random
import time
import uuid
from collections.abc import Callable

import gevent.event
import msgspec
from cryptography.exceptions import InvalidTag

from simulator import record
from simulator.settings import FailureKind, FleetSettings, TabletFailure
from simulator.think import answer_keys, make_answer, skill_of, think_seconds
from vigie.wire.http import Answer, AnswerIn, Finish, LockedQuestion, QuestionDoc, UnitKey

from .api import Reporter, TabletApi
from .backoff import Attempt, Pacer
from .failures import HTTP, Expected, Stopped, Verdict, retry_after, verdict
from .ledger import LEDGER, Ledger
from .link import TabletLink
from .offline import AnswerQueue, Flush
from .packages import PACKAGES, PackageStore
from .state import Progress, Units

#: one copy and one decryption per tablet: what sharing saves (bench/fleet_memory.py)
UNSHARED = PackageStore(shared=False)

#: Between units, ``wake`` brings every change the flow waits for (the launch push, the
#: welcome after a reconnect, an instruction, a link change); this wake-up is only a
#: safety net. At 30 s, 12,000 waiting tablets woke 400 times a second for nothing: a
#: sixth of the Python time sampled in ``bench/fleet_heartbeat.py``'s steady state.
IDLE_WAKE_S = 300.0
#: ... unless answers wait in the offline queue: they are tried again this often.
RETRY_WAKE_S = 30.0


class ExamFlow:
    """Sits the candidate's units in order (one Locust greenlet, blocking calls)."""

    __slots__ = (
        "api",
        "cfg",
        "ledger",
        "link",
        "pacer",
        "packages",
        "progress",
        "queue",
        "report",
        "skill",
        "stopping",
        "store",
        "units",
        "wake",
    )

    def __init__(
        self,
        cfg: FleetSettings,
        api: TabletApi,
        link: TabletLink,
        queue: AnswerQueue,
        units: Units,
        progress: Progress,
        report: Reporter,
        pacer: Pacer,
        wake: gevent.event.Event,
        stopping: Callable[[], bool],
        ledger: Ledger | None = None,
    ) -> None:
        self.cfg = cfg
        self.ledger = LEDGER if ledger is None else ledger
        if queue.ledger is None:
            queue.bind(self.ledger, api.identity.candidate_id, api.identity.centre)
        self.api = api
        self.link = link
        self.queue = queue
        self.units = units
        self.progress = progress
        self.report = report
        self.pacer = pacer
        self.wake = wake
        self.stopping = stopping
        self.store = PACKAGES if cfg.share_packages else UNSHARED
        self.packages: dict[str, tuple[str, bytes]] = {}  # unit -> (sha256, the store's body)
        self.skill = skill_of(cfg.seed, api.identity.candidate_id, cfg.cohort)

    def run(self) -> None:
        """From login to the last unit; raises Stopped when the tablet stops first."""
        self.api.login()
        if self.cfg.predownload:
            for uid in list(self.units.order):
                if not self.units.done(uid) and not self.units.slots[uid].standing_by:
                    self.download(uid)
        self.link.connect()
        while not self.stopping():
            todo = self.units.next_todo()
            if todo is None:
                return
            if self.units.is_launched(todo):
                self.sit(todo)
            else:
                self.flush()
                self.wake.clear()
                self.wake.wait(RETRY_WAKE_S if self.queue.pending else IDLE_WAKE_S)

    # --- retrying ----------------------------------------------------------------------
    def _settle(self, exc: TabletFailure, attempt: Attempt) -> bool:
        """After a failed call: True to try again after the backoff (logged in again first
        for a 401; a 503's Retry-After honoured), False when retrying cannot help."""
        what = verdict(exc)
        if what is Verdict.RELOGIN:
            self.api.login()
            return True
        if what is Verdict.RETRY:
            attempt.retry_after = retry_after(exc)
            return True
        return False

    def download(self, unit_id: str) -> tuple[str, bytes]:
        """The encrypted package and its sha256, checked against X-Vigie-Sha256 and the
        unit's digest; the body kept is the process's one copy (:mod:`.packages`)."""
        for attempt in self.pacer.attempts(stop=self.stopping):
            try:
                body, announced = self.api.package(unit_id)
            except TabletFailure as exc:
                if not self._settle(exc, attempt):
                    raise
                continue
            digest = hashlib.sha256(body).hexdigest()
            expected = {announced, self.units.slots[unit_id].package_sha256} - {None}
            if expected and expected != {digest}:
                failure = TabletFailure(FailureKind.PROTOCOL, f"package {unit_id} digest mismatch")
                self.report(HTTP, record.OP_PACKAGE, 0, len(body), failure)
                continue
            kept = self.packages[unit_id] = (digest, self.store.keep(digest, body))
            return kept
        raise Stopped()

    # --- one unit ------------------------------------------------------------------------
    def over(self, unit_id: str) -> bool:
        deadline = self.progress.deadline
        return (
            self.stopping()
            or unit_id in self.units.ended
            or (deadline is not None and time.time() >= deadline)
        )

    def sit(self, unit_id: str) -> None:
        """Sit one launched unit: key, questions, answers, finish."""
        progress = self.progress
        progress.enter(unit_id)
        key = self._fetch_key(unit_id)
        if key is None:
            self._leave(unit_id)
            return
        progress.deadline = key.deadline
        digest, package = self.packages.get(unit_id) or self.download(unit_id)
        try:
            questions = self.store.open(digest, package, base64.b64decode(key.key), unit_id)
        except (InvalidTag, msgspec.DecodeError, ValueError) as exc:
            failure = TabletFailure(FailureKind.PROTOCOL, f"package {unit_id}: {exc!r}")
            self.report(HTTP, record.OP_PACKAGE, 0, len(package), failure)
            self._leave(unit_id)
            return
        todo = max(0, min(len(questions), round(len(questions) * self.cfg.answer_fraction)))
        for i, item in enumerate(questions[:todo]):
            if not self._think(unit_id):
                break
            progress.position = i
            question = self._unlock(unit_id, item) if isinstance(item, LockedQuestion) else item
            if question is None:
                break
            self.queue.add(
                unit_id,
                AnswerIn(
                    action_id=self.ledger.new_action_id(),
                    question_id=question.id,
                    answer=msgspec.to_builtins(self._answer(question)),
                    final=question.dossier_id is not None,
                    client_ts=time.time(),
                ),
            )
            self.flush()
            progress.answered += 1
            if random.random() < 0.002:
                progress.battery = max(5, progress.battery - 1)
        self._finish(unit_id)
        self._leave(unit_id)

    def _answer(self, question: QuestionDoc) -> Answer:
        if not self.skill:
            return make_answer(question)
        return make_answer(
            question, key=answer_keys(self.cfg.seed).get(question.id), skill=self.skill
        )

    def _fetch_key(self, unit_id: str) -> UnitKey | None:
        for attempt in self.pacer.attempts(stop=lambda: self.over(unit_id)):
            try:
                return self.api.key(unit_id)
            except Expected as exc:  # not launched yet
                attempt.retry_after = exc.retry_after
            except TabletFailure as exc:
                if not self._settle(exc, attempt):
                    return None
        return None

    def _unlock(self, unit_id: str, stub: LockedQuestion) -> QuestionDoc | None:
        """A locked dossier question, fetched once its predecessor is on the server."""
        for attempt in self.pacer.attempts(stop=lambda: self.over(unit_id)):
            if self.flush() is not Flush.EMPTY:
                continue  # the previous answer must be stored first
            try:
                return self.api.question(unit_id, stub.id)
            except Expected as exc:  # still locked, or the centre is paused
                attempt.retry_after = exc.retry_after
            except TabletFailure as exc:
                if not self._settle(exc, attempt):
                    return None
        return None

    def _finish(self, unit_id: str) -> None:
        if unit_id in self.units.ended and self.units.is_closed(unit_id):
            return
        body = Finish(action_id=uuid.uuid4().hex, client_ts=time.time())
        grace = 4 * self.cfg.reconnect_max_s
        for attempt in self.pacer.attempts(stop=self.stopping, max_elapsed_s=grace):
            self.flush()
            try:
                self.api.finish(unit_id, body)
                return
            except TabletFailure as exc:
                if not self._settle(exc, attempt):
                    return  # closed or already finished: nothing more to do

    def _leave(self, unit_id: str) -> None:
        self.packages.pop(unit_id, None)  # sat: a real tablet wipes its subject
        self.progress.enter(None)
        self.units.finished.append(unit_id)

    # --- waiting -------------------------------------------------------------------------
    def flush(self) -> Flush:
        """Re-send the offline answers; a paused centre pauses the candidate."""
        outcome = self.queue.flush(self.stopping)
        if outcome is Flush.PAUSED:
            self.progress.paused = True  # the resume instruction will come
        return outcome

    def _wait(self, until: float, interrupt: Callable[[], bool]) -> bool:
        """Sleep until wall-clock ``until``; False when ``interrupt()`` came first."""
        while not interrupt():
            left = until - time.time()
            if left <= 0:
                return True
            self.wake.clear()
            self.wake.wait(left)
        return False

    def _think(self, unit_id: str) -> bool:
        """Think, then wait out a pause; False once the unit is over."""
        until = time.time() + think_seconds(self.cfg.think_time, self.cfg.time_compression)
        if not self._wait(until, lambda: self.over(unit_id)):
            return False
        while self.progress.paused and not self.over(unit_id):
            self.wake.clear()
            self.wake.wait(1.0)
        self.flush()
        return not self.over(unit_id)
