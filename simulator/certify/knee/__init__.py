"""The knee: how many tablets were connected when the platform first broke an SLO, and why.

Wave tallies say *which* wave failed; the once-a-second samples say *when* inside it.
For each SLO the samples can follow over time (heartbeat p99, the overall failure ratio,
websocket connect success) we look for the first sample of a failing wave where it is
broken over a short trailing window; the knee is the most tablets held up to that moment.
The cause is read from the seconds around it: which failure kinds grew, and what the
server's own metrics said (its connection cap and open sockets, event-loop lag, CPU, 5xx).

A break the test setup explains (the generator out of CPU, the machine running it
overloaded, while the server's loop kept answering in time) is not the platform's knee:
it is kept apart as a *measurement* break, the search goes on, and the run cannot
certify. On a shared machine this matters: heartbeats measured late by a starved
generator must not send engineers tuning a server that was idle.

One module per step: ``detect`` (when the first break happened, and how many tablets
were held), ``cause`` (which cause the evidence around it names), ``wording`` (the
sentence a person reads) and ``figures`` (the samples by time, and what they say).
"""

from __future__ import annotations

from simulator.certify.knee.cause import (
    ANSWER_SERVER_SHARE,
    CAUSE_WINDOW_S,
    EVENT_LOOP_LAG_HIGH_S,
    GENERATOR_LAG_HIGH_MS,
    GENERATOR_WAIT_HIGH_MS,
    HOST_BUSY_CPU,
    LOOP_SHARE,
    MEASUREMENT_CAUSES,
    SCRAPE_LAG_S,
    SCRAPE_STALE_S,
    SERVER_BUSY_CPU,
    Cause,
    diagnose,
    server_on_time,
)
from simulator.certify.knee.detect import MIN_OPS_IN_WINDOW, WINDOW_S, Knee, KneeSearch, find_knee
from simulator.certify.knee.figures import Timeline, figure, knob_cap
from simulator.certify.knee.wording import CAP_NEAR

__all__ = [
    "ANSWER_SERVER_SHARE",
    "CAP_NEAR",
    "CAUSE_WINDOW_S",
    "EVENT_LOOP_LAG_HIGH_S",
    "GENERATOR_LAG_HIGH_MS",
    "GENERATOR_WAIT_HIGH_MS",
    "HOST_BUSY_CPU",
    "LOOP_SHARE",
    "MEASUREMENT_CAUSES",
    "MIN_OPS_IN_WINDOW",
    "SCRAPE_LAG_S",
    "SCRAPE_STALE_S",
    "SERVER_BUSY_CPU",
    "WINDOW_S",
    "Cause",
    "Knee",
    "KneeSearch",
    "Timeline",
    "diagnose",
    "figure",
    "find_knee",
    "knob_cap",
    "server_on_time",
]
