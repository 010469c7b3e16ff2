"""``report.json``: the verdict for machines (CI gates, dashboards, the next run)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from simulator.certify.verdict import Verdict

REPORT_JSON = "report.json"


def write_json(verdict: Verdict, report_dir: Path) -> Path:
    path = report_dir / REPORT_JSON
    _atomic_write(path, json.dumps(verdict.to_json(), indent=2, allow_nan=False) + "\n")
    return path


def _atomic_write(path: Path, text: str) -> None:
    # A reader (CI, a browser refreshing) never sees half a report.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; reports are shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
