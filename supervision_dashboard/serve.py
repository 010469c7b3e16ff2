"""Exam-day serving: the Dash app under gunicorn, not Flask's development server.

One worker process on purpose: the feed (one poll of the exam server per second,
shared by every juror) and the grids built once per feed version live in that
process; threads serve the jurors' requests concurrently. Sessions are on disk
(``sessions.py``), so restarting the dashboard logs nobody out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication


class DashboardServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, make_app: Callable[[], Any], options: dict[str, Any]) -> None:
        self._make_app = make_app
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self._make_app()


def serve(make_app: Callable[[], Any], host: str, port: int, threads: int) -> None:
    options = {
        "bind": f"{host}:{port}",
        "workers": 1,
        "worker_class": "gthread",
        "threads": threads,
        "timeout": 60,
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "info",
    }
    DashboardServer(make_app, options).run()
