"""From a run record to a verdict: certified only when every wave met every SLO, the
whole planned fleet connected, and the generator was never the bottleneck."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from simulator.certify import real_tablets, reconciliation
from simulator.certify.extra_time import extra_time_problems
from simulator.certify.faults import fault_reasons, label, not_applied
from simulator.certify.generator import DEFAULT_CPU_LIMIT, GeneratorLoad, generator_load
from simulator.certify.judge import WaveJudgement, judge_waves
from simulator.certify.knee import Knee, figure, find_knee, knob_cap
from simulator.certify.slo import Slo, parse_slo
from simulator.record import RunRecord

REPORT_FORMAT = 1
EXIT_NOT_RUN = 3  # the target does not match the scenario: no wave was started


@dataclass(frozen=True, slots=True)
class Verdict:
    certified: bool
    headline: str  # the banner: one sentence a jury member can act on
    reasons: list[str]  # every reason it is not certified (empty when certified)
    planned_tablets: int
    max_connected: int
    knee: Knee | None  # the platform's first break
    measurement_breaks: list[Knee]  # breaks the test setup explains (never the knee)
    generator: GeneratorLoad
    waves: list[WaveJudgement]
    slos: list[Slo]
    record: RunRecord

    @property
    def verdict(self) -> str:
        return "certified" if self.certified else "failed"

    @property
    def ran(self) -> bool:
        """False when the target check stopped the run before its first wave."""
        return not self.record.target_problems

    @property
    def exit_code(self) -> int:
        if not self.ran:
            return EXIT_NOT_RUN
        return 0 if self.certified else 1

    @property
    def connection_cap(self) -> float | None:
        caps = [
            figure(s, "connection_cap") for s in self.record.samples if "connection_cap" in s.server
        ]
        if caps:
            return caps[-1] if caps[-1] > 0 else None
        return knob_cap(self.record.server_knobs) or None

    def to_json(self) -> dict[str, Any]:
        r = self.record
        return {
            "format": REPORT_FORMAT,
            "verdict": self.verdict,
            "ran": self.ran,
            "headline": self.headline,
            "reasons": list(self.reasons),
            "scenario": r.scenario,
            "scenario_path": r.scenario_path,
            "target": r.target,
            "started_at": r.started_at,
            "ended_at": r.ended_at,
            "duration_s": r.duration_s(),
            "generated_at": time.time(),
            "planned_tablets": self.planned_tablets,
            "max_connected": self.max_connected,
            "max_server_websockets": max(
                (figure(s, "websockets_open") for s in r.samples), default=None
            ),
            "connection_cap": self.connection_cap,
            "knee": None if self.knee is None else self.knee.to_json(),
            "measurement_breaks": [k.to_json() for k in self.measurement_breaks],
            "measurement_valid": not self.measurement_breaks and not self.generator.bound,
            "generator_bound": self.generator.bound,
            "generator": self.generator.to_json(),
            "slos": dict(r.slos),
            "server_knobs": dict(r.server_knobs),
            "waves": [w.to_json() for w in self.waves],
            "faults": [f.to_json() for f in r.faults],
            "checks": dict(r.checks),
            "reconciliation": None if r.reconciliation is None else r.reconciliation.to_json(),
            "real_tablets": real_tablets.to_json(r.real_tablets),
            "notes": list(r.notes),
        }


def decide(record: RunRecord, generator_cpu_limit: float = DEFAULT_CPU_LIMIT) -> Verdict:
    if record.target_problems:
        return _not_run(record, generator_cpu_limit)
    slos, reasons = _declared(record)

    judgements = judge_waves(record.waves, slos)
    generator = generator_load(record.samples, generator_cpu_limit)
    search = find_knee(record, judgements, generator_cpu_limit)
    knee = search.knee
    planned = record.planned_tablets()
    connected = record.max_sockets_open()

    for j in judgements:
        for result in j.results.values():
            if result.passed is False:
                reasons.append(
                    f"{_wave_label(j)}: {result.slo.describe()} broken "
                    f"({_figure(result.slo, result.value)})"
                )
    for slo in slos:
        if all(j.results[slo.name].value is None for j in judgements):
            reasons.append(f"{slo.describe()} was never measured in any wave")
    if connected < planned:
        reasons.append(f"only {connected:,} of the {planned:,} planned tablets were connected")
    for setup in search.measurement:
        reasons.append(
            f"wave {setup.wave}: {', '.join(setup.slos)} broke at {setup.connected:,} connected "
            f"tablets because {setup.detail}"
        )
    if generator.bound:
        reasons.append(
            f"the load generator was CPU-bound (peak {generator.peak_cpu:.0%} of a core, "
            f"over {generator.limit:.0%} for {generator.seconds_over:,.0f} s): its figures "
            "measure the generator, not the platform"
        )
    if record.ended_at is None:
        reasons.append("the run did not finish (no end time recorded)")
    # The platform's own failures that no SLO sees: a recovery, a deadline.
    recovery = fault_reasons(record) + extra_time_problems(record.checks.get("extra_time", {}))
    reasons.extend(recovery)
    others = bool(reasons)
    lost = reconciliation.reasons(record.reconciliation)  # lost answers fail whatever else
    reasons += lost

    certified = not reasons
    headline = _headline(
        certified, planned, connected, knee, search.measurement, generator, reasons
    )
    if knee is None and recovery and not certified:
        headline = f"Failed: {recovery[0]}"
    headline = reconciliation.headline(record.reconciliation, headline, alone=not others)
    headline += _skipped_faults(record)
    return Verdict(
        certified=certified,
        headline=headline,
        reasons=reasons,
        planned_tablets=planned,
        max_connected=connected,
        knee=knee,
        measurement_breaks=list(search.measurement),
        generator=generator,
        waves=judgements,
        slos=slos,
        record=record,
    )


def _declared(record: RunRecord) -> tuple[list[Slo], list[str]]:
    """The SLOs to judge, and what makes the run uncertifiable before anything is judged."""
    reasons: list[str] = []
    slos: list[Slo] = []
    for name, threshold in record.slos.items():
        try:
            slos.append(parse_slo(name, threshold))
        except ValueError as exc:
            reasons.append(f"an SLO cannot be judged: {exc}")
    if not record.slos:
        reasons.append("the scenario declares no SLO: there is nothing to certify against")
    if not record.waves:
        reasons.append("the run recorded no wave")
    return slos, reasons


def _skipped_faults(record: RunRecord) -> str:
    skipped = not_applied(record)
    if not skipped:
        return ""
    listed = "; ".join(f"{label(f)}: {f.how}" for f in skipped)
    return f" ({len(skipped)} of {len(record.faults)} faults not applied: {listed})"


def _not_run(record: RunRecord, generator_cpu_limit: float) -> Verdict:
    problems = record.target_problems
    more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
    return Verdict(
        certified=False,
        headline=f"Not run: {record.target} does not match scenario {record.scenario}: "
        f"{problems[0]}{more}",
        reasons=[f"target check: {p}" for p in problems],
        planned_tablets=record.planned_tablets(),
        max_connected=0,
        knee=None,
        measurement_breaks=[],
        generator=generator_load([], generator_cpu_limit),
        waves=judge_waves(record.waves, []),
        slos=[],
        record=record,
    )


def _headline(
    certified: bool,
    planned: int,
    connected: int,
    knee: Knee | None,
    setup_breaks: list[Knee],
    generator: GeneratorLoad,
    reasons: list[str],
) -> str:
    if certified:
        return f"Certified for {planned:,} simultaneous tablets"
    if knee is not None:
        text = f"Failed at {knee.connected:,} connected tablets in wave {knee.wave}: {knee.detail}"
        if setup_breaks or generator.bound:
            text += " (the test setup was also short of CPU at times)"
        return text
    if setup_breaks:
        first = setup_breaks[0]
        return (
            f"Not certified: the test setup, not the platform, broke the SLOs from "
            f"{first.connected:,} connected tablets in wave {first.wave}: {first.detail}"
        )
    if generator.bound:
        return (
            "Not certified: the load generator ran out of CPU "
            f"(peak {generator.peak_cpu:.0%} of a core), so this run cannot tell the "
            "platform's capacity"
        )
    if connected < planned:
        return f"Failed: only {connected:,} of the {planned:,} planned tablets connected"
    return f"Failed: {reasons[0]}" if reasons else "Failed"


def _figure(slo: Slo, value: float | None) -> str:
    if value is None:
        return "not measured"
    if slo.kind.value == "latency":
        return f"{value:,.0f} ms"
    return f"{value:.2%}"


def _wave_label(j: WaveJudgement) -> str:
    w = j.wave
    plain = f"wave {w.number}"
    return plain if w.name.strip().lower() == plain else f"{plain} ({w.name})"
