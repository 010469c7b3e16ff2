"""Helpers for tests and benches that run the real thing: a free port, a ``vigie serve`` process.

Shipped with the package so that a faculty's or an integrator's own tests can start a real
exam server the same way vigie's do.
"""

from __future__ import annotations

import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType


def free_port(host: str = "127.0.0.1") -> int:
    """A port free now (someone may take it before it is used: callers retry)."""
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def wait_http(
    url: str,
    proc: subprocess.Popen[bytes] | None = None,
    timeout_s: float = 90.0,
    context: ssl.SSLContext | None = None,
) -> None:
    """Until ``url`` answers (any status below 400); RuntimeError if ``proc`` exits first,
    TimeoutError past ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2, context=context):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout_s:.0f} s")


def wait_healthy(
    url: str, timeout_s: float = 30.0, proc: subprocess.Popen[bytes] | None = None
) -> bool:
    """True once ``url``/healthz answers 200; False if ``proc`` exits first; raises past the timeout."""
    try:
        wait_http(f"{url}/healthz", proc, timeout_s)
    except RuntimeError:
        return False
    return True


def wait_for(
    what: str,
    check: Callable[[], object],
    timeout_s: float,
    show: Callable[[], object] | None = None,
) -> float:
    """Poll ``check`` until it is true (bounded); the seconds it took. AssertionError,
    naming ``what`` (and what ``show`` returns then), past ``timeout_s``."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        if check():
            return time.monotonic() - start
        time.sleep(0.2)
    seen = f"; {show()}" if show is not None else ""
    raise AssertionError(f"timed out waiting for {what} ({timeout_s:g} s){seen}")


class ServerProcess:
    """``vigie serve`` on 127.0.0.1 and a free port, its log in a file next to the database."""

    def __init__(self, db: Path, args: Sequence[str] = ()) -> None:
        self.db = db
        self.args = list(args)
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = db.with_suffix(".log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, attempts: int = 3) -> ServerProcess:
        # The port was free when picked; on a shared machine someone may take it first,
        # so a start that fails on "address in use" tries again on another port.
        for _ in range(attempts):
            cmd = [sys.executable, "-m", "vigie", "serve", "--host", "127.0.0.1"]
            cmd += ["--port", str(self.port), "--db", str(self.db), *self.args]
            # Logs go to a file: an undrained pipe could fill up and stall the server.
            with self.log.open("ab") as log:
                self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
            if wait_healthy(self.url, proc=self.proc):
                return self
            err = self.log.read_text(errors="replace")
            if "address already in use" not in err.lower():
                raise RuntimeError(f"vigie serve exited at start:\n{err[-2000:]}")
            self.port = free_port()
        raise RuntimeError(f"vigie serve found no free port in {attempts} attempts")

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 30.0) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=timeout_s)

    def close(self) -> None:
        """Kill it if it still runs (a test that failed midway)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
