"""The knee's sentences: what a person reads as the cause of the break (``Knee.detail``).

Kept apart from the attribution so the rules (which cause wins) read as one table and the
wording can change without touching them. The figures come in already measured.
"""

from __future__ import annotations

from simulator.certify.slo import Slo, SloKind
from simulator.record import OP_HEARTBEAT

CAP_NEAR = 0.98  # websockets_open within 2% of the cap counts as "at the cap"

REFUSED = (
    "TCP connections to the server were refused (server down, listen backlog "
    "or file-descriptor limit)"
)
SERVER_ERRORS = "the server answered with errors (5xx)"
PROTOCOL = "tablets and server disagreed on the protocol (unexpected 4xx or frames)"
TIMEOUTS = "requests to the server timed out"
DISCONNECTIONS = "open connections were dropped"


def latency_words(broken: list[Slo], hb_p99: float) -> str:
    """The heartbeat figure against its objective, to follow a cause; "" without one."""
    for slo in broken:
        if slo.kind is SloKind.LATENCY and slo.op == OP_HEARTBEAT and hb_p99:
            return f" (heartbeat p99 {hb_p99:,.0f} ms, objective {slo.threshold:,.0f} ms)"
    return ""


def connection_cap(cap: float, ws_open: float) -> str:
    if cap > 0:
        at = f"at its connection cap ({cap:,.0f})"
        if ws_open and ws_open < cap * CAP_NEAR:
            at += f", with {ws_open:,.0f} sockets open on the server"
    else:
        at = "with 503 connection_cap"
    return f"the server refused new connections {at}"


def saturated(words: str, lag_ms: float, server_cpu: float) -> str:
    text = f"the server was saturated{words}: its event loop lagged {lag_ms:,.0f} ms (p99)"
    if 0 < server_cpu < 0.5:
        # A late loop on an idle process is blocked (disk, locks) or starved by others.
        text += (
            f" while it used only {server_cpu:.0%} of a core (blocked on I/O, or starved "
            "of CPU by other processes)"
        )
    return text


def slow_answers(slo: Slo, server_ms: float, commit_ms: float) -> str:
    text = (
        f"the server was slow to store answers: {server_ms:,.0f} ms (p99, its own "
        f"measurement; objective {slo.threshold:,.0f} ms)"
    )
    if commit_ms >= server_ms / 2:
        text += f", most of it waiting for the database's commit ({commit_ms:,.0f} ms p99)"
    return text


def generator_answers(
    answer_p99: float,
    server_answer_ms: float,
    lag_ms: float,
    gen_cpu: float,
    gen_lag: float,
    host_cpu: float,
) -> str:
    return (
        f"the tablets measured answers at {answer_p99:,.0f} ms (p99) while the server "
        f"handled them within {server_answer_ms:,.0f} ms (its own p99, event-loop lag "
        f"{lag_ms:,.0f} ms): the time went in the load generator (generator CPU "
        f"{gen_cpu:.0%} of a core, its loop {gen_lag:,.0f} ms late, machine CPU "
        f"{host_cpu:.0%}), so this measures the generator, not the platform"
    )


def generator_wait(words: str, gen_wait: float) -> str:
    return (
        f"the load generator held its own calls back{words}: they waited "
        f"{gen_wait:,.0f} ms (p99) for one of its pooled connections, so the server saw "
        "less load than the scenario asks: this measures the generator, not the platform"
    )


def generator_cpu(words: str, gen_cpu: float, lag_ms: float) -> str:
    return (
        f"the load generator itself was short of CPU{words} (generator CPU "
        f"{gen_cpu:.0%} of a core) while the server's loop answered within "
        f"{lag_ms:,.0f} ms: this measures the generator, not the platform"
    )


def host(words: str, host_cpu: float, server_cpu: float, lag_ms: float) -> str:
    return (
        f"the test machine was overloaded{words} (CPU {host_cpu:.0%} of all cores) while "
        f"the server used only {server_cpu:.0%} of a core (event-loop lag "
        f"{lag_ms:,.0f} ms): server and generator waited for CPU, so this measures the "
        "machine, not the platform"
    )


def stale(words: str, stale_s: float) -> str:
    return (
        f"the server was saturated{words}: it did not answer its own /metrics for "
        f"{stale_s:,.0f} s while the tablets' requests waited"
    )


def latency(words: str) -> str:
    return f"latency went over its objective{words} with no cause visible in the server's metrics"
