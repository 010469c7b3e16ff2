"""``./dev``: a fresh machine's first words are vigie's, not the installer's."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def fake_checkout(tmp_path: Path, pip_exit: int) -> Path:
    """``dev`` and ``pyproject.toml`` next to a virtualenv whose pip talks like setuptools."""
    shutil.copy(ROOT / "dev", tmp_path / "dev")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    scripts = {
        "python": (
            "#!/bin/sh\n"
            "echo 'SetuptoolsDeprecationWarning: License classifiers are deprecated.' >&2\n"
            "echo '!!' >&2\n"
            f"[ {pip_exit} = 0 ] || echo 'ERROR: No matching distribution found for locust==9' >&2\n"
            f"exit {pip_exit}\n"
        ),
        "vigie": '#!/bin/sh\necho "vigie $*"\n',
    }
    for name, text in scripts.items():
        path = bin_dir / name
        path.write_text(text)
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return tmp_path


def dev(checkout: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(checkout / "dev"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHON": sys.executable},
    )


def test_first_run_says_what_it_does_and_keeps_the_installer_quiet(tmp_path: Path) -> None:
    checkout = fake_checkout(tmp_path, pip_exit=0)
    proc = dev(checkout, "rehearse", "smoke")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout + proc.stderr
    assert out.startswith("setting up vigie (first run, about a minute)...\n")
    assert "Warning" not in out and "!!" not in out
    assert "vigie rehearse smoke" in proc.stdout
    assert "SetuptoolsDeprecationWarning" in (checkout / ".venv" / "install.log").read_text()
    again = dev(checkout, "rehearse", "smoke")  # installed: starts at once, says nothing
    assert again.stdout == "vigie rehearse smoke\n" and again.stderr == ""


def test_a_failed_install_shows_the_installers_error(tmp_path: Path) -> None:
    checkout = fake_checkout(tmp_path, pip_exit=1)
    proc = dev(checkout, "rehearse")
    assert proc.returncode == 1
    assert "setting up vigie (first run" in proc.stdout
    assert "the install failed" in proc.stderr
    assert "ERROR: No matching distribution found for locust==9" in proc.stderr
    assert "install.log" in proc.stderr
    assert not list((checkout / ".venv").glob(".installed-*"))


def test_a_pin_change_says_so(tmp_path: Path) -> None:
    checkout = fake_checkout(tmp_path, pip_exit=0)
    assert dev(checkout, "rehearse").returncode == 0
    os.utime(checkout / ".venv" / ".installed-", (1, 1))  # pyproject.toml is newer
    again = dev(checkout, "rehearse")
    assert again.stdout.startswith("updating vigie's dependencies (pyproject.toml changed)...\n")
    assert "Warning" not in again.stdout + again.stderr
