"""The target check ``vigie load`` and ``vigie certify`` run before the first wave.

A run against a server that does not hold the scenario's roster is nine minutes of
``401 bad_credentials``, judged as "protocol errors". So the fleet first asks, in a few
seconds: does the server answer; do a few candidates of each wave log in (first, middle and
last of the wave, with the scenario's seed); is the unit still to be launched; does the
national jury account work; does each centre hold the scenario's candidates; and, when the
server reports them (``GET /api/v1/jury/server``, vigie serve), are its knobs the scenario's.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests

from scenarios.model import Scenario
from scenarios.serving import server_spec
from simulator.identity import wave_order
from simulator.run.master import NATIONAL_USER
from simulator.settings import TabletIdentity
from vigie.jury_client import UNREACHABLE, JuryApiError, JuryClient
from vigie.protocol import API_PREFIX, UnitState

CHECK_TIMEOUT_S = 5.0  # per request: the whole check stays within seconds
SAMPLED_PER_WAVE = 3
# A scenario's error_rate knob answers some requests 503 on purpose: at 0.5, eleven tries
# all refused is 1 in 2,000.
RETRIES_503 = 10

T = TypeVar("T")


@dataclass
class TargetCheck:
    target: str
    problems: list[str] = field(default_factory=list)  # any: the run would not measure anything
    notes: list[str] = field(default_factory=list)  # said, not fatal
    roster_mismatch: bool = False  # the fix is a new database (another roster, a unit used)
    served_scenario: str | None = None  # what the server says it serves (vigie serve)
    login_heartbeat_s: float | None = None  # what a login answered

    @property
    def ok(self) -> bool:
        return not self.problems


def sampled(scenario: Scenario) -> dict[int, list[TabletIdentity]]:
    """First, middle and last candidate of each wave, in the order the wave connects them."""
    by_wave: dict[int, list[TabletIdentity]] = {}
    for identity in wave_order(scenario):
        by_wave.setdefault(identity.wave, []).append(identity)
    picks = {}
    for wave, ids in by_wave.items():
        idx = sorted({0, len(ids) // 2, len(ids) - 1})[:SAMPLED_PER_WAVE]
        picks[wave] = [ids[i] for i in idx]
    return picks


def check_target(scenario: Scenario, target: str, timeout: float = CHECK_TIMEOUT_S) -> TargetCheck:
    check = TargetCheck(target.rstrip("/"))
    with requests.Session() as http:
        probe = _Probe(http, check.target, timeout)
        if not _answers(probe, check):
            return check
        _logins(probe, scenario, check)
    jury = _jury(check, timeout)
    if jury is not None:
        _centres(jury, scenario, check)
        _knobs(jury, scenario, check)
    hb = check.login_heartbeat_s
    # Knobs not reported: the heartbeat a login asks for is still one.
    if (
        check.served_scenario is None
        and hb is not None
        and not math.isclose(hb, scenario.heartbeat_interval_s)
    ):
        check.problems.append(
            f"heartbeat_interval_s: the scenario wants {scenario.heartbeat_interval_s:g}, "
            f"the server has {hb:g}"
        )
    return check


class _Probe:
    def __init__(self, http: requests.Session, target: str, timeout: float) -> None:
        self.http, self.target, self.timeout = http, target, timeout

    def call(self, method: str, path: str, **kw: Any) -> requests.Response:
        for attempt in range(RETRIES_503 + 1):
            r = self.http.request(method, f"{self.target}{path}", timeout=self.timeout, **kw)
            if r.status_code != 503 or attempt == RETRIES_503:
                return r
            time.sleep(0.05)
        raise AssertionError("unreachable")


def _code(r: requests.Response) -> str:
    try:
        return f"{r.status_code} {r.json()['error']['code']}"
    except (ValueError, KeyError, TypeError):
        return str(r.status_code)


def _answers(probe: _Probe, check: TargetCheck) -> bool:
    try:
        r = probe.call("GET", "/healthz")
    except requests.RequestException as exc:
        check.problems.append(f"no exam server answers at {check.target} ({_reason(exc)})")
        return False
    if r.status_code != 200:
        check.problems.append(f"{check.target}/healthz answered {r.status_code}, not 200")
        return False
    return True


def _reason(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.ConnectionError) and "refused" in str(exc).lower():
        return "connection refused"
    if isinstance(exc, requests.Timeout):
        return f"no answer within {CHECK_TIMEOUT_S:g} s"
    return type(exc).__name__


def _logins(probe: _Probe, scenario: Scenario, check: TargetCheck) -> None:
    wanted = scenario.exam.unit_ids
    states: dict[str, str | None] = {}
    tried = 0
    refused: dict[int, list[str]] = {}  # wave -> "CID: why"
    for wave, identities in sampled(scenario).items():
        for identity in identities:
            tried += 1
            doc, why = _login(probe, identity)
            if doc is None:
                refused.setdefault(wave, []).append(f"{identity.candidate_id}: {why}")
                continue
            hb = doc.get("heartbeat_interval_s")
            if isinstance(hb, int | float):
                check.login_heartbeat_s = float(hb)
            for unit in doc.get("units", []):
                if unit.get("unit_id") in wanted:
                    states[str(unit.get("unit_id"))] = unit.get("state")
    if refused:
        check.roster_mismatch = True
        count = sum(len(v) for v in refused.values())
        waves = ", ".join(f"wave {w}: {len(v)}" for w, v in refused.items())
        first = next(iter(refused.values()))[0]
        check.problems.append(
            f"{count} of {tried} sampled candidates cannot log in ({waves}; {first}): the server "
            f"holds another roster or seed than scenario {scenario.name} (seed {scenario.seed}, "
            f"{scenario.total_tablets:,} candidates)"
        )
    for unit_id in wanted:
        _unit_problem(check, unit_id, states.get(unit_id), bool(refused), len(wanted) > 1)


def _unit_problem(
    check: TargetCheck, unit_id: str, state: str | None, refused: bool, several: bool
) -> None:
    field = "exam.units" if several else "exam.unit_id"
    if state is None:
        if not refused:
            check.problems.append(f"the server has no unit {unit_id} (the scenario's {field})")
    elif state != UnitState.SCHEDULED:
        check.roster_mismatch = True
        check.problems.append(
            f"unit {unit_id} is already {state} on this server (a previous run?): the "
            "jury could not launch it; the run needs a fresh database"
        )


def _login(probe: _Probe, identity: TabletIdentity) -> tuple[dict[str, Any] | None, str]:
    try:
        r = probe.call(
            "POST",
            f"{API_PREFIX}/login",
            json={
                "candidate_id": identity.candidate_id,
                "centre": identity.centre,
                "access_code": identity.access_code,
            },
        )
    except requests.RequestException as exc:
        return None, _reason(exc)
    if r.status_code != 200:
        return None, _code(r)
    doc: dict[str, Any] = r.json()
    return doc, ""


def _once(check: TargetCheck, problem: str) -> None:
    if problem not in check.problems:
        check.problems.append(problem)


def _jury(check: TargetCheck, timeout: float) -> JuryClient | None:
    user, password = NATIONAL_USER
    jury = JuryClient(check.target, timeout_s=timeout)
    try:
        _retrying(lambda: jury.login(user, password))
    except JuryApiError as exc:
        if exc.code == UNREACHABLE:
            check.problems.append(f"the jury login did not answer ({exc.message})")
        else:
            check.problems.append(
                f"the national jury account {user} / {password} is refused "
                f"({exc.status} {exc.code}): the run could not launch nor close the unit"
            )
        return None
    return jury


def _retrying(call: Callable[[], T]) -> T:
    """``call``, tried again while the server's error_rate knob answers 503."""
    for attempt in range(RETRIES_503 + 1):
        try:
            return call()
        except JuryApiError as exc:
            if exc.status != 503 or attempt == RETRIES_503:
                raise
            time.sleep(0.05)
    raise AssertionError("unreachable")


def _centres(jury: JuryClient, scenario: Scenario, check: TargetCheck) -> None:
    try:
        held = {str(c["code"]): int(c["candidates"]) for c in _retrying(jury.centres)}
    except JuryApiError as exc:
        check.notes.append(
            f"centres not checked: GET /jury/centres answered {exc.status} {exc.code}"
        )
        return
    short = [
        f"{code} (scenario {n:,}, server {held[code]:,})"
        if code in held
        else f"{code} (scenario {n:,}, not on the server)"
        for code, n in scenario.centres.items()
        if n > held.get(code, -1 if n else 0)
    ]
    if short:
        check.roster_mismatch = True
        more = f" and {len(short) - 5} more" if len(short) > 5 else ""
        check.problems.append(
            f"{len(short)} centre(s) hold fewer candidates than the scenario: "
            f"{', '.join(short[:5])}{more}"
        )
    extra = sum(held.values()) - scenario.total_tablets
    if not short and extra > 0:
        check.notes.append(
            f"the server holds {extra:,} candidates more than the scenario's "
            f"{scenario.total_tablets:,}: they stay not connected"
        )


def _knobs(jury: JuryClient, scenario: Scenario, check: TargetCheck) -> None:
    try:
        doc = _retrying(jury.server)
    except JuryApiError as exc:
        check.notes.append(
            f"the server does not report its knobs (GET /jury/server: {exc.status} {exc.code}): "
            "its connection cap and thresholds are not checked"
        )
        return
    check.served_scenario = str(doc.get("scenario") or "")
    reported = doc.get("knobs", {})
    for name, wanted in server_spec(scenario).knobs().items():
        if name not in reported:
            continue
        got = reported[name]
        if not _same(wanted, got):
            _once(check, f"{name}: the scenario wants {_show(wanted)}, the server has {_show(got)}")


def _same(wanted: Any, got: Any) -> bool:
    if isinstance(wanted, bool) or isinstance(got, bool):
        return bool(wanted) == bool(got)
    try:
        return math.isclose(float(wanted), float(got), abs_tol=1e-9)
    except (TypeError, ValueError):
        return False


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int | float):
        return f"{value:g}"
    return repr(value)


def explain(
    check: TargetCheck, prog: str, scenario: Scenario, scenario_ref: str, overrides: Sequence[str]
) -> str:
    """What is wrong, and the command that starts a matching server."""
    served = check.served_scenario
    what = ""
    if served and served != scenario.name:
        what = f" (it serves scenario {served})"
    elif served == "":
        what = " (it was not started with --scenario)"
    lines = [
        f"{prog}: {check.target} does not match scenario {scenario.name}{what}; "
        "nothing was run (no wave started):"
    ]
    lines += [f"  - {p}" for p in check.problems]
    lines += [f"  note: {n}" for n in check.notes]
    parts = urlsplit(check.target)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    sets = "".join(f" --set {o}" for o in overrides)
    local = parts.hostname in {"127.0.0.1", "localhost", "::1"}
    where = "in another terminal" if local else f"on {parts.hostname}"
    lines.append(f"Start a matching server {where}:")
    lines.append(f"  vigie serve --scenario {scenario_ref}{sets} --port {port}")
    if check.roster_mismatch:
        lines.append(
            f"  on a new database: a database keeps its roster and its units' launches, so "
            f"remove var/{scenario.name}.sqlite3 first, or give another --db"
        )
    lines.append(
        f"then run {prog} again; --no-check runs anyway (the report would not measure much)."
    )
    return "\n".join(lines)
