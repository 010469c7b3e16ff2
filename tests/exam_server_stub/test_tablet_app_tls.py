"""Real tablets reach the server by name: HTTPS is what lets their browser decrypt a subject.

Browsers give WebCrypto and a durable IndexedDB to secure contexts only (HTTPS, or the
server's own loopback). Chromium here resolves `exam.test` to 127.0.0.1, so the page is
exactly what a faculty's iPad sees: over plain HTTP it refuses to start and says why; over
`vigie serve --tls-cert/--tls-key` it logs in, checks and keeps the encrypted subjects, and
holds its socket over WSS.
"""

from __future__ import annotations

import datetime
import ipaddress
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.exam_server_stub.chromium import ROOT, Tablet, log_in, serve
from tests.supervision_dashboard.browser import until
from vigie.testing import free_port, wait_http

pytestmark = pytest.mark.browser
HOST = "exam.test"
CANDIDATE = "AMU-00001"


def self_signed(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(HOST), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture(scope="module")
def tls_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def by_name(make_chromium: Callable[..., Any]) -> Any:
    """Chromium that reaches the server as `exam.test`, trusting the test's own certificate."""
    return make_chromium(f"--host-resolver-rules=MAP {HOST} 127.0.0.1", "--ignore-certificate-errors")  # fmt: skip


def _by_name(base: str) -> str:
    return base.replace("127.0.0.1", HOST)


@pytest.fixture(scope="module")
def plain_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(tmp_path_factory.mktemp("plain") / "exam.sqlite3", "--demo", "10") as base:
        yield base


@pytest.fixture(scope="module")
def tls_server(
    tmp_path_factory: pytest.TempPathFactory, tls_pair: tuple[Path, Path]
) -> Iterator[str]:
    db = tmp_path_factory.mktemp("tls-server") / "exam.sqlite3"
    with serve(db, "--demo", "10", tls=tls_pair) as base:
        yield base


def test_over_plain_http_by_name_the_app_refuses_and_says_why(by_name: Any, plain_server: str) -> None:  # fmt: skip
    by_name.get(_by_name(plain_server) + "/tablet/")
    t = Tablet(by_name, by_name.current_window_handle, CANDIDATE)
    until(lambda: t.screen() == "fatal", what="the refusal screen")
    assert "HTTPS" in t.find("#fatal-text").text
    assert not t.visible("#login-form")


def test_over_https_a_tablet_logs_in_keeps_its_subjects_and_holds_its_socket(
    by_name: Any, tls_server: str
) -> None:
    t = log_in(by_name, _by_name(tls_server) + "/tablet/?centre=AMU", CANDIDATE)
    until(t.subjects_ready, what="five subjects checked and kept")
    until(lambda: t.snap()["wsUp"], what="the socket over WSS")
    assert by_name.execute_script("return window.isSecureContext") is True


def test_a_certificate_without_its_key_is_refused_at_start(
    tls_pair: tuple[Path, Path], tmp_path: Path
) -> None:
    cmd = [sys.executable, "-m", "vigie", "serve", "--db", str(tmp_path / "x.sqlite3")]
    cmd += ["--tls-cert", str(tls_pair[0])]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "--tls-cert and --tls-key go together" in done.stderr
    bad = [*cmd, "--tls-key", str(tls_pair[0])]  # the certificate again: no key in it
    done = subprocess.run(bad, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "cannot load the TLS certificate" in done.stderr
    assert not (tmp_path / "x.sqlite3").exists()  # refused before anything was created


def test_a_mixed_rehearsal_serves_http_to_the_fleet_and_https_to_tablets(
    by_name: Any, tls_pair: tuple[Path, Path], tmp_path: Path
) -> None:
    plain, tls = free_port(), free_port()
    cmd = [sys.executable, "-m", "vigie", "serve", "--db", str(tmp_path / "x.sqlite3")]
    cmd += ["--demo", "10", "--port", str(plain), "--tls-port", str(tls)]
    cmd += ["--tls-cert", str(tls_pair[0]), "--tls-key", str(tls_pair[1])]
    log = tmp_path / "serve.log"
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    try:
        wait_http(f"http://127.0.0.1:{plain}/healthz", proc)  # the fleet's side
        t = log_in(by_name, f"https://{HOST}:{tls}/tablet/?centre=AMU", CANDIDATE)
        until(t.subjects_ready, what="five subjects over the HTTPS listener")
        until(lambda: t.snap()["wsUp"], what="the socket over WSS")
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(30)
    text = log.read_text()
    assert code == 0, text
    assert f"https://127.0.0.1:{tls}" in text and "Traceback" not in text
