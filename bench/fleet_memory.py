"""Generator memory and launch CPU per tablet, with the packages shared and without.

    .venv/bin/python bench/fleet_memory.py                    # 2,000 tablets, both ways
    .venv/bin/python bench/fleet_memory.py --tablets 12000 --only shared

A real ``vigie serve`` (SQLite, the demo's five units, packages of a few hundred KB) and a
real fleet: ``vigie load --workers 0``, every tablet in one process, pre-downloading every
unit, connecting in one wave, sitting the unit after the national launch. The bench polls
that process's RSS and CPU time, and the server's ``vigie_websockets_open``, twice a
second. It runs twice in the same bench, ``fleet.share_packages`` false (the baseline: one
copy and one decryption per tablet) then true (``simulator/tablet/packages.py``), and
prints for each:

* memory per tablet: the slope of RSS against connected tablets over the ramp (each
  tablet has logged in and pre-downloaded its packages before it connects);
* the peak RSS, and what the launch added (peak after the launch - RSS at the launch);
* the CPU the process burnt in the 10 s after the launch (key fetches, decryptions).

Bounded: each run stops by itself at the scenario's end; the bench kills what is left.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from vigie.testing import ServerProcess, free_port
from vigie.wire.metrics import Metric

SCENARIO = """
name: bench-fleet-memory
description: "{tablets} tablets pre-downloading every unit, then one unit sat"
seed: 12
centres: {{AMIENS: {a}, BREST: {b}}}
waves:
  - {{name: "wave 1", centres: [AMIENS, BREST], start_s: 0, rate_per_s: {rate}}}
heartbeat_interval_s: 5
time_compression: 30
think_time: {{median_s: 120, sigma: 0.5, min_s: 30, max_s: 600}}
exam:
  launch_at_s: {launch}
  duration_s: 900
  answer_fraction: 0.2
  tail_s: 5
server: {{max_connections: 0}}
fleet: {{permessage_deflate: true, predownload: true, share_packages: {shared}}}
"""


@dataclass
class Poll:
    t: float
    rss: int
    cpu_s: float
    connected: int


@dataclass
class Result:
    label: str
    polls: list[Poll] = field(default_factory=list)
    launch_t: float = 0.0

    def per_tablet_kib(self) -> float:
        ramp = [p for p in self.polls if p.t < self.launch_t and p.connected > 0]
        if len(ramp) < 3:
            return float("nan")
        n = len(ramp)
        mx = sum(p.connected for p in ramp) / n
        my = sum(p.rss for p in ramp) / n
        sxx = sum((p.connected - mx) ** 2 for p in ramp)
        sxy = sum((p.connected - mx) * (p.rss - my) for p in ramp)
        return (sxy / sxx) / 1024 if sxx else float("nan")

    def peak_mib(self) -> float:
        return max(p.rss for p in self.polls) / 2**20

    def at(self, t: float) -> Poll:
        return min(self.polls, key=lambda p: abs(p.t - t))

    def launch_added_mib(self) -> float:
        after = [p.rss for p in self.polls if p.t >= self.launch_t]
        return (max(after, default=0) - self.at(self.launch_t).rss) / 2**20

    def launch_cpu_s(self) -> float:
        return self.at(self.launch_t + 10).cpu_s - self.at(self.launch_t).cpu_s

    def connected(self) -> int:
        return max(p.connected for p in self.polls)


def ws_open(url: str) -> int:
    try:
        with urllib.request.urlopen(f"{url}/metrics", timeout=2) as r:
            text = r.read().decode()
    except OSError:
        return 0
    total = 0.0
    for line in text.splitlines():
        if line.startswith(Metric.WEBSOCKETS_OPEN + "{"):
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


def run(tablets: int, shared: bool, rate: int, work: Path) -> Result:
    label = "shared" if shared else "per tablet (baseline)"
    ramp_s = tablets / rate
    launch = int(ramp_s + 25)
    scenario = work / f"fleet-memory-{'shared' if shared else 'unshared'}.yaml"
    scenario.write_text(
        SCENARIO.format(
            tablets=tablets,
            a=tablets // 2,
            b=tablets - tablets // 2,
            rate=rate,
            launch=launch,
            shared=str(shared).lower(),
        )
    )
    server = ServerProcess(work / f"{scenario.stem}.db", ["--scenario", str(scenario)]).start()
    result = Result(label)
    cmd = [sys.executable, "-m", "vigie", "load", str(scenario), "--target", server.url]
    cmd += ["--workers", "0", "--metrics-port", str(free_port())]
    log = (work / f"{scenario.stem}.log").open("wb")
    fleet = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    proc = psutil.Process(fleet.pid)
    started = time.monotonic()
    # The scenario's clock starts once the fleet has checked the target: close enough,
    # the launch is found again from the connected count's plateau below.
    deadline = started + launch + 90 + 60
    try:
        while fleet.poll() is None and time.monotonic() < deadline:
            try:
                mem, cpu = proc.memory_info().rss, proc.cpu_times()
            except psutil.Error:
                break
            result.polls.append(
                Poll(
                    t=time.monotonic() - started,
                    rss=mem,
                    cpu_s=cpu.user + cpu.system,
                    connected=ws_open(server.url),
                )
            )
            time.sleep(0.5)
    finally:
        if fleet.poll() is None:
            fleet.kill()
        fleet.wait(30)
        log.close()
        server.stop()
    full = [p for p in result.polls if p.connected >= 0.99 * result.connected()]
    # every tablet connected, then the launch: the scenario's launch after its ramp
    result.launch_t = (full[0].t if full else 0.0) + (launch - ramp_s)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tablets", type=int, default=2000)
    parser.add_argument("--rate", type=int, default=100, help="tablets connecting per second")
    parser.add_argument("--only", choices=["shared", "baseline"])
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="vigie-bench-mem-") as tmp:
        for shared in (False, True):
            if args.only and args.only != ("shared" if shared else "baseline"):
                continue
            results.append(run(args.tablets, shared, args.rate, Path(tmp)))
    print(f"\n{args.tablets:,} tablets, one process, every unit pre-downloaded\n")
    head = f"{'packages':<24}{'KiB/tablet':>12}{'peak MiB':>10}{'launch +MiB':>13}"
    print(head + f"{'launch CPU s':>14}{'connected':>11}")
    for r in results:
        print(
            f"{r.label:<24}{r.per_tablet_kib():>12.0f}{r.peak_mib():>10.0f}"
            f"{r.launch_added_mib():>13.0f}{r.launch_cpu_s():>14.1f}{r.connected():>11,}"
        )
    if len(results) == 2:
        base, shared_r = results
        print(
            f"\nshared / baseline: memory per tablet {shared_r.per_tablet_kib() / base.per_tablet_kib():.2f}x, "
            f"launch CPU {shared_r.launch_cpu_s() / max(base.launch_cpu_s(), 1e-9):.2f}x"
        )
    print("target (issue 12): at most 100 KiB per tablet, all processes together")


if __name__ == "__main__":
    main()
