"""``vigie grafana push`` against a tiny recording HTTP server that answers like Grafana."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from dashboards import cli
from dashboards.boards import all_dashboards
from vigie.testing import free_port


@dataclass
class FakeGrafana:
    folders: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200  # answer to every dashboard POST
    requests: list[tuple[str, str, dict[str, str], Any]] = field(default_factory=list)


def handler_for(state: FakeGrafana) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _record(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            state.requests.append((self.command, self.path, dict(self.headers), body))
            return body

        def do_GET(self) -> None:
            self._record()
            if self.path.startswith("/api/folders"):
                self._answer(200, state.folders)
            else:
                self._answer(404, {"message": "not found"})

        def do_POST(self) -> None:
            body = self._record()
            if self.path == "/api/folders":
                folder = {"id": 7, "uid": "f-new", "title": body["title"]}
                state.folders.append(folder)
                self._answer(200, folder)
            elif self.path == "/api/dashboards/db":
                if state.status != 200:
                    self._answer(state.status, {"message": "invalid API key"})
                    return
                uid = body["dashboard"]["uid"]
                self._answer(
                    200, {"status": "success", "uid": uid, "url": f"/d/{uid}/x", "version": 1}
                )
            else:
                self._answer(404, {"message": "not found"})

    return Handler


@pytest.fixture
def grafana() -> Iterator[tuple[FakeGrafana, str]]:
    state = FakeGrafana()
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler_for(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def test_push_creates_the_folder_and_overwrites_every_dashboard(
    grafana: tuple[FakeGrafana, str], capsys: pytest.CaptureFixture[str]
) -> None:
    state, url = grafana
    assert cli.main(["push", "--url", url, "--token", "glsa_T", "--folder", "ECNp 2027"]) == 0
    posts = [r for r in state.requests if r[0] == "POST"]
    assert posts[0][1] == "/api/folders" and posts[0][3] == {"title": "ECNp 2027"}
    boards = [r for r in posts if r[1] == "/api/dashboards/db"]
    assert sorted(b[3]["dashboard"]["uid"] for b in boards) == sorted(
        board["uid"] for board in all_dashboards().values()
    )
    for _, _, headers, body in boards:
        assert headers["Authorization"] == "Bearer glsa_T"
        assert body["overwrite"] is True and body["folderUid"] == "f-new"
        assert body["dashboard"]["id"] is None
        expected = next(
            b for b in all_dashboards().values() if b["uid"] == body["dashboard"]["uid"]
        )
        assert body["dashboard"]["panels"] == expected["panels"]
    out = capsys.readouterr().out
    assert out.count("pushed vigie-") == len(all_dashboards())


def test_push_reuses_an_existing_folder(grafana: tuple[FakeGrafana, str]) -> None:
    state, url = grafana
    state.folders.append({"id": 3, "uid": "f-old", "title": "vigie"})
    assert cli.main(["push", "--url", url, "--token", "T"]) == 0
    assert not [r for r in state.requests if r[:2] == ("POST", "/api/folders")]
    boards = [r[3] for r in state.requests if r[1] == "/api/dashboards/db"]
    assert boards and {b["folderUid"] for b in boards} == {"f-old"}


def test_a_refused_token_is_a_clear_error_not_a_traceback(
    grafana: tuple[FakeGrafana, str], capsys: pytest.CaptureFixture[str]
) -> None:
    state, url = grafana
    state.folders.append({"id": 3, "uid": "f-old", "title": "vigie"})
    state.status = 401
    assert cli.main(["push", "--url", url, "--token", "bad"]) == 1
    err = capsys.readouterr().err
    assert "Grafana refused (HTTP 401)" in err


def test_an_unreachable_grafana_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    assert cli.main(["push", "--url", url, "--token", "T", "--timeout", "2"]) == 1
    assert f"cannot reach {url}" in capsys.readouterr().err
