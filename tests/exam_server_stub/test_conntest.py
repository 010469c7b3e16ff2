"""The connection test's domain: percentiles, what makes a tablet ready, the CSV cells."""

from __future__ import annotations

import hashlib

from exam_server_stub.conntest import (
    MAX_RTT_P95_MS,
    centre_result,
    csv_row,
    percentile,
    sample_package,
    tablet_result,
)
from vigie.wire.conntest import ConnectionTestReport

SHA = "ab" * 32


def _report(rtt: list[float], sent: int | None = None, **kw: object) -> ConnectionTestReport:
    base: dict[str, object] = {
        "download_bytes": 2_000_000, "download_ms": 2000.0, "package_sha256": SHA,
        "rtt_ms": rtt, "probes_sent": len(rtt) if sent is None else sent, "reconnects": 0,
        "user_agent": "ua", "network": None, "battery": None, "client_ts": 0.0,
    }  # fmt: skip
    base.update(kw)
    return ConnectionTestReport(**base)  # type: ignore[arg-type]


def test_percentiles_are_nearest_rank_values_that_were_measured() -> None:
    values = [float(v) for v in range(1, 21)]  # 1..20
    assert percentile(values, 50) == 10.0
    assert percentile(values, 95) == 19.0
    assert percentile(values, 100) == 20.0
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0  # unsorted input


def test_a_tablet_is_ready_only_with_an_intact_package_answered_probes_and_quick_trips() -> None:
    ok = tablet_result("AMU", "A-1", 1.0, _report([10.0] * 20), SHA)
    assert ok.ready and ok.problems == [] and ok.throughput_mbps == 8.0  # 2 MB in 2 s
    assert (ok.rtt_p50_ms, ok.rtt_p95_ms, ok.rtt_max_ms) == (10.0, 10.0, 10.0)
    altered = tablet_result("AMU", "A-1", 1.0, _report([10.0] * 20), "cd" * 32)
    assert not altered.ready and not altered.sha256_ok
    # two probes of twenty lost is still 90 %; three is not
    assert tablet_result("AMU", "A", 1.0, _report([10.0] * 18, sent=20), SHA).ready
    lossy = tablet_result("AMU", "A", 1.0, _report([10.0] * 17, sent=20), SHA)
    assert not lossy.ready and lossy.problems == ["3 sondes sans réponse sur 20"]
    slow = tablet_result("AMU", "A", 1.0, _report([10.0] * 18 + [MAX_RTT_P95_MS + 1] * 2), SHA)
    assert not slow.ready and slow.rtt_p95_ms == MAX_RTT_P95_MS + 1
    crawl = tablet_result("AMU", "A", 1.0, _report([10.0] * 20, download_ms=61_000.0), SHA)
    assert not crawl.ready
    assert not tablet_result("AMU", "A", 1.0, _report([], sent=0), SHA).ready


def test_a_centre_pools_every_probe_and_ranks_its_slowest_downloads() -> None:
    tablets = [
        tablet_result("AMU", f"T{n}", 1.0, _report([float(n)] * 4, download_ms=n * 1000.0), SHA)
        for n in range(1, 8)
    ]
    c = centre_result("AMU", "Aix-Marseille", None, tablets, [float(n) for n in range(1, 8) for _ in range(4)])  # fmt: skip
    assert (c.tablets, c.ready, c.rtt_p50_ms, c.rtt_max_ms) == (7, 7, 4.0, 7.0)
    assert (c.download_p50_s, c.download_p95_s, c.download_max_s) == (4.0, 7.0, 7.0)
    assert [t.tablet for t in c.slowest] == ["T7", "T6", "T5", "T4", "T3"]
    empty = centre_result("LILLE", "Lille", "CODE", [], [])
    assert (empty.tablets, empty.rtt_p50_ms, empty.throughput_min_mbps, empty.slowest) == (0, None, None, [])  # fmt: skip


def test_csv_cells_from_tablets_never_become_formulas() -> None:
    t = tablet_result("AMU", "=HYPERLINK(1)", 1.0, _report([1.0], user_agent="@evil"), SHA)
    row = csv_row(t)
    assert "'=HYPERLINK(1)" in row and "'@evil" in row and "oui" in row


def test_the_sample_package_is_deterministic_and_as_large_as_asked() -> None:
    a, b = sample_package(7, 100_000), sample_package(7, 100_000)
    assert a == b and len(a.body) == 100_000
    assert a.sha256 == hashlib.sha256(a.body).hexdigest()
    assert sample_package(8, 100_000).body != a.body
