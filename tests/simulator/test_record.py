import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.record import (
    LatencyHistogram,
    OpTally,
    RunRecord,
    Sample,
    WaveRecord,
    bucket_ms,
)
from simulator.settings import FailureKind


def test_buckets_round_like_locust_to_two_significant_digits() -> None:
    assert [bucket_ms(x) for x in (3.4, 147, 3432, 58760)] == [3, 150, 3400, 59000]


def test_percentile_of_a_uniform_spread() -> None:
    hist = LatencyHistogram()
    for ms in range(1, 101):  # 1..100 ms, one each
        hist.add(ms)
    assert hist.count() == 100
    # Locust's convention: the value with at most int(n*q) values below it.
    assert hist.percentile(0.5) == 51
    assert hist.percentile(0.9) == 91
    assert hist.percentile(0.0) == 1
    assert hist.percentile(1.0) == 100
    assert hist.max() == 100


def test_percentile_matches_a_sorted_list_on_random_data() -> None:
    rng = random.Random(7)
    values = [bucket_ms(rng.lognormvariate(3, 1)) for _ in range(5000)]
    hist = LatencyHistogram()
    for v in values:
        hist.add(v)
    ordered = sorted(values)
    for q in (0.5, 0.9, 0.95, 0.99):
        assert hist.percentile(q) == ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def test_empty_histogram_has_no_percentile_and_bad_q_is_refused() -> None:
    hist = LatencyHistogram()
    assert hist.percentile(0.99) is None
    with pytest.raises(ValueError, match=r"must be in 0\.\.1"):
        hist.percentile(99)


def test_merge_adds_counts_from_histograms_and_locust_dicts() -> None:
    a = LatencyHistogram({10: 2, 20: 1})
    a.merge(LatencyHistogram({20: 3}))
    a.merge({30: 4})
    assert a.buckets == {10: 2, 20: 4, 30: 4}


def test_tally_counts_failures_as_attempts_but_not_in_latency() -> None:
    tally = OpTally()
    tally.record(12.0)
    tally.record(1.0, FailureKind.CONNECTION_CAP)
    tally.record(None, FailureKind.REFUSED)
    assert tally.count == 3
    assert tally.failed() == 2 and tally.succeeded() == 1
    assert tally.failures == {"connection_cap": 1, "refused": 1}
    assert tally.latency.count() == 1


def _record() -> RunRecord:
    wave = WaveRecord(1, "wave 1", ["PARIS-CITE", "LYON"], 120, started_at=0.0, ended_at=30.5)
    wave.tally("heartbeat").record(4.2)
    wave.tally("ws_connect").record(None, FailureKind.CONNECTION_CAP)
    sample = Sample(
        t=1.0,
        wave=1,
        users=100,
        sockets_open=98,
        generator_cpu=0.42,
        requests={"heartbeat": 5},
        failures={"connection_cap": 1},
        hb_p99_ms=None,
        server={"websockets_open": 98.0, "connection_cap": 8000.0},
    )
    return RunRecord(
        scenario="smoke",
        scenario_path="scenarios/smoke.yaml",
        target="http://127.0.0.1:8080",
        started_at=1_700_000_000.0,
        ended_at=1_700_000_031.0,
        slos={"heartbeat_p99_ms": 500.0},
        server_knobs={"connection_cap": 8000},
        waves=[wave],
        samples=[sample],
        notes=["hello"],
    )


def test_json_round_trip_through_a_real_file(tmp_path: Path) -> None:
    record = _record()
    path = tmp_path / "sub" / "record.json"
    record.save(path)
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind
    loaded = RunRecord.load(path)
    assert loaded == record
    assert loaded.wave(1).ops["heartbeat"].latency.buckets == {4: 1}
    assert loaded.max_sockets_open() == 98
    assert loaded.planned_tablets() == 120
    assert loaded.duration_s() == 31.0


def test_unknown_keys_from_a_newer_runner_are_ignored() -> None:
    data = _record().to_json()
    data["something_new"] = 1
    data["samples"][0]["future_field"] = [1, 2]
    assert RunRecord.from_json(data) == _record()


def test_a_document_that_is_not_a_record_gives_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not a vigie run record"):
        RunRecord.from_json({"scenario": "x"})
    with pytest.raises(ValueError, match="not a vigie run record"):
        RunRecord.from_json(json.loads('{"scenario": "x", "started_at": "soon"}'))


def test_unknown_wave_number_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match=r"\[1\]"):
        _record().wave(4)


def test_module_stays_stdlib_only() -> None:
    # Imported by gevent-patched Locust workers: pulling in anything heavy there hurts.
    code = (
        "import sys; before = set(sys.modules); import simulator.record; "
        "new = {m.split('.')[0] for m in set(sys.modules) - before}; "
        "bad = new - set(sys.stdlib_module_names) - {'simulator'}; print(sorted(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_server_figure_the_scrape_left_empty_is_absent_not_zero() -> None:
    data = _record().to_json()
    data["samples"][0]["server"]["event_loop_lag_p99_s"] = None
    assert "event_loop_lag_p99_s" not in RunRecord.from_json(data).samples[0].server


def test_generator_memory_round_trips_and_an_older_sample_has_none() -> None:
    record = _record()
    record.samples[0].generator_rss_mb = 612.5
    assert RunRecord.from_json(json.loads(json.dumps(record.to_json()))) == record
    data = _record().to_json()
    del data["samples"][0]["generator_rss_mb"]  # written before the runner measured it
    assert RunRecord.from_json(data).samples[0].generator_rss_mb is None
