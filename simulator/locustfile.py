"""The vigie fleet as a plain locustfile, for people who know Locust.

    locust -f simulator/locustfile.py --scenario ecnp-2022-01-21 --target http://127.0.0.1:8080

opens the usual web UI; the waves come from the scenario's shape (press Start, the user
count and rate fields are ignored). Distributed: ``--master --expect-workers N`` on one
machine and ``--worker --master-host HOST`` on the others (see docs/fleet.md). ``vigie load``
runs its own master in-process and starts its workers with this file.

In every process that runs tablets this file installs the fleet settings and the identities
(worker ``i`` of ``--expect-workers`` takes every n-th candidate) and a tally that reports
failure kinds and open sockets to the master. On a master or local runner started by
``locust`` itself it also runs the jury's timeline and the fleet metrics.
"""

from __future__ import annotations

import argparse
import os
from argparse import Namespace
from typing import Any
from urllib.parse import urlsplit

from locust import events as _locust_events
from locust.runners import LocalRunner, MasterRunner, WorkerRunner

from scenarios import Scenario, load_scenario
from scenarios.model import NETWORK_FAULTS
from simulator import settings as fleet
from simulator import shape as _shape
from simulator.exporter import DEFAULT_METRICS_PORT
from simulator.faults import simulated
from simulator.faults.addresses import BASE_ENV, is_loopback
from simulator.identity import partition, wave_order
from simulator.run.tally import Tally
from simulator.tablet import TabletUser

__all__ = ["TabletUser", "WavesShape"]

# Locust's event hooks are untyped: one Any here keeps the listeners below typed.
events: Any = _locust_events


class WavesShape(_shape.ScenarioShape):
    """The scenario's waves (``--scenario``); Locust picks this class up by itself."""


def _add_arguments(parser: Any) -> None:
    group = parser.add_argument_group("vigie", "the fleet's scenario")
    group.add_argument("--scenario", default="smoke", help="scenario file or shipped name")
    group.add_argument("--target", default="", help="exam server base URL (else --host)")
    group.add_argument(
        "--set",
        dest="vigie_set",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="override a scenario value, e.g. server.max_connections=0",
    )
    group.add_argument(
        "--no-check",
        dest="vigie_no_check",
        action="store_true",
        default=False,
        help="headless: skip the target check (roster, unit, jury account, knobs)",
    )
    group.add_argument(
        "--vigie-managed",
        action="store_true",
        default=False,
        help=argparse.SUPPRESS,  # set by vigie load: it runs the master side itself
    )
    group.add_argument(
        "--operator-token",
        dest="vigie_operator_token",
        default=os.environ.get("VIGIE_OPERATOR_TOKEN", ""),
        help="the target's fault-control token (vigie serve --operator-token), to apply the "
        "scenario's server faults (default: $VIGIE_OPERATOR_TOKEN; unset: not applied)",
    )
    group.add_argument(
        "--metrics-port",
        type=int,
        default=DEFAULT_METRICS_PORT,
        help="fleet Prometheus metrics on the master (0: off)",
    )


def scenario_from_options(options: Namespace | None) -> Scenario:
    if options is None:
        return load_scenario("smoke")
    return load_scenario(getattr(options, "scenario", "smoke"), getattr(options, "vigie_set", []))


def target_from(options: Namespace | None, host: str | None) -> str:
    target = getattr(options, "target", "") if options is not None else ""
    return (target or host or "http://127.0.0.1:8080").rstrip("/")


def fleet_settings(
    scenario: Scenario, target: str, net_base: int | None = None
) -> fleet.FleetSettings:
    """The tablets' settings; ``net_base`` (default: ``$VIGIE_NET_BASE``, set by the
    master for its workers) makes them send from their centres' addresses when the
    target is on the loopback."""
    t = scenario.think_time
    f = scenario.fleet
    if net_base is None and os.environ.get(BASE_ENV):
        net_base = int(os.environ[BASE_ENV])
    if not is_loopback(urlsplit(target).hostname or ""):
        net_base = None  # a remote server sees our one real address anyway
    return fleet.FleetSettings(
        target=target,
        heartbeat_interval_s=scenario.heartbeat_interval_s,
        time_compression=scenario.time_compression,
        think_time=fleet.ThinkTime(t.median_s, t.sigma, t.min_s, t.max_s),
        permessage_deflate=f.permessage_deflate,
        predownload=f.predownload,
        share_packages=f.share_packages,
        reconnect_base_s=f.reconnect_base_s,
        reconnect_max_s=f.reconnect_max_s,
        request_timeout_s=f.request_timeout_s,
        answer_fraction=scenario.exam.answer_fraction,
        cohort=fleet.Cohort(
            scenario.cohort.skilled_share, scenario.cohort.skill_mean, scenario.cohort.skill_sd
        ),
        seed=scenario.seed,
        net_base=net_base,
        centres=tuple(scenario.centres.items()),
        simulated_centres=frozenset(
            c
            for fault in scenario.faults
            if fault.kind in NETWORK_FAULTS and getattr(fault, "mode", "") == "simulated"
            for c in fault.targets
        ),
    )


def _on_init(environment: Any, **_: Any) -> None:
    runner = environment.runner
    options = environment.parsed_options
    if isinstance(runner, WorkerRunner):
        Tally().install(environment.events, report_to_master=True)
    if isinstance(runner, WorkerRunner | LocalRunner):
        simulated.install(runner)  # the master's simulated centre outages

    def _configure(environment: Any, **_: Any) -> None:
        # On a worker the master's custom options (scenario, --set, expect_workers) arrive
        # with the first spawn message, just before this event.
        opts = environment.parsed_options
        scenario = scenario_from_options(opts)
        settings = fleet_settings(scenario, target_from(opts, environment.host))
        if isinstance(environment.runner, WorkerRunner):
            count = max(int(getattr(opts, "expect_workers", 1) or 1), 1)
            index = environment.runner.worker_index % count
            fleet.configure(settings, lambda: partition(scenario, index, count))
        else:
            fleet.configure(settings, lambda: wave_order(scenario))

    environment.events.test_start.add_listener(_configure)
    if isinstance(runner, MasterRunner | LocalRunner) and not getattr(
        options, "vigie_managed", False
    ):
        from simulator.run.master import attach_to_plain_locust

        attach_to_plain_locust(environment)


events.init_command_line_parser.add_listener(_add_arguments)
events.init.add_listener(_on_init)
