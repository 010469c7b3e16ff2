"""Judging the deadlines the run found on the server (``record.checks["extra_time"]``,
filled by :func:`simulator.run.extra_time.check_extra_time`): 2019 and 2023."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _centres(finding: Mapping[str, Any]) -> str:
    by = finding.get("by_centre") or {}
    top = sorted(by.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    more = f" and {len(by) - 5} more" if len(by) > 5 else ""
    return ", ".join(f"{c} {n:,}" for c, n in top) + more


def extra_time_problems(findings: Mapping[str, Any]) -> list[str]:
    """Reasons for the verdict; empty when every deadline holds what it must."""
    if findings.get("error"):
        return [f"extra time could not be checked: {findings['error']}"]
    out: list[str] = []
    missing = findings.get("planned_missing") or {}
    if missing.get("count"):
        out.append(
            f"planned extra time (tiers-temps) missing from {missing['count']:,} candidate(s)' "
            f"deadline ({_centres(missing)})"
        )
    short = findings.get("disconnected_not_covered") or {}
    if short.get("count"):
        out.append(
            f"{short['count']:,} candidate(s)' deadline does not include their time "
            f"disconnected during the unit ({_centres(short)})"
        )
    return out
