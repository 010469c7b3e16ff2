"""What an exam server must run with for a scenario: its roster and its knobs, computed once.

``vigie serve --scenario`` builds its settings from :func:`server_spec`; ``vigie rehearse``
and the docker-compose entry point start ``vigie serve --scenario``; and the fleet's target
check (``vigie load`` / ``vigie certify``) compares what a server reports with
:meth:`ServerSpec.knobs`. Shared by server and fleet: imports neither.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from scenarios.model import Scenario
from vigie.demo import TIERS_TEMPS_RATIO, TIERS_TEMPS_SHARE
from vigie.protocol import DEFAULT_LATE_AFTER_S, DEFAULT_LOST_AFTER_S

# What a server reports of its knobs (GET /api/v1/jury/server), in this order.
KNOB_NAMES = (
    "max_connections",
    "latency_ms",
    "error_rate",
    "request_cpu_ms",
    "ws_compression",
    "heartbeat_interval_s",
    "late_after_s",
    "lost_after_s",
)


@dataclass(frozen=True, slots=True)
class ServerSpec:
    scenario: str
    seed: int
    counts: dict[str, int] = field(default_factory=dict)  # centre -> candidates
    centres_file: Path | None = None  # None: the 35 faculties
    rules_file: Path | None = None  # the correction's rules; None: vigie-edn
    max_connections: int = 0
    latency_ms: float = 0.0
    error_rate: float = 0.0
    request_cpu_ms: float = 0.0
    ws_compression: bool = True
    heartbeat_interval_s: float = 5.0
    late_after_s: float = DEFAULT_LATE_AFTER_S
    lost_after_s: float = DEFAULT_LOST_AFTER_S
    # The roster's planned extra time (tiers-temps): part of the roster, not a knob.
    tiers_temps_share: float = TIERS_TEMPS_SHARE
    tiers_temps_ratio: float = TIERS_TEMPS_RATIO

    def knobs(self) -> dict[str, float | int | bool]:
        return {name: getattr(self, name) for name in KNOB_NAMES}


def thresholds(
    heartbeat_interval_s: float, late_after_s: float | None, lost_after_s: float | None
) -> tuple[float, float]:
    """The ``late`` / ``lost`` silences for a heartbeat: what a scenario does not set follows it.

    A 10 s heartbeat must not read as "late" at the default 10 s: late waits for two missed
    heartbeats, lost for three (and at least one more than late).
    """
    hb = heartbeat_interval_s
    late = late_after_s or max(DEFAULT_LATE_AFTER_S, 2 * hb)
    lost = lost_after_s or max(DEFAULT_LOST_AFTER_S, 3 * hb, late + hb)
    return late, lost


def server_spec(scenario: Scenario, scenario_dir: Path | None = None) -> ServerSpec:
    """The server for ``scenario``; ``scenario_dir`` anchors its relative files."""
    knobs = scenario.server
    late, lost = thresholds(scenario.heartbeat_interval_s, knobs.late_after_s, knobs.lost_after_s)
    centres_file = None
    if scenario.centres_file is not None:
        centres_file = (scenario_dir or Path(".")) / scenario.centres_file
    rules_file = None
    if scenario.correction_rules is not None:
        rules_file = (scenario_dir or Path(".")) / scenario.correction_rules
    return ServerSpec(
        scenario=scenario.name,
        seed=scenario.seed,
        counts=dict(scenario.centres),
        centres_file=centres_file,
        rules_file=rules_file,
        max_connections=knobs.max_connections,
        latency_ms=knobs.latency_ms,
        error_rate=knobs.error_rate,
        request_cpu_ms=knobs.request_cpu_ms,
        ws_compression=knobs.ws_compression,
        heartbeat_interval_s=scenario.heartbeat_interval_s,
        late_after_s=late,
        lost_after_s=lost,
        tiers_temps_share=scenario.tiers_temps.share,
        tiers_temps_ratio=scenario.tiers_temps.ratio,
    )
