"""The scenario model: a national wave replay, declared in YAML and validated here.

Pydantic does the type work (``extra="forbid"`` turns a typo into an "unknown key"
error); the cross-field rules (waves naming known centres, each centre in exactly
one wave) are model validators so that their errors carry a key path too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, model_validator

PositiveFloat = Annotated[float, Field(gt=0)]
NonNegativeFloat = Annotated[float, Field(ge=0)]
Ratio = Annotated[float, Field(ge=0, le=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Wave(_Strict):
    """A group of centres whose tablets connect together, starting at ``start_s``."""

    name: str
    centres: list[str] = Field(min_length=1)
    start_s: NonNegativeFloat  # seconds since the run start (already compressed)
    rate_per_s: PositiveFloat  # tablets connecting per second


class ThinkTime(_Strict):
    """Seconds between two answers in real exam time, before compression (lognormal)."""

    median_s: PositiveFloat = 90.0
    sigma: NonNegativeFloat = 0.6
    min_s: NonNegativeFloat = 5.0
    max_s: PositiveFloat = 600.0

    @model_validator(mode="after")
    def _bounds(self) -> ThinkTime:
        if self.min_s > self.max_s:
            raise ValueError(f"min_s ({self.min_s}) is above max_s ({self.max_s})")
        return self


class Exam(_Strict):
    """The jury's timeline: launch the unit nationally, close it after its (compressed) duration.

    ``units`` sits several units in a row (an EDN day: ``[ue1, ue2]``; the whole session):
    each lasts ``duration_s``, and the next is launched ``break_s`` (real time, compressed
    like the rest) after the previous one ended for everyone, tiers-temps included.
    """

    unit_id: str = "ue1"  # a unit of the demo session (ue1..ue3, lca1, lca2)
    units: list[str] = []
    break_s: NonNegativeFloat = 0.0
    launch_at_s: NonNegativeFloat  # run time of the national launch
    duration_s: PositiveFloat = 10800.0  # real duration; the server gets duration_s / compression
    close: bool = True  # the jury closes the unit at its deadline
    answer_fraction: Ratio = 1.0  # share of the questions each tablet answers
    tail_s: NonNegativeFloat = 15.0  # run time kept after the close (finishing, last reports)

    @model_validator(mode="after")
    def _one_way_to_name_units(self) -> Exam:
        if self.units and "unit_id" in self.model_fields_set:
            raise _at(("units",), "give either exam.unit_id or exam.units, not both")
        for i, uid in enumerate(self.units):
            if self.units.index(uid) != i:
                raise _at(("units", i), f"unit {uid!r} is listed twice")
        return self

    @property
    def unit_ids(self) -> list[str]:
        """The units sat, in order."""
        return list(self.units) or [self.unit_id]


@dataclass(frozen=True)
class UnitSlot:
    """When the scripted jury launches and closes one unit (run seconds, nominal)."""

    unit_id: str
    launch_s: float
    close_s: float

    @property
    def duration_s(self) -> float:
        return self.close_s - self.launch_s


class Slos(_Strict):
    """Service-level objectives judged wave by wave by the certifier."""

    heartbeat_p99_ms: PositiveFloat = 1000.0
    answer_p99_ms: PositiveFloat = 2000.0
    failure_ratio_max: Ratio = 0.01
    connection_success_min: Ratio = 0.99
    generator_cpu_max: Ratio = 0.8  # above: the run is generator-bound, never certified


class ServerKnobs(_Strict):
    """Knobs applied to the exam server (``vigie serve`` options) for this scenario."""

    max_connections: NonNegativeInt = 0  # 0: no cap
    latency_ms: NonNegativeFloat = 0.0
    error_rate: Ratio = 0.0
    # CPU every API call burns on the server's event loop (ms): a saturating server (2015)
    request_cpu_ms: Annotated[float, Field(ge=0, le=1000)] = 0.0
    ws_compression: bool = True
    late_after_s: PositiveFloat | None = None
    lost_after_s: PositiveFloat | None = None


class Fleet(_Strict):
    """How the simulated tablets behave (mapped onto simulator.settings.FleetSettings)."""

    permessage_deflate: bool = True
    predownload: bool = True
    share_packages: bool = True  # False only to measure the generator's memory without it
    reconnect_base_s: PositiveFloat = 1.0
    reconnect_max_s: PositiveFloat = 30.0
    request_timeout_s: PositiveFloat = 30.0


class Cohort(_Strict):
    """How the candidates answer, so that the marks spread like a real cohort's and the
    ranking means something: ``skilled_share`` of them answer each question from the key
    with their own chance ``skill`` (drawn once per candidate from the seed, a normal of
    ``skill_mean`` and ``skill_sd`` clipped to 0..1), the others at random."""

    skilled_share: Ratio = 0.8
    skill_mean: Ratio = 0.6
    skill_sd: Annotated[float, Field(ge=0, le=0.5)] = 0.15


class TiersTemps(_Strict):
    """Planned extra time (tiers-temps) in the roster: ``share`` of the candidates get
    ``ratio`` of each unit's duration, applied by the server at the launch."""

    share: Ratio = 0.03
    ratio: Annotated[float, Field(ge=0, le=2)] = 1 / 3


class RealTablets(_Strict):
    """Centres whose candidates sit the run on real tablets (the browser client at
    ``/tablet/``): the simulated fleet plays none of their candidates, and the report
    gives their figures apart, never judged into the capacity verdict."""

    centres: list[str] = Field(min_length=1)
    # How many real tablets are expected: one count (a single centre) or one per centre;
    # a centre left out expects all its candidates.
    expected: NonNegativeInt | dict[str, NonNegativeInt] | None = None

    def expected_in(self, code: str, candidates: int) -> int:
        if isinstance(self.expected, int):
            return self.expected
        if isinstance(self.expected, dict) and code in self.expected:
            return self.expected[code]
        return candidates


NetMode = Literal["nftables", "simulated"]


class _Fault(_Strict):
    """A fault the run injects at ``at_s`` (run time) for ``duration_s`` (docs/faults.md).

    ``detection_s_max`` and ``recovery_s_max`` make its recovery judged: the server's
    supervision must see the affected tablets late or lost within the first, and 99% of
    them must be back in progress within the second after the fault ends.
    """

    at_s: NonNegativeFloat
    duration_s: PositiveFloat
    detection_s_max: PositiveFloat | None = None
    recovery_s_max: PositiveFloat | None = None

    @property
    def end_s(self) -> float:
        return self.at_s + self.duration_s

    @property
    def targets(self) -> list[str]:
        """The centres it hits; empty for a fault of the whole platform."""
        return list(getattr(self, "centres", []))


class CentreOutage(_Fault):
    """A centre's network is gone (no FIN): its tablets' packets are dropped both ways."""

    kind: Literal["centre_outage"]
    centres: list[str] = Field(min_length=1)
    mode: NetMode = "nftables"


class ReconnectLoop(_Fault):
    """A centre's sockets are cut (RST) every ``every_s`` (Lyon Sud, 2025)."""

    kind: Literal["reconnect_loop"]
    centres: list[str] = Field(min_length=1)
    every_s: PositiveFloat = 30.0
    mode: NetMode = "nftables"

    @model_validator(mode="after")
    def _period(self) -> ReconnectLoop:
        if self.every_s > self.duration_s:
            raise ValueError(f"every_s ({self.every_s:g}) is longer than duration_s")
        return self


class ServerCrash(_Fault):
    """The exam server is killed (SIGKILL), restarted after ``duration_s``."""

    kind: Literal["server_crash"]


class DbStall(_Fault):
    """The database commits nothing for ``duration_s`` (2023)."""

    kind: Literal["db_stall"]


class LatencyFault(_Fault):
    kind: Literal["latency"]
    ms: Annotated[float, Field(gt=0, le=60_000)]


class ErrorRateFault(_Fault):
    kind: Literal["error_rate"]
    ratio: Annotated[float, Field(gt=0, le=1)]


class DropPlannedExtraTime(_Fault):
    """The server forgets the planned extra time (tiers-temps) of these centres (2019)."""

    kind: Literal["drop_planned_extra_time"]
    centres: list[str] = Field(min_length=1)


Fault = Annotated[
    CentreOutage
    | ReconnectLoop
    | ServerCrash
    | DbStall
    | LatencyFault
    | ErrorRateFault
    | DropPlannedExtraTime,
    Field(discriminator="kind"),
]
#: Faults that need control of the exam server (the operator endpoint, or vigie rehearse).
SERVER_FAULTS = frozenset(
    {"server_crash", "db_stall", "latency", "error_rate", "drop_planned_extra_time"}
)
#: Faults on a centre's network, applied by the fleet (nftables, or simulated).
NETWORK_FAULTS = frozenset({"centre_outage", "reconnect_loop"})


#: Run seconds between the end of a unit's last extra time and the next launch: the
#: server's deadlines are rounded, and the jury's call must find every candidate done.
UNIT_GAP_S = 2.0


class Scenario(_Strict):
    name: str = Field(min_length=1)
    description: str = ""
    seed: int = 2022
    centres_file: str | None = None  # a centres YAML; the 35 faculties by default
    # The correction's rules file (docs/correction.md), beside the scenario; vigie-edn by default.
    correction_rules: str | None = None
    centres: dict[str, NonNegativeInt] = Field(min_length=1)  # centre code -> candidates
    waves: list[Wave] = Field(min_length=1)
    heartbeat_interval_s: PositiveFloat = 5.0
    time_compression: Annotated[float, Field(ge=1)] = 1.0
    think_time: ThinkTime = ThinkTime()
    exam: Exam
    slos: Slos = Slos()
    server: ServerKnobs = ServerKnobs()
    fleet: Fleet = Fleet()
    cohort: Cohort = Cohort()
    tiers_temps: TiersTemps = TiersTemps()
    faults: list[Fault] = []
    real_tablets: RealTablets | None = None  # centres left to real tablets (mixed fleets)

    @model_validator(mode="after")
    def _faults_fit(self) -> Scenario:
        for i, fault in enumerate(self.faults):
            unknown = [c for c in fault.targets if c not in self.centres]
            if unknown:
                raise _at(
                    ("faults", i, "centres"),
                    f"{fault.kind} names centre(s) not in the scenario: {', '.join(unknown)}",
                )
            real = [c for c in fault.targets if c in self.real_centres]
            if real and fault.kind in NETWORK_FAULTS:
                # The fleet cuts its own tablets' network, never a faculty's WiFi.
                raise _at(
                    ("faults", i, "centres"),
                    f"{fault.kind} names centre(s) left to real tablets: {', '.join(real)}",
                )
            if fault.end_s > self.end_s:
                raise _at(
                    ("faults", i),
                    f"{fault.kind} ends at {fault.end_s:g} s, past the end of the run "
                    f"({self.end_s:g} s)",
                )
        return self

    @model_validator(mode="after")
    def _waves_cover_centres(self) -> Scenario:
        seen: dict[str, str] = {}
        for i, wave in enumerate(self.waves):
            for code in wave.centres:
                if code not in self.centres:
                    raise _at(
                        ("waves", i, "centres"), f"wave {wave.name!r} names unknown centre {code!r}"
                    )
                if code in seen:
                    raise _at(
                        ("waves", i, "centres"),
                        f"centre {code!r} is in two waves ({seen[code]!r} and {wave.name!r})",
                    )
                seen[code] = wave.name
        missing = sorted(set(self.centres) - set(seen))
        if missing:
            raise _at(("waves",), f"centres in no wave: {', '.join(missing)}")
        for i, wave in enumerate(self.waves):
            if not self.fleet_centres(wave):
                raise _at(
                    ("waves", i, "centres"),
                    f"wave {wave.name!r} has only centres left to real tablets: "
                    "the simulated fleet would start nothing in it",
                )
        starts = [w.start_s for w in self.waves]
        if starts != sorted(starts):
            raise _at(("waves",), "waves must be listed in start order")
        if self.exam.launch_at_s < starts[-1]:
            raise _at(("exam", "launch_at_s"), "the launch comes before the last wave starts")
        return self

    @model_validator(mode="after")
    def _real_tablets_sit_one_unit(self) -> Scenario:
        if self.real_tablets is not None and len(self.exam.unit_ids) > 1:
            # The real centres' figures are read on one unit (simulator/run/real.py).
            raise _at(("exam", "units"), "a run with real tablets sits one unit")
        return self

    @model_validator(mode="before")
    @classmethod
    def _real_centres_known(cls, data: Any) -> Any:
        # Before the waves' rules, so that a real centre unknown to the scenario is named
        # under real_tablets, where the mistake is.
        if isinstance(data, dict):
            real, centres = data.get("real_tablets"), data.get("centres")
            if isinstance(real, dict) and isinstance(centres, dict):
                _check_real(real, centres)
        return data

    # --- derived figures ------------------------------------------------------------
    @property
    def total_tablets(self) -> int:
        """Every candidate of the roster, real centres included (the server holds them all)."""
        return sum(self.centres.values())

    @property
    def real_centres(self) -> frozenset[str]:
        return frozenset(self.real_tablets.centres) if self.real_tablets else frozenset()

    def fleet_centres(self, wave: Wave) -> list[str]:
        """The wave's centres the simulated fleet plays (those not left to real tablets)."""
        return [c for c in wave.centres if c not in self.real_centres]

    @property
    def simulated_centres(self) -> list[str]:
        return [c for c in self.centres if c not in self.real_centres]

    @property
    def simulated_tablets(self) -> int:
        """The simulated fleet's tablets: what the waves start and the verdict plans for."""
        return sum(self.centres[c] for c in self.simulated_centres)

    def wave_tablets(self, wave: Wave) -> int:
        """The simulated tablets the wave starts (a real centre's candidates are not)."""
        return sum(self.centres[c] for c in self.fleet_centres(wave))

    @property
    def unit_duration_s(self) -> float:
        """The unit's duration on the server, compressed."""
        return self.exam.duration_s / self.time_compression

    @property
    def schedule(self) -> list[UnitSlot]:
        """Every unit's launch and close. The next unit waits for the tiers-temps of the
        previous one (the server launches nothing while a candidate still works) and the
        break; the jury's timeline launches it later still if incident time runs on."""
        planned = self.tiers_temps.ratio * self.unit_duration_s if self.tiers_temps.share else 0.0
        gap = planned + self.exam.break_s / self.time_compression + UNIT_GAP_S
        slots: list[UnitSlot] = []
        launch = self.exam.launch_at_s
        for uid in self.exam.unit_ids:
            slots.append(UnitSlot(uid, launch, launch + self.unit_duration_s))
            launch = slots[-1].close_s + gap
        return slots

    @property
    def close_at_s(self) -> float:
        """The last unit's close."""
        return self.schedule[-1].close_s

    @property
    def end_s(self) -> float:
        """Run time at which the fleet stops."""
        return self.close_at_s + self.exam.tail_s


def _check_real(real: dict[str, Any], centres: dict[str, Any]) -> None:
    """The real centres are the scenario's, each once; ``expected`` fits them."""
    codes = real.get("centres")
    if not isinstance(codes, list):
        return  # the field's own validation says what is wrong
    if not codes:
        return  # min_length says so
    for j, code in enumerate(codes):
        if code not in centres:
            raise _at(("real_tablets", "centres", j), f"centre {code!r} is not in the scenario")
        if codes.index(code) != j:
            raise _at(("real_tablets", "centres", j), f"centre {code!r} is named twice")
    expected = real.get("expected")
    loc: tuple[str, ...] = ()
    if isinstance(expected, int) and not isinstance(expected, bool):
        if len(codes) > 1:
            raise _at(
                ("real_tablets", "expected"),
                "one count for several centres: give one per centre ({CODE: count})",
            )
        expected, loc = {codes[0]: expected}, ("real_tablets", "expected")
    if not isinstance(expected, dict):
        return
    for code, count in expected.items():
        where = loc or ("real_tablets", "expected", code)
        if code not in codes:
            raise _at(where, f"centre {code!r} is not in real_tablets.centres")
        held = centres.get(code)
        if isinstance(count, int) and isinstance(held, int) and count > held:
            raise _at(where, f"{count} expected, but {code} has {held} candidates")


class KeyPathError(ValueError):
    """A cross-field error raised inside a validator, with the key path it concerns."""

    def __init__(self, loc: tuple[Any, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


def _at(loc: tuple[Any, ...], message: str) -> KeyPathError:
    return KeyPathError(loc, message)
