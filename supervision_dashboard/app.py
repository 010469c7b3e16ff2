"""The Dash application: header, router, the pages' callbacks, Flask login in front."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from dash import Dash, Input, Output, dcc, html

from supervision_dashboard import auth
from supervision_dashboard.acks import AckBook
from supervision_dashboard.context import AppContext, JurySession
from supervision_dashboard.i18n import DEFAULT_LANG, t
from supervision_dashboard.pages import (
    actions,
    candidate,
    centre,
    conntest,
    header,
    national,
    national_banner,
    replace,
    report,
    results,
    units,
)
from supervision_dashboard.sessions import DEFAULT_IDLE_S, DEFAULT_TTL_S, SessionStore, secret_key
from vigie.protocol import JuryRole

log = logging.getLogger(__name__)
ASSETS = Path(__file__).parent / "assets"
DEFAULT_REFRESH_MS = 1500


def _header(session: JurySession) -> Any:
    lang = session.lang
    ident = session.identity
    role = t(f"role_{ident.role}", lang) + (f" · {ident.centre}" if ident.centre else "")
    links: list[Any] = []
    if session.scope is None:
        links.append(dcc.Link(t("national_view", lang), href="/", id="nav-national"))
    else:
        links.append(
            dcc.Link(t("centre_view", lang), href=f"/centre/{session.scope}", id="nav-centre")
        )
    links.append(dcc.Link(t("report", lang), href="/report", id="nav-report"))
    if ident.role == JuryRole.NATIONAL:
        links.append(dcc.Link(t("results", lang), href="/results", id="nav-results"))
    links.append(dcc.Link(t("connection_test", lang), href=conntest.PATH, id="nav-conntest"))
    other = "en" if lang == "fr" else "fr"
    links.append(html.A(t("language", lang), href=f"/lang/{other}?next=/", id="nav-lang"))
    links.append(html.A(t("logout", lang), href="/logout", id="nav-logout"))
    return html.Header(
        [
            html.H1(t("title", lang)),
            html.Span(
                [html.B(ident.username, id="whoami"), " — ", html.Span(role, id="role")],
                className="who",
            ),
            html.Nav(links),
            html.Div(
                [
                    dcc.Input(
                        id="search",
                        type="search",
                        placeholder=t("search_placeholder", lang),
                        debounce=True,
                        autoComplete="off",
                        style={"width": "14em"},
                    ),
                    html.Div(id="search-results", className="search-results"),
                ],
                className="search",
            ),
            html.Span(id="status", className="status"),
        ]
    )


def route(ctx: AppContext, session: JurySession, path: str) -> Any:
    parts = [unquote(p) for p in path.strip("/").split("/") if p]
    if not parts:
        if session.scope is None:
            return national.layout(ctx, session)
        return centre.layout(ctx, session, session.scope)
    head, rest = parts[0], parts[1:]
    if head == "centre" and len(rest) == 1:
        return centre.layout(ctx, session, rest[0])
    if head == "candidate" and len(rest) == 1:
        return candidate.layout(ctx, session, rest[0])
    if head == "results" and not rest:
        return results.layout(ctx, session)
    if head == "connection-test" and not rest:
        return conntest.layout(ctx, session)
    if head == "report" and len(rest) <= 1:
        return report.layout(ctx, session, rest[0] if rest else None)
    return html.Div(t("not_found", session.lang), className="error", id="not-found")


def create_app(
    server_url: str,
    lang: str = DEFAULT_LANG,
    feed_interval_s: float = 1.0,
    refresh_ms: int = DEFAULT_REFRESH_MS,
    state_dir: Path | None = None,
    session_ttl_s: float = DEFAULT_TTL_S,
) -> tuple[Dash, AppContext]:
    """The app; with ``state_dir``, sessions, alert acknowledgements and the cookie key
    live on disk (a restart keeps them)."""
    sessions = SessionStore(
        state_dir, ttl_s=session_ttl_s, idle_s=min(DEFAULT_IDLE_S, session_ttl_s)
    )
    ctx = AppContext(server_url, lang, feed_interval_s, sessions, AckBook(state_dir))
    ctx.refresh_ms = refresh_ms
    app = Dash(
        __name__,
        title=t("title", lang),
        assets_folder=str(ASSETS),
        suppress_callback_exceptions=True,
        update_title="",
    )
    server = app.server
    server.secret_key = secret_key(state_dir)
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(seconds=session_ttl_s),
    )
    auth.install(server, ctx)
    report.install_exports(server, ctx)
    results.install_documents(server, ctx)
    conntest.install_export(server, ctx)

    def serve_layout() -> Any:
        session = ctx.session()
        if session is None:
            return html.Div(html.A(t("login", ctx.lang()), href="/login"))
        return html.Div(
            [
                dcc.Location(id="url", refresh="callback-nav"),
                dcc.Interval(id="app-tick", interval=refresh_ms),
                dcc.Store(id="ack-store"),
                _header(session),
                html.Div(id="feed-banner", className="feed-banner", role="alert"),
                html.Main(id="page"),
            ]
        )

    app.layout = serve_layout

    @app.callback(Output("page", "children"), Input("url", "pathname"))
    def _route(path: str | None) -> Any:
        session = ctx.session()
        if session is None:
            return html.A(t("login", ctx.lang()), href="/login")
        try:
            return route(ctx, session, path or "/")
        except Exception:  # a page that fails says so instead of a blank screen and a 500
            log.exception("page %s failed", path)
            return html.Div(t("page_failed", session.lang), className="error", id="page-failed")

    header.register(app, ctx, refresh_ms)
    national.register(app, ctx)
    national_banner.register(app, ctx)
    centre.register(app, ctx)
    candidate.register(app, ctx)
    actions.register(app, ctx)
    results.register(app, ctx)
    units.register(app, ctx)
    replace.register(app, ctx)
    return app, ctx
