"""The processes ``vigie rehearse`` starts next to the fleet: exam server and dashboard.

Each runs as ``python -m vigie <command>`` in its own session (a Ctrl-C in the terminal
reaches us only, and we stop them in order), with its output in the run directory.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import requests

from vigie.testing import free_port

HEALTH_TIMEOUT_S = 90.0  # a fresh 11,000-candidate database takes a while to build


class ServiceError(RuntimeError):
    pass


def scenario_arguments(scenario_ref: str, overrides: Sequence[str] = ()) -> list[str]:
    """``vigie serve`` options for a scenario: the server builds its roster and knobs itself
    (``scenarios.serving``), from the same reference and overrides as the fleet."""
    return ["--scenario", scenario_ref, *[p for item in overrides for p in ("--set", item)]]


def serve_arguments(roster: Sequence[str], run_dir: Path, port: int) -> list[str]:
    """``vigie serve`` on 127.0.0.1 with its database in ``run_dir``; ``roster``: its options."""
    return [
        "serve",
        *roster,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--db",
        str(run_dir / "exam.sqlite3"),
        "--backlog",
        "4096",  # a wave opens tens of connections a second, in bursts
    ]


class Services:
    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.procs: list[tuple[str, subprocess.Popen[bytes], IO[bytes]]] = []
        self._server_args: list[str] = []
        self._server_url = ""
        # Fault control (POST /api/v1/operator/faults) for this run only.
        self.operator_token = secrets.token_urlsafe(24)

    def _spawn(self, name: str, args: list[str], append: bool = False) -> subprocess.Popen[bytes]:
        mode = "ab" if append else "wb"  # a restarted server's log follows the crashed one's
        log = open(self.run_dir / f"{name}.log", mode)  # noqa: SIM115 (closed in stop())
        extra = {"VIGIE_OPERATOR_TOKEN": self.operator_token} if name == "server" else {}
        proc = subprocess.Popen(
            [sys.executable, "-m", "vigie", *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **extra},
        )
        self.procs.append((name, proc, log))
        return proc

    def start_server(self, scenario_ref: str, overrides: Sequence[str] = (), port: int = 0) -> str:
        """``vigie serve --scenario scenario_ref`` on 127.0.0.1; its URL once it answers."""
        return self.start_serve(scenario_arguments(scenario_ref, overrides), port)

    def start_serve(self, roster: Sequence[str], port: int = 0) -> str:
        """``vigie serve`` with other roster options (``--demo N``...); its URL once it answers."""
        port = port or free_port()
        self._server_args = serve_arguments(roster, self.run_dir, port)
        proc = self._spawn("server", self._server_args)
        url = f"http://127.0.0.1:{port}"
        self._wait_healthy("exam server", proc, f"{url}/healthz")
        self._server_url = url
        return url

    def crash_server(self, down_s: float) -> str:
        """The ``server_crash`` fault: SIGKILL the exam server (no shutdown, no last
        commit), wait ``down_s``, start it again on the same port and database."""
        found = [(i, p) for i, (name, p, _) in enumerate(self.procs) if name == "server"]
        if not found:
            raise ServiceError("no exam server to crash")
        i, proc = found[-1]
        proc.kill()
        proc.wait()
        self.procs[i][2].close()
        del self.procs[i]
        time.sleep(down_s)
        started = time.monotonic()
        again = self._spawn("server", self._server_args, append=True)
        self._wait_healthy("exam server", again, f"{self._server_url}/healthz")
        return (
            f"kill -9, restarted after {down_s:g} s, answered in {time.monotonic() - started:.1f} s"
        )

    def start_dashboard(self, target: str, port: int) -> str | None:
        proc = self._spawn("dashboard", ["dashboard", "--server", target, "--port", str(port)])
        url = f"http://127.0.0.1:{port}/"
        try:
            self._wait_healthy("dashboard", proc, url, timeout=30.0)
        except ServiceError as exc:
            # The fleet and the report do not need the dashboard: say so and go on.
            print(f"supervision dashboard not started: {exc}", file=sys.stderr)
            return None
        return url

    def _wait_healthy(
        self, what: str, proc: subprocess.Popen[bytes], url: str, timeout: float = HEALTH_TIMEOUT_S
    ) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ServiceError(
                    f"the {what} exited with status {proc.returncode}; see {self.run_dir}"
                )
            try:
                if requests.get(url, timeout=2.0).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise ServiceError(f"the {what} did not answer {url} within {timeout:.0f} s")

    def stop(self) -> None:
        """Stop in reverse order: dashboard first, the server (and its database) last."""
        for _name, proc, log in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
            try:
                proc.wait(timeout=15.0)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
        self.procs.clear()
