"""The end of a rehearsal: the correction of what its tablets answered.

The platform corrects "in minutes" once the exam ends, and the students wait for that
part of the day; a rehearsal that stops at the close has not rehearsed it. Once the fleet
is done (the unit closed by the scripted jury), ``vigie correct`` runs on the server's
database, in its own process (millions of answer strings stay out of the master's memory),
bounded in time, and its results land next to the report. What it found is a check of the
run (``record.checks["correction"]``): the results are not the platform's capacity, so a
correction that cannot run is said, never a reason to fail the certificate.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

TIMEOUT_S = 600.0  # bench/correction.py: ~20 s for 12,000 candidates and five units
RESULTS = "results"
RANKING = "classement.html"


def correct_run(
    db: Path,
    run_dir: Path,
    units: str | Sequence[str],
    rules: Path | None = None,
    timeout_s: float = TIMEOUT_S,
) -> dict[str, Any]:
    """Correct ``units`` (one, or the run's in order) from ``db`` into ``run_dir/results`` under ``rules`` (the
    scenario's; None: vigie-edn); the findings."""
    out = run_dir / RESULTS
    ids = ",".join([units] if isinstance(units, str) else units)
    cmd = [sys.executable, "-m", "vigie", "correct", str(db), "--out", str(out), "--units", ids]
    if rules is not None:
        cmd += ["--rules", str(rules)]
    found: dict[str, Any] = {"unit_id": ids, "seconds": None, "results": None, "error": None}
    started = time.monotonic()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        found["error"] = f"the correction took over {timeout_s:.0f} s and was stopped"
        return found
    found["seconds"] = round(time.monotonic() - started, 2)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0:
        why = (proc.stderr.strip().splitlines() or lines or [f"exit {proc.returncode}"])[-1]
        found["error"] = why.removeprefix("vigie correct: ")
        return found
    found["summary"] = lines[0].removeprefix("corrected ") if lines else ""
    found["results"] = f"{RESULTS}/{RANKING}"
    return found


def describe(found: dict[str, Any]) -> str:
    """One line for the console and the report."""
    if found.get("error"):
        return f"not corrected: {found['error']}"
    return f"corrected in {found['seconds']:.1f} s: {found.get('summary', '')}"
