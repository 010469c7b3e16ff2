"""A dead feed looks dead, and a refusal reads as French words, never as a Python repr."""

from __future__ import annotations

import time

from supervision_dashboard.feed import Feed
from supervision_dashboard.pages.common import error_text, feed_banner, status_line
from vigie.jury_client import JuryApiError, JuryClient


def test_banner_appears_past_two_missed_refreshes_only() -> None:
    feed = Feed("http://127.0.0.1:9", "token", interval_s=1.0)  # never started
    feed.state.server_ts = 1737449970.0
    feed.last_ok = time.monotonic() - 2.0
    assert feed_banner(feed, 1.5, "fr") is None
    feed.last_ok = time.monotonic() - 12.0
    text = feed_banner(feed, 1.5, "fr")
    assert text is not None and "interrompu depuis 12 s" in text and "09:59:30" in text
    feed.last_ok, feed.started = None, time.monotonic() - 30
    assert feed_banner(feed, 1.5, "fr") == "Serveur d'examen injoignable : aucune donnée reçue."


def test_an_unreachable_server_never_shows_a_repr() -> None:
    client = JuryClient("http://127.0.0.1:9", "token", timeout_s=0.5)  # nothing listens
    try:
        client.incidents()
    except JuryApiError as exc:
        err = exc
    else:
        raise AssertionError("port 9 answered")
    assert "object at 0x" in err.message or "Connection" in err.message  # the log keeps it
    assert error_text(err, "fr") == "Serveur d'examen injoignable."
    feed = Feed("http://127.0.0.1:9", "token")
    feed.last_error = err.message
    assert "0x" not in status_line(feed, "fr")


def test_server_refusals_in_french() -> None:
    english = JuryApiError(409, "centre_paused", "Centre CAEN is already paused.")
    assert error_text(english, "fr") == "Le centre est déjà suspendu."
    odd = JuryApiError(409, "something_new", "Some English sentence.")
    assert error_text(odd, "fr") == "Refusé par le serveur (code something_new)."
    assert "Some English sentence." in error_text(odd, "en")
