"""The tablet app's static files: served from the package, revalidated, fenced by a CSP."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from exam_server_stub.tablet_routes import APP_DIR, load_assets

from .conftest import Client, error_code

MakeClient = Callable[..., Awaitable[Client]]


async def test_the_app_is_served_at_tablet_with_its_files(make_client: MakeClient) -> None:
    client = await make_client()
    page = await client.get("/tablet/")
    assert page.status == 200
    assert page.content_type == "text/html"
    html = await page.text()
    assert 'src="app.js"' in html and 'href="app.css"' in html
    for name, media in (("app.js", "text/javascript"), ("app.css", "text/css")):
        resp = await client.get(f"/tablet/{name}")
        assert resp.status == 200, name
        assert resp.content_type == media
        assert await resp.read() == (APP_DIR / name).read_bytes()


async def test_tablet_without_slash_redirects(make_client: MakeClient) -> None:
    client = await make_client()
    resp = await client.get("/tablet", allow_redirects=False)
    assert resp.status == 308
    assert resp.headers["Location"] == "/tablet/"


async def test_the_page_may_talk_to_this_server_only(make_client: MakeClient) -> None:
    client = await make_client()
    resp = await client.get("/tablet/")
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


async def test_a_tablet_revalidates_with_the_etag(make_client: MakeClient) -> None:
    client = await make_client()
    first = await client.get("/tablet/app.js")
    etag = first.headers["ETag"]
    again = await client.get("/tablet/app.js", headers={"If-None-Match": etag})
    assert again.status == 304
    assert await again.read() == b""
    assert first.headers["Cache-Control"] == "no-cache"  # an upgraded app reaches every tablet


@pytest.mark.parametrize(
    "name", ["nothing.js", "..%2fapp.py", "%2e%2e%2fsettings.py", "APP.JS", "tablet_routes.py"]
)
async def test_only_the_apps_own_files_are_served(make_client: MakeClient, name: str) -> None:
    client = await make_client()
    resp = await client.get(f"/tablet/{name}")
    assert resp.status == 404
    assert await error_code(resp) == "not_found"


def test_only_named_kinds_of_file_are_loaded(tmp_path: Path) -> None:
    for name, body in (("index.html", b"<p>"), ("notes.txt", b"x"), (".hidden.js", b"x")):
        (tmp_path / name).write_bytes(body)
    assets: dict[str, Any] = load_assets(tmp_path)
    assert list(assets) == ["index.html"]
    assert assets["index.html"].content_type.startswith("text/html")
