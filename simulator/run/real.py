"""Mixed fleets: the centres a scenario leaves to real tablets (``real_tablets``).

Before the first wave the faculty is told where its tablets log in, how to get their
access codes and when the national launch comes (:func:`briefing`). During the unit a
watch polls their rows for incidents (:class:`RealWatch`). Once the unit is over, the
centres' figures are read from the server's jury API, the national account the runner
already uses (:func:`real_tablets_figures`): who logged in and who was
connected at the launch (rebuilt from each candidate's audit timeline, as the server
rebuilds its own supervision), the disconnection episodes, who handed in, and the
answers stored (the NDJSON answer export). They are reported apart and never judged:
the fleet does not control these tablets, and their WiFi is what the rehearsal tests.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from urllib.parse import quote

import msgspec

from scenarios.model import Scenario
from simulator.record import RealCentreRun
from simulator.run.jury import NATIONAL_USER, NationalJury
from simulator.run.reconcile import ExportError, export_records
from vigie.jury_client import JuryApiError
from vigie.protocol import INCIDENT_STATES
from vigie.wire.http import AnswerRecord, Feed, Incidents, Timeline

_feed = msgspec.json.Decoder(Feed)
_incidents = msgspec.json.Decoder(Incidents)
_timeline = msgspec.json.Decoder(Timeline)
_FAILURES = (JuryApiError, msgspec.DecodeError, KeyError, ValueError)


def tablet_url(base: str, centre: str) -> str:
    """Where a centre's real tablets open the browser client (docs/tablet-app.md)."""
    return f"{base.rstrip('/')}/tablet/?centre={quote(centre)}"


def roster_command(scenario_ref: str, overrides: Sequence[str], centre: str) -> str:
    """The command that writes a centre's candidates and access codes (CSV)."""
    args = ["vigie", "demo", "--scenario", scenario_ref]
    for item in overrides:
        args += ["--set", item]
    args += ["--centre", centre, "--roster", f"roster-{centre}.csv"]
    return shlex.join(args)


def briefing(
    scenario: Scenario,
    scenario_ref: str,
    overrides: Sequence[str],
    tablet_base: str,
    run_start: float,
) -> list[str]:
    """What the faculty must do, printed before the first wave (empty: no real centre).

    ``run_start`` is the wall-clock time of run time 0, so the launch is a time of day.
    """
    real = scenario.real_tablets
    if real is None:
        return []
    launch = datetime.fromtimestamp(run_start + scenario.exam.launch_at_s).astimezone()
    lines = [
        "real tablets: the simulated fleet plays no candidate of "
        + ", ".join(real.centres)
        + "; their tablets sit the same national launch"
    ]
    for code in real.centres:
        held = scenario.centres[code]
        lines.append(
            f"  {code}: {real.expected_in(code, held):,} tablets expected ({held:,} candidates)"
            f", log in at {tablet_url(tablet_base, code)}"
        )
        lines.append(f"    access codes: {roster_command(scenario_ref, overrides, code)}")
    lines.append(
        f"  national launch of {scenario.exam.unit_id} at {launch:%H:%M:%S %Z} "
        f"(in {scenario.exam.launch_at_s:.0f} s): log the tablets in before it"
    )
    if not tablet_base.startswith("https://"):
        lines.append(
            "  the browser client decrypts only over HTTPS (or on the server's own machine): "
            "give the tablets an https address (--tablet-url, docs/fleet.md)"
        )
    return lines


#: Seen = {centre: {state: candidate ids}}: who was late, lost or unfinished during the unit.
Seen = dict[str, dict[str, set[str]]]


class RealWatch:
    """Polls the real centres' supervision rows during the unit, every ``period_s``: a
    tablet late for ten seconds is back in progress by the end, and the faculty wants it
    counted. The master's greenlet; ``sleep`` is gevent's there."""

    def __init__(
        self,
        scenario: Scenario,
        jury: NationalJury,
        now: Callable[[], float],
        sleep: Callable[[float], object],
        period_s: float = 2.0,
    ) -> None:
        self.scenario, self.jury, self.now, self.sleep = scenario, jury, now, sleep
        self.period_s = period_s
        centres = scenario.real_tablets.centres if scenario.real_tablets else []
        self.seen: Seen = {c: {s.value: set() for s in INCIDENT_STATES} for c in centres}
        self.failures = 0

    def run(self) -> None:
        end = self.scenario.close_at_s + self.period_s
        while self.now() < self.scenario.exam.launch_at_s:
            self.sleep(min(self.period_s, self.scenario.exam.launch_at_s - self.now()))
        while self.now() < end:
            self.poll()
            self.sleep(self.period_s)

    def poll(self) -> None:
        for code, seen in self.seen.items():
            try:
                rows = _feed.decode(self.jury.raw("/jury/snapshot", centre=code)).candidates
            except _FAILURES:
                self.failures += 1  # the next poll will do; the end-of-run read says more
                continue
            for row in rows:
                if row.state in INCIDENT_STATES:
                    seen[row.state.value].add(row.id)


def real_tablets_figures(
    scenario: Scenario, target: str, jury: NationalJury | None = None, seen: Seen | None = None
) -> list[RealCentreRun]:
    """Each real centre's figures from the jury API; a centre that cannot be read says
    why in its ``problem`` (never an exception: the run's record must be written).

    The unit's figures are this run's (the target check found it not launched yet); a
    login is counted whenever it came, a connection test the day before included.
    """
    if scenario.real_tablets is None:
        return []
    jury = jury or NationalJury(target)
    unit = scenario.exam.unit_id
    out = [
        RealCentreRun(
            centre=code,
            candidates=scenario.centres[code],
            expected=scenario.real_tablets.expected_in(code, scenario.centres[code]),
        )
        for code in scenario.real_tablets.centres
    ]
    for run in out:
        try:
            _from_supervision(run, jury, unit, (seen or {}).get(run.centre, {}))
        except _FAILURES as exc:
            run.problem = f"the jury API could not be read: {exc}"
    try:
        _answers(out, export_records(jury, NATIONAL_USER), unit)
    except (ExportError, *_FAILURES) as exc:
        for run in out:
            run.problem = run.problem or f"the answer export could not be read: {exc}"
    for run in out:
        run.warnings = warnings(run)
    return out


def _from_supervision(
    run: RealCentreRun, jury: NationalJury, unit: str, seen: dict[str, set[str]]
) -> None:
    feed = _feed.decode(jury.raw("/jury/snapshot", centre=run.centre))
    rows = [r for r in feed.candidates if r.centre == run.centre]
    run.connected_at_end = sum(1 for r in rows if r.connected)
    # Candidates in each incident state at some point: polled during the unit, and now.
    run.incidents = {
        s.value: len(seen.get(s.value, set()) | {r.id for r in rows if r.state == s})
        for s in sorted(INCIDENT_STATES)
    }
    material = _incidents.decode(jury.raw("/jury/incidents", centre=run.centre))
    launched = [
        e.ts for e in material.events if e.kind == "launch" and e.data.get("unit_id") == unit
    ]
    episodes = [e for e in material.episodes if e.unit_id == unit]
    run.disconnections = len(episodes)
    run.reconnects = sum(1 for e in episodes if e.end is not None)
    run.disconnected_s = round(sum(e.duration_s or 0.0 for e in episodes), 1)
    launch = launched[-1] if launched else None
    for row in rows:
        path = f"/jury/candidates/{quote(row.id)}/timeline"
        events = _timeline.decode(jury.raw(path)).events
        if any(e.kind == "login" for e in events):
            run.logged_in += 1
        if launch is not None and connected_at(events, launch):
            run.connected_at_launch += 1
        if any(e.kind == "finish" and e.data.get("unit_id") == unit for e in events):
            run.finished += 1


def connected_at(events: Iterable[object], ts: float) -> bool:
    """Whether the candidate's socket was open at ``ts``, from its connect/disconnect
    rows in audit order (a superseded socket writes no disconnect: the newer is current)."""
    connected = False
    for e in events:
        kind, when = getattr(e, "kind", ""), getattr(e, "ts", 0.0)
        if when > ts:
            break
        if kind == "connect":
            connected = True
        elif kind == "disconnect":
            connected = False
    return connected


def _answers(runs: list[RealCentreRun], records: Iterable[AnswerRecord], unit: str) -> None:
    by_centre = {run.centre: run for run in runs}
    questions: dict[str, set[tuple[str, str]]] = {code: set() for code in by_centre}
    for rec in records:
        run = by_centre.get(rec.centre)
        if run is None or rec.unit_id != unit:
            continue
        run.answers_stored += 1
        questions[rec.centre].add((rec.candidate_id, rec.question_id))
    for code, run in by_centre.items():
        run.questions_answered = len(questions[code])


def warnings(run: RealCentreRun) -> list[str]:
    """What the faculty must look at: tablets absent at the launch, or never seen."""
    out = []
    if run.problem is None and run.logged_in == 0 and run.expected:
        out.append(f"{run.centre}: no real tablet logged in ({run.expected:,} expected)")
    elif run.problem is None and run.connected_at_launch < run.expected:
        absent = run.expected - run.connected_at_launch
        out.append(
            f"{run.centre}: {absent:,} of the {run.expected:,} expected real tablets were not "
            "connected at the national launch"
        )
    return out


def summary_lines(runs: Sequence[RealCentreRun]) -> list[str]:
    """One line per real centre for the run's notes and the terminal."""
    lines = []
    for r in runs:
        if r.problem is not None:
            lines.append(f"real tablets {r.centre}: not read: {r.problem}")
            continue
        lines.append(
            f"real tablets {r.centre}: {r.logged_in}/{r.expected} logged in, "
            f"{r.connected_at_launch} connected at the launch, {r.connected_at_end} at the end, "
            f"{r.answers_stored:,} answers stored, {r.finished} finished"
        )
    return lines


def note_all(runs: Sequence[RealCentreRun], note: Callable[[str], None]) -> None:
    for line in summary_lines(runs):
        note(line)
    for run in runs:
        for warning in run.warnings:
            note(f"warning: {warning}")
