"""``vigie rehearse`` stops everything it started, Ctrl-C included."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import requests


def _cmdline(process: psutil.Process) -> str:
    # a short-lived child (a probe, a pip check) may exit between children() and cmdline()
    try:
        return " ".join(process.cmdline())
    except (psutil.ZombieProcess, psutil.NoSuchProcess, psutil.AccessDenied):
        return ""


def test_ctrl_c_stops_the_server_and_the_workers(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "vigie", "rehearse", "smoke", "--report", str(tmp_path / "r"),
            "--metrics-port", "0", "--dashboard-port", "0", "--quiet", "--workers", "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert proc.stdout is not None
    url = None
    deadline = time.monotonic() + 90
    try:
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            if m := re.search(r"exam server: (http://\S+)", line):
                url = m.group(1)
        assert url is not None, "the exam server never started"
        assert requests.get(f"{url}/healthz", timeout=5).status_code == 200
        # wait until the fleet runs (the worker process exists), then interrupt
        children: list[psutil.Process] = []
        while time.monotonic() < deadline:
            children = psutil.Process(proc.pid).children(recursive=True)
            if any("--worker" in _cmdline(c) for c in children):
                break
            time.sleep(0.2)
        time.sleep(2)
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, rest
    assert "Traceback" not in rest
    assert "interrupted" in rest
    # stdout is a pipe: the live reports are plain lines, each whole (never "cpu" / "18%")
    live = [line for line in rest.splitlines() if line.startswith("t=")]
    assert live and all(re.search(r" cpu \d+%( mem [\d,]+ MiB)?$", line) for line in live), live
    for child in children:
        with contextlib.suppress(psutil.NoSuchProcess):
            assert not child.is_running() or child.status() == psutil.STATUS_ZOMBIE
    try:
        requests.get(f"{url}/healthz", timeout=2)
        alive = True
    except requests.RequestException:
        alive = False
    assert not alive, "the exam server outlived vigie rehearse"
