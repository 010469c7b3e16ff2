"""schemathesis against a real ``vigie serve``: no server error, no answer that contradicts
the document, as an anonymous client, a candidate whose unit is launched and the national jury.

All checks, positive and negative inputs, every phase (stateful included), a fixed seed. The
websocket routes are left out: they are not an HTTP API (tests/exam_server_stub/test_websocket.py).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vigie.demo import demo_counts, roster
from vigie.testing import ServerProcess

SEED = 5
DEMO = 30
pytestmark = pytest.mark.slow


def _post(url: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers)
    with urllib.request.urlopen(req, timeout=10) as r:
        doc: dict[str, Any] = json.load(r)
        return doc


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ServerProcess, dict[str, str]]]:
    db = tmp_path_factory.mktemp("fuzz") / "exam.sqlite3"
    with ServerProcess(
        db, ["--demo", str(DEMO), "--seed", str(SEED), "--log-level", "WARNING"]
    ) as srv:
        api = f"{srv.url}/api/v1"
        who = roster(demo_counts(DEMO), SEED)[0]
        cand = _post(f"{api}/login", {"candidate_id": who.candidate_id, "centre": who.centre, "access_code": who.access_code})  # fmt: skip
        jury = _post(f"{api}/jury/login", {"username": "national", "password": "national-demo"})
        _post(f"{api}/jury/units/ue1/launch", {"reason": "fuzzing"}, jury["token"])
        yield srv, {"anonymous": "", "candidate": cand["token"], "national": jury["token"]}


@pytest.mark.parametrize("caller", ["anonymous", "candidate", "national"])
def test_schemathesis_finds_nothing(
    server: tuple[ServerProcess, dict[str, str]], caller: str, tmp_path: Path
) -> None:
    srv, tokens = server
    cli = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert cli is not None, "schemathesis is a test dependency: pip install -e '.[test]'"
    config = Path(__file__).with_name("schemathesis.toml")
    cmd = [cli, "--config-file", str(config), "run", f"{srv.url}/openapi.json"]
    cmd += ["--checks", "all", "--seed", "1"]
    cmd += ["--max-examples", "25", "--workers", "1", "--no-color", "--exclude-path", "/api/v1/ws"]
    cmd += ["--exclude-path", "/api/v1/connection-test/ws"]
    cmd += ["--phases", "examples,coverage,fuzzing,stateful", "--report", "junit"]
    cmd += ["--report-dir", str(tmp_path), "--request-timeout", "10"]
    if tokens[caller]:
        cmd += ["-H", f"Authorization: Bearer {tokens[caller]}"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert srv.proc is not None and srv.proc.poll() is None, "the server died under fuzzing"
    log = srv.log.read_text(errors="replace")
    assert "Traceback" not in log and " ERROR " not in log, log[-3000:]
