"""Server settings: one frozen value built by the CLI (or a test) and handed to ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from vigie.demo import TIERS_TEMPS_RATIO, TIERS_TEMPS_SHARE
from vigie.protocol import (
    DEFAULT_HEARTBEAT_INTERVAL_S,
    DEFAULT_LATE_AFTER_S,
    DEFAULT_LOST_AFTER_S,
)

DEFAULT_SEED = 2022
DEFAULT_TOKEN_TTL_S = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class ServerSettings:
    db_path: Path
    # Roster used only when the database is new; a restarted server keeps its own roster.
    demo_counts: dict[str, int] = field(default_factory=dict)
    seed: int = DEFAULT_SEED
    centres_file: Path | None = None
    max_connections: int = 0  # open tablet websockets; 0 = no cap
    latency_ms: float = 0.0  # injected before every API handler
    error_rate: float = 0.0  # share of API requests answered 503 injected_fault
    # CPU burnt on the event loop by every API call (a server whose requests cost: 2015)
    request_cpu_ms: float = 0.0
    heartbeat_interval_s: float = DEFAULT_HEARTBEAT_INTERVAL_S
    late_after_s: float = DEFAULT_LATE_AFTER_S
    lost_after_s: float = DEFAULT_LOST_AFTER_S
    ws_compression: bool = True  # real tablet WebViews negotiate permessage-deflate
    token_ttl_s: float = DEFAULT_TOKEN_TTL_S
    retry_after_s: int = 5  # Retry-After sent with 503s
    sweep_interval_s: float = 1.0  # how often supervision states are recomputed
    #: what survived this long leaves the cyclic GC's sight (exam_server_stub/gcwatch.py);
    #: 0: never (full collections then pause the loop ~1 s at 9,800 tablets)
    gc_freeze_every_s: float = 5.0
    # The bearer token of POST /api/v1/operator/faults; None: fault control is off.
    operator_token: str | None = None
    scenario: str | None = None  # vigie serve --scenario: reported to the jury (/jury/server)
    # The roster's planned extra time (used only when the database is new, as the roster).
    tiers_temps_share: float = TIERS_TEMPS_SHARE
    tiers_temps_ratio: float = TIERS_TEMPS_RATIO
    # TEST ONLY: answers acknowledged before their commit (a kill -9 then loses them), so
    # that the certifier's reconciliation is seen to fail a server that loses answers.
    unsafe_ack_before_commit: bool = False
    # The correction's rules file (jury results API); None: the default rules (vigie-edn).
    rules_path: Path | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError("error_rate must be within 0..1")
        if not 0.0 <= self.tiers_temps_share <= 1.0:
            raise ValueError("tiers_temps_share must be within 0..1")
        if self.max_connections < 0 or self.latency_ms < 0 or self.request_cpu_ms < 0:
            raise ValueError("max_connections, latency_ms and request_cpu_ms must be >= 0")
        if not 0 < self.heartbeat_interval_s < self.late_after_s < self.lost_after_s:
            raise ValueError("need 0 < heartbeat_interval < late_after < lost_after")
