"""Fixtures for the mixin tests: promtool/prometheus binaries and the fake exposition.

promtool and prometheus come from the Debian package ``prometheus``. Locally a missing
binary skips with the reason; with CI=true it fails, because CI must run these checks.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import start_http_server

from dashboards.testing import FakeExposition
from vigie.testing import free_port


def _binary(name: str) -> str:
    path = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
    if path is None:
        message = f"{name} not found: install the Debian package 'prometheus'"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def promtool() -> str:
    return _binary("promtool")


@pytest.fixture(scope="session")
def prometheus_bin() -> str:
    return _binary("prometheus")


@pytest.fixture
def fake_exposition() -> Iterator[tuple[FakeExposition, str, str]]:
    """(exposition, server host:port, fleet host:port), moving for at most 5 minutes."""
    fake = FakeExposition()
    fake.tick()
    server_port, fleet_port = free_port(), free_port()
    httpd_s, _ = start_http_server(server_port, addr="127.0.0.1", registry=fake.server)
    httpd_f, _ = start_http_server(fleet_port, addr="127.0.0.1", registry=fake.fleet)
    thread = threading.Thread(target=fake.run, args=(300.0,), daemon=True)
    thread.start()
    try:
        yield fake, f"127.0.0.1:{server_port}", f"127.0.0.1:{fleet_port}"
    finally:
        fake.stop()
        thread.join(timeout=5)
        httpd_s.shutdown()
        httpd_f.shutdown()
