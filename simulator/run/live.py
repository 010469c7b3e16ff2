"""Live progress of a fleet run in the terminal (rich): wave, tablets vs cap, heartbeat p99."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.live import Live
from rich.table import Table

from scenarios.model import Scenario
from simulator.record import Sample

QUIET_EVERY_S = 10.0


class LiveProgress:
    def __init__(
        self, scenario: Scenario, quiet: bool = False, console: Console | None = None
    ) -> None:
        self.scenario = scenario
        self.console = console or Console()
        self.quiet = quiet or not self.console.is_terminal
        self._live: Live | None = None
        self._last_line = -QUIET_EVERY_S

    def __enter__(self) -> LiveProgress:
        if not self.quiet:
            # No refresh thread: we redraw on each sample (once a second) from the
            # master's greenlet, which keeps rich away from gevent's patched threads.
            self._live = Live(self.table(None), console=self.console, auto_refresh=False)
            self._live.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.__exit__(exc_type, exc, tb)
            self._live = None

    def update(self, sample: Sample) -> None:
        if self._live is not None:
            self._live.update(self.table(sample), refresh=True)
        elif sample.t - self._last_line >= QUIET_EVERY_S:
            self._last_line = sample.t
            # One plain line per report, never wrapped: off a terminal (a CI log, | tee) rich
            # assumes 80 columns and would break "cpu" from its figure.
            self.console.print(
                self.line(sample), highlight=False, markup=False, soft_wrap=True, crop=False
            )

    def _cap(self, sample: Sample | None) -> str:
        cap = (sample.server.get("connection_cap") if sample else None) or 0
        return f"{int(cap):,}" if cap else "none"

    def line(self, s: Sample) -> str:
        failures = sum(s.failures.values())
        hb = "-" if s.hb_p99_ms is None else f"{s.hb_p99_ms:,.0f} ms"
        mem = "" if s.generator_rss_mb is None else f" mem {s.generator_rss_mb:,.0f} MiB"
        return (
            f"t={s.t:5.0f}s wave {s.wave}/{len(self.scenario.waves)} "
            f"tablets {s.sockets_open:,}/{self.scenario.simulated_tablets:,} (cap {self._cap(s)}) "
            f"hb p99 {hb} failures {failures:,} cpu {s.generator_cpu:.0%}{mem}"
        )

    def table(self, s: Sample | None) -> Table:
        sc = self.scenario
        table = Table(title=f"vigie rehearse: {sc.name}", show_header=False, expand=False)
        table.add_column("what", style="bold")
        table.add_column("value")
        if s is None:
            table.add_row("status", "starting the fleet...")
            return table
        wave = sc.waves[s.wave - 1].name if s.wave else "before the first wave"
        phase = _phase(sc, s.t)
        failures = ", ".join(f"{k} {n:,}" for k, n in sorted(s.failures.items())) or "none"
        server_open = s.server.get("websockets_open")
        table.add_row("time", f"{s.t:,.0f} s of {sc.end_s:,.0f} s ({phase})")
        table.add_row("wave", f"{s.wave}/{len(sc.waves)}: {wave}")
        table.add_row(
            "tablets connected",
            f"{s.sockets_open:,} of {sc.simulated_tablets:,} (server sees "
            f"{'-' if server_open is None else f'{int(server_open):,}'}, cap {self._cap(s)})",
        )
        table.add_row("Locust users", f"{s.users:,}")
        table.add_row("heartbeat p99", "-" if s.hb_p99_ms is None else f"{s.hb_p99_ms:,.0f} ms")
        table.add_row("answers", f"{s.requests.get('answer', 0):,}")
        table.add_row("failures", failures)
        table.add_row("generator CPU", f"{s.generator_cpu:.0%} of a core")
        if s.generator_rss_mb is not None:
            table.add_row("generator memory", f"{s.generator_rss_mb:,.0f} MiB (all processes)")
        return table


def _phase(sc: Scenario, t: float) -> str:
    """What the run is at, on the jury's nominal schedule."""
    slots = sc.schedule
    if t < slots[0].launch_s:
        return "connecting"
    several = len(slots) > 1
    for slot in slots:
        if slot.launch_s <= t < slot.close_s:
            return f"{slot.unit_id} running" if several else "exam running"
        if t < slot.launch_s:
            return f"break before {slot.unit_id}"
    return "units closed" if several else "unit closed"
