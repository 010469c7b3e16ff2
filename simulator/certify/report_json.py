"""``report.json``: the verdict for machines (CI gates, dashboards, the next run)."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from simulator.certify.verdict import Verdict

REPORT_JSON = "report.json"


def write_json(verdict: Verdict, report_dir: Path) -> Path:
    path = report_dir / REPORT_JSON
    document = _finite(verdict.to_json())
    _atomic_write(path, json.dumps(document, indent=2, allow_nan=False) + "\n")
    return path


def _finite(value: Any) -> Any:
    """NaN and infinities (a scrape can carry them) become null: strict JSON for every reader."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


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
