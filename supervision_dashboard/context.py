"""What every page and callback of one dashboard process shares: sessions, feeds, memory.

The juror's token lives here, server-side, keyed by a random session id; the browser
only holds that id in Flask's signed, HttpOnly session cookie, so the jury token
never reaches the page's JavaScript nor any callback's JSON.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import flask
from dash import dcc

from supervision_dashboard.acks import AckBook
from supervision_dashboard.feed import Feed, FeedRegistry
from supervision_dashboard.i18n import DEFAULT_LANG
from supervision_dashboard.sessions import SessionStore
from supervision_dashboard.units import UnitBook
from vigie.jury_client import JuryClient, JuryIdentity
from vigie.protocol import JuryRole


@dataclass
class JurySession:
    identity: JuryIdentity
    lang: str = DEFAULT_LANG
    created: float = field(default_factory=time.time)

    @property
    def scope(self) -> str | None:
        """The feed this juror reads: their centre for a centre juror, else national."""
        return self.identity.centre if self.identity.role == JuryRole.CENTRE else None

    def may_see(self, centre: str | None) -> bool:
        return self.scope is None or centre == self.scope

    def may_act_on(self, centre: str | None) -> bool:
        role = self.identity.role
        if role == JuryRole.NATIONAL:
            return True
        return role == JuryRole.CENTRE and centre is not None and centre == self.identity.centre


SESSION_RECHECK_S = 30.0  # a cached session is checked against the store this often


class ViewMemory:
    """What each open page was last sent, so the next refresh sends only the difference."""

    def __init__(self, capacity: int = 512) -> None:
        self._data: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.capacity = capacity

    def get(self, key: str) -> dict[str, Any]:
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                entry = self._data[key] = {}
                while len(self._data) > self.capacity:
                    self._data.popitem(last=False)
            else:
                self._data.move_to_end(key)
            return entry


class AppContext:
    def __init__(
        self,
        server_url: str,
        lang: str = DEFAULT_LANG,
        feed_interval_s: float = 1.0,
        sessions: SessionStore | None = None,
        acks: AckBook | None = None,
    ) -> None:
        self.server_url = server_url.rstrip("/")
        self.default_lang = lang
        self.feeds = FeedRegistry(self.server_url, feed_interval_s, acks)
        self.memory = ViewMemory()
        self.refresh_ms = 1500  # each page's own refresh timer (set by create_app)
        self.store = sessions or SessionStore()
        self.units = UnitBook()  # the session's units, as the national jury controls them
        # In front of the store: most requests of a session never touch the disk.
        self._sessions: dict[str, tuple[JurySession, float]] = {}
        self._lock = threading.Lock()

    def login(self, username: str, password: str, lang: str) -> str:
        identity = JuryClient(self.server_url).login(username, password)
        sid = self.adopt(JurySession(identity, lang))
        self.feeds.ensure(
            identity.token, identity.centre if identity.role == JuryRole.CENTRE else None
        )
        return sid

    def adopt(self, session: JurySession) -> str:
        """Record a session (a login; tests and benchmarks that build one); returns its id."""
        sid = self.store.new(session.identity, session.lang)
        with self._lock:
            self._sessions[sid] = (session, time.monotonic())
        return sid

    def logout(self, sid: str | None) -> None:
        with self._lock:
            self._sessions.pop(sid or "", None)
        self.store.delete(sid or "")

    def session(self) -> JurySession | None:
        """The juror behind the current Flask request, if logged in (and not expired)."""
        sid = flask.session.get("sid")
        if not isinstance(sid, str):
            return None
        now = time.monotonic()
        with self._lock:
            hit = self._sessions.get(sid)
        if hit is not None and now - hit[1] < SESSION_RECHECK_S:
            return hit[0]
        found = self.store.get(sid)  # after a restart, or to see whether it expired
        if found is None:
            with self._lock:
                self._sessions.pop(sid, None)
            return None
        identity, lang, created = found
        session = hit[0] if hit is not None else JurySession(identity, lang, created)
        with self._lock:
            self._sessions[sid] = (session, now)
        if hit is None:
            self.feeds.ensure(identity.token, session.scope)
        return session

    def set_lang(self, lang: str) -> None:
        session = self.session()
        sid = flask.session.get("sid")
        if session is not None and isinstance(sid, str):
            session.lang = lang
            self.store.set_lang(sid, lang)

    def timer(self, timer_id: str, every: int = 1) -> Any:
        """A page's own refresh timer.

        Each page's callbacks listen to their page's timer only: a callback listening to
        a timer that every page has would fire on pages without its outputs, and the
        browser's Dash renderer then fails the refresh batch (blank counts).
        """
        return dcc.Interval(id=timer_id, interval=self.refresh_ms * every)

    def feed_for(self, session: JurySession) -> Feed:
        return self.feeds.ensure(session.identity.token, session.scope)

    def client_for(self, session: JurySession) -> JuryClient:
        return JuryClient(self.server_url, session.identity.token)

    def lang(self) -> str:
        s = self.session()
        if s is not None:
            return s.lang
        value = flask.session.get("lang")
        return value if isinstance(value, str) else self.default_lang
