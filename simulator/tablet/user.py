"""One tablet assembled from its rooms, and the Locust user that plays it."""

from __future__ import annotations

import contextlib
from typing import Any

import gevent
import gevent.event
from locust import User, task
from locust.exception import StopUser

from simulator import settings as fleet
from simulator.record import OP_HEARTBEAT
from simulator.settings import FleetSettings, TabletFailure
from vigie.wire.http import LoginOk
from vigie.wire.ws import CloseUnitPush, Instruction, LaunchPush, Welcome

from .api import Reporter, TabletApi
from .backoff import Backoff, Pacer
from .beats import BEATS
from .exam import ExamFlow
from .failures import Stopped
from .link import TabletLink
from .offline import AnswerQueue, Pending
from .state import Instructions, Progress, Units


class Tablet:
    """One exam tablet, independent of Locust (``report`` is how it tells the outside
    world about every operation): wires the HTTP API, the socket, the offline queue and
    the exam flow together, and routes what the server pushes (a :class:`~.link.Listener`)."""

    __slots__ = (
        "api",
        "cfg",
        "exam",
        "identity",
        "instructions",
        "link",
        "progress",
        "queue",
        "stopping",
        "units",
        "wake",
    )

    def __init__(
        self,
        cfg: FleetSettings,
        identity: fleet.TabletIdentity,
        report: Reporter,
        *,
        http: Any = None,
    ) -> None:
        self.cfg = cfg
        self.identity = identity
        self.stopping = False
        self.units = Units()
        self.progress = Progress()
        self.instructions = Instructions(self.progress, self.units)
        self.wake = gevent.event.Event()
        pacer = Pacer(Backoff(cfg.reconnect_base_s, cfg.reconnect_max_s), sleep=gevent.sleep)
        self.api = TabletApi(cfg, identity, report, pacer, self._stopping, http)
        self.api.on_login = self._logged_in
        self.queue = AnswerQueue(self.api.answer, self.api.login)
        self.link = TabletLink(cfg, self.api, report, pacer, self.progress, self, self._stopping)
        self.exam = ExamFlow(
            cfg,
            self.api,
            self.link,
            self.queue,
            self.units,
            self.progress,
            report,
            pacer,
            self.wake,
            self._stopping,
        )

    def _stopping(self) -> bool:
        return self.stopping

    def run(self) -> None:
        with contextlib.suppress(Stopped):
            self.exam.run()

    def shutdown(self) -> None:
        """Close the socket (counted exactly once) and stop every background activity."""
        self.stopping = True
        self.link.close()
        self.wake.set()

    def _logged_in(self, doc: LoginOk) -> None:
        self.link.interval = doc.heartbeat_interval_s
        self.units.merge(doc.units)

    # --- what the server pushes (hub callbacks: never block) ------------------------------
    def on_welcome(self, msg: Welcome) -> None:
        self.units.merge(msg.units)
        self.wake.set()

    def on_launch(self, msg: LaunchPush) -> None:
        self.units.launched(msg)
        self.wake.set()

    def on_close_unit(self, msg: CloseUnitPush) -> None:
        self.units.ended.add(msg.unit_id)
        self.wake.set()

    def on_instructions(self, items: list[Instruction]) -> list[str]:
        ids = self.instructions.carry_out(items)
        self.wake.set()
        return ids

    def on_link_change(self) -> None:
        self.wake.set()

    # --- what tests and drivers read --------------------------------------------------------
    @property
    def finished_units(self) -> list[str]:
        return self.units.finished

    @property
    def sent_actions(self) -> list[str]:
        """Action ids of the answers the server holds (a duplicate: true counts)."""
        return self.queue.stored

    @property
    def resent(self) -> list[str]:
        return self.queue.resent

    @property
    def offline(self) -> list[Pending]:
        """Answers not on the server yet, oldest first."""
        return list(self.queue.pending)

    @property
    def acked(self) -> list[str]:
        return self.link.acked

    @property
    def reconnects(self) -> int:
        return self.link.reconnects


class TabletUser(User):
    """A Locust user per tablet: reads :func:`simulator.settings.current` and takes the
    next identity of the roster (stops at once when the roster is exhausted)."""

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        self.tablet: Tablet | None = None
        BEATS.bind_locust(environment)

    def _report(
        self, rtype: str, name: str, ms: float, length: int, exc: BaseException | None
    ) -> None:
        if exc is None and name == OP_HEARTBEAT:
            BEATS.add(rtype, name, ms, length)  # counted in bulk: see .beats
            return
        self.environment.events.request.fire(
            request_type=rtype,
            name=name,
            response_time=ms,
            response_length=length,
            exception=exc,
            context=None,
        )

    @task
    def sit_the_exam(self) -> None:
        identity = fleet.next_identity()
        if identity is None:
            raise StopUser()
        self.tablet = Tablet(fleet.current(), identity, self._report)
        try:
            self.tablet.run()
        except TabletFailure:
            # refused for good (bad credentials, ...), reported already; not raised to
            # Locust, which would run this task again with the next identity
            pass
        finally:
            self.tablet.shutdown()
        raise StopUser()

    def on_stop(self) -> None:
        if self.tablet is not None:
            self.tablet.shutdown()
