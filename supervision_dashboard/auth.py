"""Login, logout and language: plain Flask routes in front of the Dash app.

The login form posts to Flask, not to a Dash callback, so the password and the
token never travel through Dash's JSON; every other route needs a session.
"""

from __future__ import annotations

import hmac
import html
import secrets
from urllib.parse import urlparse

import flask
from werkzeug.wrappers import Response

from supervision_dashboard.context import AppContext
from supervision_dashboard.i18n import LANGS, t
from vigie.jury_client import UNREACHABLE, JuryApiError

# Paths a logged-out browser may fetch: the login page and Dash's static files.
PUBLIC_PREFIXES = ("/login", "/lang/", "/_dash-component-suites/", "/assets/", "/_favicon")

_FORM = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<title>{title}</title><style>
body{{font-family:system-ui,sans-serif;background:#f3f5f8;display:flex;justify-content:center;margin-top:8em}}
form{{background:#fff;padding:2em 2.5em;border-radius:8px;box-shadow:0 1px 4px #0002;min-width:280px}}
label{{display:block;margin-top:1em;font-size:.9em}} input{{width:100%;padding:.4em;margin-top:.2em}}
button{{margin-top:1.5em;padding:.5em 1.5em}} .err{{color:#b00020;margin-top:1em}} a{{font-size:.8em}}
</style></head><body><form method="post" action="/login">
<h2>{title}</h2>
<label>{username}<input id="username" name="username" autocomplete="username" required></label>
<label>{password}<input id="password" name="password" type="password" required></label>
<input type="hidden" name="next" value="{next}">
<input type="hidden" name="csrf_token" value="{csrf}">
<button id="login-button" type="submit">{login}</button>
<div class="err" id="login-error">{error}</div>
<p><a href="/lang/{other}?next=/login">{switch}</a></p>
</form></body></html>"""


def _safe_next(value: str | None) -> str:
    # Only local paths: never bounce a juror to another site after login.
    if not value or not value.startswith("/") or value.startswith("//") or urlparse(value).netloc:
        return "/"
    return value


def csrf_token() -> str:
    """The login form's token, bound to this browser's (signed) cookie."""
    token = flask.session.get("csrf")
    if not isinstance(token, str):
        token = flask.session["csrf"] = secrets.token_urlsafe(16)
    return token


def login_page(ctx: AppContext, error: str = "", next_: str = "/") -> str:
    lang = ctx.lang()
    return _FORM.format(
        csrf=html.escape(csrf_token()),
        lang=lang,
        title=html.escape(t("title", lang)),
        username=html.escape(t("username", lang)),
        password=html.escape(t("password", lang)),
        login=html.escape(t("login", lang)),
        error=html.escape(error),
        next=html.escape(_safe_next(next_)),
        other="en" if lang == "fr" else "fr",
        switch=html.escape(t("language", lang)),
    )


def install(server: flask.Flask, ctx: AppContext) -> None:
    @server.before_request
    def _require_login() -> Response | tuple[str, int] | None:
        path = flask.request.path
        if path.startswith(PUBLIC_PREFIXES) or ctx.session() is not None:
            return None
        if flask.request.method == "GET" and not path.startswith("/_dash"):
            return flask.redirect("/login?next=" + flask.request.full_path.rstrip("?"))
        # Dash's JSON endpoints: a clear 401, the page reloads to the login form.
        return flask.jsonify({"error": {"code": "unauthenticated", "message": "log in first"}}), 401  # type: ignore[return-value]

    @server.route("/login", methods=["GET", "POST"])
    def _login() -> Response | str | tuple[str, int]:
        lang = ctx.lang()
        if flask.request.method == "GET":
            return login_page(ctx, next_=flask.request.args.get("next", "/"))
        form = flask.request.form
        expected = flask.session.get("csrf")
        # A login posted from another site (or a stale form) is refused before any check.
        if not isinstance(expected, str) or not hmac.compare_digest(
            expected, form.get("csrf_token", "")
        ):
            return login_page(ctx, t("csrf_failed", lang), form.get("next", "/")), 400
        username, password = form.get("username", ""), form.get("password", "")
        try:
            sid = ctx.login(username, password, lang)
        except JuryApiError as exc:
            msg = t("server_unreachable" if exc.code == UNREACHABLE else "bad_credentials", lang)
            status = 502 if exc.code == UNREACHABLE else 401
            return login_page(ctx, msg, form.get("next", "/")), status
        flask.session.clear()  # a new cookie for the new session (no fixation)
        flask.session.permanent = True
        flask.session["sid"] = sid
        flask.session["lang"] = lang
        return flask.redirect(_safe_next(form.get("next")))

    @server.route("/logout")
    def _logout() -> Response:
        ctx.logout(flask.session.get("sid"))
        flask.session.pop("sid", None)
        return flask.redirect("/login")

    @server.route("/lang/<lang>")
    def _lang(lang: str) -> Response:
        if lang in LANGS:
            flask.session["lang"] = lang
            ctx.set_lang(lang)
        return flask.redirect(_safe_next(flask.request.args.get("next")))
