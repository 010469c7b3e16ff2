"""The rehearsal's live lines: off a terminal, one plain line per report, never cut mid-figure."""

from __future__ import annotations

import io

from rich.console import Console

from scenarios import load_scenario
from simulator.record import Sample
from simulator.run.live import LiveProgress


def sample(t: float) -> Sample:
    return Sample(
        t=t,
        wave=4,
        users=9800,
        sockets_open=8000,
        generator_cpu=0.18,
        failures={"connection_cap": 12345},
        hb_p99_ms=1234.0,
        server={"connection_cap": 8000.0},
    )


def test_off_a_terminal_each_report_is_one_unbroken_line() -> None:
    out = io.StringIO()
    console = Console(file=out, width=40)  # a pipe: not a terminal, and narrow
    assert not console.is_terminal
    live = LiveProgress(load_scenario("ecnp-2022-01-21"), console=console)
    with live:
        for t in (0.0, 5.0, 10.0, 20.0):
            live.update(sample(t))
    lines = out.getvalue().splitlines()
    assert len(lines) == 3  # one every 10 s
    for line in lines:
        assert line.startswith("t=") and line.endswith("cpu 18%"), line
        assert "tablets 8,000/9,800 (cap 8,000)" in line and "\x1b" not in line


def test_the_generator_memory_shows_once_measured() -> None:
    live = LiveProgress(load_scenario("ecnp-2022-01-21"), console=Console(file=io.StringIO()))
    measured = sample(30.0)
    measured.generator_rss_mb = 1234.4
    assert live.line(measured).endswith("cpu 18% mem 1,234 MiB")
    assert "mem" not in live.line(sample(30.0))
    out = io.StringIO()
    Console(file=out, width=120).print(live.table(measured))
    assert "generator memory" in out.getvalue() and "1,234 MiB (all processes)" in out.getvalue()
