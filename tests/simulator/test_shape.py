"""The wave plan in-process; the Locust shape class in a subprocess (Locust monkey-patches
the whole interpreter with gevent, which must not happen inside the test runner)."""

import json
import subprocess
import sys
import textwrap

from scenarios import load_scenario
from simulator.run.plan import steps, wave_at


def test_steps_are_cumulative_per_wave() -> None:
    s = load_scenario("ecnp-2022-01-21")
    st = steps(s)
    assert [x.users for x in st] == [2596, 2596 + 2247, 2596 + 2247 + 2437, 9800]
    assert [x.start_s for x in st] == [w.start_s for w in s.waves]
    assert [x.wave for x in st] == [1, 2, 3, 4]
    assert steps(s, spare=2)[-1].users == 9802


def test_wave_at() -> None:
    s = load_scenario("smoke")
    assert wave_at(s, -1) == 0
    assert wave_at(s, 0) == 1
    assert wave_at(s, s.waves[1].start_s) == 2
    assert wave_at(s, 10_000) == len(s.waves)


SHAPE_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from scenarios import load_scenario
    from simulator.shape import ScenarioShape

    class Clock(ScenarioShape):
        t = 0.0
        def get_run_time(self):
            return self.t

    class Runner:
        worker_count = 3

    s = load_scenario("ecnp-2022-01-21")
    out = {}
    shape = Clock(s, spare=0)
    for t in json.loads(sys.argv[1]):
        shape.t = t
        out[str(t)] = shape.tick()
    spared = Clock(s)
    spared.runner = Runner()
    spared.t = s.waves[-1].start_s
    out["spare"] = spared.tick()
    print(json.dumps(out))
    """
)


def test_locust_shape_follows_the_waves_and_stops_at_the_end() -> None:
    s = load_scenario("ecnp-2022-01-21")
    times = [0.0, 10.0, s.waves[1].start_s, s.waves[3].start_s + 1, s.exam.launch_at_s, s.end_s]
    proc = subprocess.run(
        [sys.executable, "-c", SHAPE_SCRIPT, json.dumps(times)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    ticks = json.loads(proc.stdout.strip().splitlines()[-1])
    at = [ticks[str(t)] for t in times]
    rate = [w.rate_per_s for w in s.waves]
    assert at[0] == at[1] == [2596, rate[0]]
    assert at[2] == [2596 + 2247, rate[1]]
    assert at[3] == at[4] == [9800, rate[3]]
    assert at[5] is None  # the scenario's end stops the test
    # three workers: two spare users so that no worker's last identity is left out
    assert ticks["spare"] == [9802, rate[3]]
