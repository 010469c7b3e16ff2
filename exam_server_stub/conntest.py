"""The Monday connection test's domain: the test package, what makes a tablet ready, and the
figures per centre (docs/connection-test.md). Pure functions of reports: no clock, no I/O.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from vigie.wire.conntest import CentreResult, ConnectionTestReport, TabletResult

PROBES = 20
SLOWEST = 5
# Ready means the exam will work as it is meant to: the package arrives intact in well under
# a minute, nearly every heartbeat is answered, and answered well inside late_after_s.
MAX_DOWNLOAD_S = 60.0
MAX_RTT_P95_MS = 1000.0
MIN_ANSWERED = 0.9


@dataclass(frozen=True)
class SamplePackage:
    body: bytes
    sha256: str


def sample_package(seed: int, size: int) -> SamplePackage:
    """Deterministic bytes of a real unit's size; random-looking, so that no proxy or
    compression on the way makes the download look faster than the exam's would be."""
    body = hashlib.shake_256(f"vigie-conntest-package-{seed}".encode()).digest(size)
    return SamplePackage(body, hashlib.sha256(body).hexdigest())


def probe_interval(heartbeat_interval_s: float) -> float:
    """At the exam's heartbeat interval or faster, so the test takes at most half a minute."""
    return min(heartbeat_interval_s, 1.0)


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest rank: a value that was measured (no interpolation between two tablets)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def tablet_result(
    centre: str, tablet: str, reported_at: float, r: ConnectionTestReport, expected_sha256: str
) -> TabletResult:
    download_s = r.download_ms / 1000
    mbps = r.download_bytes * 8 / 1e6 / download_s if download_s > 0 else 0.0
    rtt_p95 = percentile(r.rtt_ms, 95)
    answered = len(r.rtt_ms)
    sha_ok = r.package_sha256.lower() == expected_sha256
    problems = []
    if not sha_ok:
        problems.append("paquet reçu altéré ou incomplet")
    if download_s > MAX_DOWNLOAD_S:
        problems.append(f"téléchargement trop lent ({download_s:.0f} s)")
    if r.probes_sent == 0 or answered < MIN_ANSWERED * r.probes_sent:
        problems.append(f"{r.probes_sent - answered} sondes sans réponse sur {r.probes_sent}")
    if rtt_p95 is not None and rtt_p95 > MAX_RTT_P95_MS:
        problems.append(f"aller-retour lent (p95 {rtt_p95:.0f} ms)")
    return TabletResult(
        centre=centre,
        tablet=tablet,
        reported_at=reported_at,
        ready=not problems,
        problems=problems,
        sha256_ok=sha_ok,
        download_bytes=r.download_bytes,
        download_s=round(download_s, 3),
        throughput_mbps=round(mbps, 2),
        probes_sent=r.probes_sent,
        probes_answered=answered,
        rtt_p50_ms=_round(percentile(r.rtt_ms, 50)),
        rtt_p95_ms=_round(rtt_p95),
        rtt_max_ms=_round(max(r.rtt_ms, default=None)),
        reconnects=r.reconnects,
        user_agent=r.user_agent,
        network=r.network,
        battery=r.battery,
    )


def centre_result(
    code: str,
    name: str,
    test_code: str | None,
    tablets: Sequence[TabletResult],
    rtts: Iterable[float],
) -> CentreResult:
    """``rtts``: every probe of the centre's tablets (percentiles over probes, not tablets)."""
    rtt = list(rtts)
    downloads = [t.download_s for t in tablets]
    rates = [t.throughput_mbps for t in tablets]
    slowest = sorted(tablets, key=lambda t: (-t.download_s, -(t.rtt_p95_ms or 0.0), t.tablet))
    return CentreResult(
        centre=code,
        name=name,
        test_code=test_code,
        tablets=len(tablets),
        ready=sum(t.ready for t in tablets),
        rtt_p50_ms=_round(percentile(rtt, 50)),
        rtt_p95_ms=_round(percentile(rtt, 95)),
        rtt_max_ms=_round(max(rtt, default=None)),
        download_p50_s=_round(percentile(downloads, 50), 3),
        download_p95_s=_round(percentile(downloads, 95), 3),
        download_max_s=_round(max(downloads, default=None), 3),
        throughput_p50_mbps=_round(percentile(rates, 50), 2),
        throughput_min_mbps=_round(min(rates, default=None), 2),
        reconnects=sum(t.reconnects for t in tablets),
        slowest=slowest[:SLOWEST],
    )


CSV_COLUMNS = (
    "centre", "tablet", "reported_at", "ready", "problems", "sha256_ok", "download_bytes",
    "download_s", "throughput_mbps", "probes_sent", "probes_answered", "rtt_p50_ms",
    "rtt_p95_ms", "rtt_max_ms", "reconnects", "network", "battery", "user_agent",
)  # fmt: skip


def csv_row(t: TabletResult) -> list[str]:
    values = {
        "problems": "; ".join(t.problems),
        "ready": "oui" if t.ready else "non",
        "sha256_ok": "oui" if t.sha256_ok else "non",
    }
    out = []
    for col in CSV_COLUMNS:
        v = values.get(col, getattr(t, col))
        out.append("" if v is None else _cell(str(v)))
    return out


def _cell(text: str) -> str:
    # Labels and user agents come from tablets and the file is opened in a spreadsheet:
    # a leading = + - @ would make a formula of it.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
