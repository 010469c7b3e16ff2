"""The Monday connection test (docs/connection-test.md): the test tablet's login, its echo
socket, its report, and what the jury reads back.

A test token opens these routes only; the limits below are the server's, so the document
states them and a report that breaks one is ``422 invalid_request``, never stored.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from vigie.protocol import MsgType

from .ws import Count, UnixTs

MAX_PROBES = 100
MAX_RTT_MS = 600_000.0  # ten minutes: a longer answer is a lost probe, not a round trip
MAX_DOWNLOAD_MS = 3_600_000.0
Ms = Annotated[float, Meta(ge=0, le=MAX_RTT_MS)]
Mbps = Annotated[float, Meta(ge=0, description="megabits per second")]
Tablet = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=32,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="the seat or label of the tablet, as the centre names it (e.g. A-12)",
    ),
]


class _Request(msgspec.Struct, forbid_unknown_fields=True):
    pass


class _Response(msgspec.Struct):
    pass


class ConnectionTestLogin(_Request):
    centre: Annotated[str, Meta(min_length=1, max_length=64)]
    test_code: Annotated[str, Meta(min_length=1, max_length=128)]
    tablet: Tablet


class ConnectionTestLoginOk(_Response):
    token: Annotated[str, Meta(description="opens the connection test's routes, nothing else")]
    centre: str
    tablet: str
    heartbeat_interval_s: Annotated[float, Meta(gt=0, description="the exam's")]
    probe_interval_s: Annotated[float, Meta(gt=0, description="send a probe this often")]
    probes: Annotated[int, Meta(ge=1, description="how many probes to send")]
    package_bytes: Annotated[int, Meta(ge=1, description="the size of the largest real unit")]
    package_sha256: Annotated[str, Meta(description="hex sha256 of the test package")]


# --- the echo socket (GET /api/v1/connection-test/ws) ---------------------------------
class Probe(msgspec.Struct, tag_field="type", tag=MsgType.PROBE.value, forbid_unknown_fields=True):
    """Tablet → server: echoed at once."""

    seq: Annotated[int, Meta(ge=0)]
    client_ts: Annotated[float, Meta(description="the tablet's clock, ms or s: echoed as is")]


class ProbeEcho(msgspec.Struct, tag_field="type", tag=MsgType.PROBE_ECHO.value):
    """Server → tablet: the probe's seq and client_ts back, and the server's clock."""

    seq: int
    client_ts: float
    server_ts: UnixTs


probe_decoder: msgspec.json.Decoder[Probe] = msgspec.json.Decoder(Probe)


# --- the report (POST /api/v1/connection-test/report) ---------------------------------
class ConnectionTestReport(_Request):
    download_bytes: Annotated[int, Meta(ge=0, le=2**40)]
    download_ms: Annotated[float, Meta(ge=0, le=MAX_DOWNLOAD_MS)]
    package_sha256: Annotated[
        str, Meta(max_length=64, description="hex sha256 the tablet computed (WebCrypto)")
    ]
    rtt_ms: Annotated[
        list[Ms], Meta(max_length=MAX_PROBES, description="one per probe answered, in ms")
    ]
    probes_sent: Annotated[int, Meta(ge=0, le=MAX_PROBES)]
    reconnects: Annotated[int, Meta(ge=0, le=10_000, description="echo sockets reopened")]
    user_agent: Annotated[str, Meta(max_length=512)]
    network: Annotated[
        Annotated[str, Meta(max_length=16)] | None,
        Meta(description="Network Information API type; null where absent"),
    ]
    battery: Annotated[
        Annotated[int, Meta(ge=0, le=100)] | None,
        Meta(description="percent; null where the browser has no Battery API"),
    ]
    client_ts: float


class ConnectionTestReportOk(_Response):
    centre: str
    tablet: str
    received_at: UnixTs
    ready: bool


class TabletResult(_Response):
    """A tablet's latest report, with what the server makes of it."""

    centre: str
    tablet: str
    reported_at: UnixTs
    ready: Annotated[bool, Meta(description="package intact, probes answered, times in bounds")]
    problems: Annotated[list[str], Meta(description="why not ready (French, for the jury)")]
    sha256_ok: bool
    download_bytes: Count
    download_s: float
    throughput_mbps: Mbps
    probes_sent: Count
    probes_answered: Count
    rtt_p50_ms: float | None
    rtt_p95_ms: float | None
    rtt_max_ms: float | None
    reconnects: Count
    user_agent: str
    network: str | None
    battery: int | None


class CentreResult(_Response):
    centre: str
    name: str
    test_code: Annotated[str | None, Meta(description="the centre's test code; null for observers")]
    tablets: Annotated[Count, Meta(description="tablets that reported")]
    ready: Count
    rtt_p50_ms: Annotated[float | None, Meta(description="over every probe of the centre")]
    rtt_p95_ms: float | None
    rtt_max_ms: float | None
    download_p50_s: Annotated[float | None, Meta(description="over the centre's tablets")]
    download_p95_s: float | None
    download_max_s: float | None
    throughput_p50_mbps: float | None
    throughput_min_mbps: float | None
    reconnects: Count
    slowest: Annotated[
        list[TabletResult], Meta(description="the five slowest downloads, slowest first")
    ]


class ConnectionTestSummary(_Response):
    centres: list[CentreResult]
    tablets: Annotated[list[TabletResult], Meta(description="every tablet's latest report")]
