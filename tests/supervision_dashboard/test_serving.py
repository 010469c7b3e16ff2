"""Exam-day serving: gunicorn, sessions on disk that survive a restart and expire, CSRF."""

from __future__ import annotations

import http.cookiejar
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from supervision_dashboard.sessions import SessionStore, secret_key
from vigie.jury_client import JuryIdentity
from vigie.testing import wait_http

ROOT = Path(__file__).resolve().parents[2]


def test_sessions_survive_a_reopen_and_expire(tmp_path: Path) -> None:
    store = SessionStore(tmp_path, ttl_s=3600, idle_s=600)
    sid = store.new(JuryIdentity("tok", "centre-AMU", "centre", "AMU"), "fr")
    again = SessionStore(tmp_path, ttl_s=3600, idle_s=600)
    found = again.get(sid)
    assert found is not None and found[0].centre == "AMU" and found[0].token == "tok"
    assert (tmp_path / "sessions.sqlite3").stat().st_mode & 0o077 == 0  # tokens: owner only
    short = SessionStore(tmp_path, ttl_s=0.0, idle_s=600)
    time.sleep(0.01)
    assert short.get(sid) is None and again.get(sid) is None  # expired, and deleted
    assert secret_key(tmp_path) == secret_key(tmp_path)  # cookies outlive a restart


def _start(server: str, port: int, state: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "vigie", "dashboard", "--server", server, "--port", str(port)]
    cmd += ["--state-dir", str(state), "--threads", "4"]
    log = (state / f"dashboard-{time.time()}.log").open("wb")
    return subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


@pytest.mark.browser  # real processes, like the browser tests
def test_a_dashboard_restart_logs_nobody_out(exam_server: str, tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    proc = _start(exam_server, port, tmp_path)
    try:
        wait_http(base + "/login", timeout_s=60)
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        with opener.open(base + "/login", timeout=10) as resp:
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', resp.read().decode())
        assert csrf
        form = {"username": "observer", "password": "observer-demo", "csrf_token": csrf[1]}
        opener.open(base + "/login", data=urllib.parse.urlencode(form).encode(), timeout=10)
        with opener.open(base + "/_dash-layout", timeout=10) as resp:
            assert resp.status == 200
        proc.terminate()
        assert proc.wait(20) == 0
        proc = _start(exam_server, port, tmp_path)
        wait_http(base + "/login", timeout_s=60)
        with opener.open(base + "/_dash-layout", timeout=10) as resp:  # same cookie
            assert resp.status == 200 and b"observer" in resp.read()
        logs = " ".join(p.read_text(errors="replace") for p in tmp_path.glob("dashboard-*.log"))
        assert "gunicorn" in logs.lower()  # not Flask's development server
    finally:
        proc.terminate()
        proc.wait(20)
