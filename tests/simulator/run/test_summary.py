"""The end-of-run text summary: the generator's CPU and memory peaks on its first line."""

from simulator.record import RunRecord, Sample
from simulator.run.summary import summary_lines


def record(*rss: float | None) -> RunRecord:
    samples = [
        Sample(
            t=float(i), wave=1, users=10, sockets_open=10, generator_cpu=0.25, generator_rss_mb=m
        )
        for i, m in enumerate(rss)
    ]
    return RunRecord("smoke", "scenarios/smoke.yaml", "http://127.0.0.1:9", 0.0, samples=samples)


def test_the_first_line_gives_the_generator_memory_peak_when_measured() -> None:
    assert summary_lines(record(300.0, 812.4, 800.0))[0].endswith(
        "generator CPU peak 25% of a core, memory peak 812 MiB"
    )
    assert summary_lines(record(None, None))[0].endswith("generator CPU peak 25% of a core")
