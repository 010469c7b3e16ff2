"""Tablet identities for a scenario: candidates in wave order, split over worker processes.

The fleet logs in from the scenario and its seed alone (no roster file): candidate ids are
``<CENTRE>-<n:05d>`` and access codes come from ``vigie.demo.access_code``, exactly
as the server's demo roster builds them. Identities are taken in wave order so that the users
Locust starts during wave k are the candidates of wave k; worker ``i`` of ``n`` takes every
n-th identity, so two workers never log in the same candidate. The candidates of a centre
left to real tablets (``real_tablets``) are never handed out: a simulated tablet logging in
as one would supersede the real tablet's socket (4001) and answer in its name.
"""

from __future__ import annotations

from collections.abc import Iterator

from scenarios.model import Scenario
from simulator.settings import TabletIdentity
from vigie.demo import access_code, candidate_id


def wave_order(scenario: Scenario) -> Iterator[TabletIdentity]:
    """Every candidate of the scenario, wave by wave, centres interleaved within a wave.

    Interleaving matters: a wave connects all its centres at once, so the first hundred
    tablets of a wave come from every one of its centres, not from the first centre only.
    """
    for number, wave in enumerate(scenario.waves, start=1):
        counts = {code: scenario.centres[code] for code in scenario.fleet_centres(wave)}
        for n in range(1, max(counts.values(), default=0) + 1):
            for code, count in counts.items():
                if n <= count:
                    cid = candidate_id(code, n)
                    yield TabletIdentity(cid, code, access_code(scenario.seed, cid), number)


def partition(scenario: Scenario, index: int, count: int) -> Iterator[TabletIdentity]:
    """The identities of worker ``index`` out of ``count`` (every ``count``-th, from ``index``)."""
    if count < 1 or not 0 <= index < count:
        raise ValueError(f"worker index {index} out of range for {count} worker(s)")
    for i, identity in enumerate(wave_order(scenario)):
        if i % count == index:
            yield identity
