"""A tablet fleet that a test drives line by line (run as a subprocess: Locust patches the
process with gevent): the tablets of a scenario on a LocalRunner, and the run's centre
network in one mode. Commands on stdin, one JSON line per answer on stdout:

    cut C1,C2 | restore C1 | reset C1 | status | close | quit
"""

from __future__ import annotations

import json
import sys
from typing import Any

import gevent
import locust  # noqa: F401 (gevent's monkey-patching first)
from locust.env import Environment

from scenarios import load_scenario
from simulator import settings as fleet
from simulator.faults import lease_base, open_network
from simulator.identity import wave_order
from simulator.locustfile import fleet_settings
from simulator.tablet import TabletUser


def _say(**doc: Any) -> None:
    print(json.dumps(doc), flush=True)


def _status(runner: Any) -> dict[str, Any]:
    tablets = [g.args[0].tablet for g in runner.user_greenlets if g.args[0].tablet]
    return {
        "open": fleet.FleetCounters.sockets_open,
        "tablets": {
            t.identity.candidate_id: {
                "centre": t.identity.centre,
                "up": t.link.up,
                "reconnects": t.reconnects,
                "source": t.api.source,
            }
            for t in tablets
        },
        "failures": {
            f"{e.method} {e.name} {e.error}": e.occurrences
            for e in runner.environment.stats.errors.values()
        },
    }


def main() -> None:
    scenario_path, target, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    scenario = load_scenario(scenario_path)
    lease = lease_base()
    fleet.configure(fleet_settings(scenario, target, lease.base), lambda: wave_order(scenario))
    env = Environment(user_classes=[TabletUser], host=target)
    runner = env.create_local_runner()
    net = open_network(mode, scenario, runner, lease.base, target=target)
    count = sum(scenario.centres.values())
    runner.start(count, spawn_rate=count)
    _say(
        ready=True,
        base=lease.base,
        table=getattr(net, "table", None),
        stale_removed=getattr(net, "stale_removed", []),
    )
    pool = gevent.get_hub().threadpool
    try:
        while True:
            line = pool.apply(sys.stdin.readline).strip()
            verb, _, arg = line.partition(" ")
            centres = [c for c in arg.split(",") if c]
            if verb in ("cut", "restore", "reset"):
                getattr(net, verb)(centres)
                _say(done=verb, resets=getattr(net, "resets", None))
            elif verb == "status":
                _say(**_status(runner))
            elif verb == "close":
                net.close()
                _say(done="close")
            else:
                break
    finally:
        net.close()
        runner.quit()
        lease.release()


if __name__ == "__main__":
    main()
