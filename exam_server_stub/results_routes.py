"""The jury's results API: correction once the units are closed, documents, traces, decisions.

National jury only. The correction is :mod:`vigie.correction` run in a thread on a
read-only connection to the server's own database, exactly as ``vigie correct DB``
runs it, so the API and the command give the same bytes. A result is kept until an
answer, a decision or a close changes what it was computed from.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from vigie.correction import report
from vigie.correction.docimology import analyse
from vigie.correction.results import Results, Sitting, correct, trace
from vigie.correction.rules import Rules, load_rules
from vigie.correction.source import NotClosed, UnknownUnit, open_readonly, read_sitting, version
from vigie.protocol import API_PREFIX, AuditKind, ErrorCode
from vigie.wire import http as w

from . import auth, queries
from .api import CANDIDATE_ID, QUESTION_ID, UNIT_ID, Api, Caller, Param, parse, respond
from .errors import ApiError
from .keys import EXAM

routes = Api()
J = f"{API_PREFIX}/jury"
E = ErrorCode
TAG = "results"
UNITS = Param("units", "comma-separated units to correct (default: every closed unit)")
_REFUSALS = (E.UNIT_NOT_CLOSED, E.UNKNOWN_UNIT)


class _Corrector:
    """One correction at a time; the last one kept while its inputs are unchanged."""

    def __init__(self, db: Path, rules: Rules) -> None:
        self.db = db
        self.rules = rules
        self._lock = threading.Lock()
        self._kept: tuple[Any, Sitting, Results] | None = None
        self.last_seconds = 0.0

    def get(self, units: tuple[str, ...] | None) -> tuple[Sitting, Results]:
        with self._lock:
            conn = open_readonly(self.db)
            try:
                stamp = (units, version(conn))
            finally:
                conn.close()
            if self._kept is not None and self._kept[0] == stamp:
                return self._kept[1], self._kept[2]
            t0 = time.perf_counter()
            sitting = read_sitting(self.db, units)
            results = correct(sitting, self.rules)
            self.last_seconds = time.perf_counter() - t0
            self._kept = (stamp, sitting, results)
            return sitting, results


_CORRECTOR = web.AppKey("corrector", _Corrector)


def setup(app: web.Application) -> None:
    """The corrector these routes share (the routes come with the others: route_tables)."""
    settings = app[EXAM].settings
    app[_CORRECTOR] = _Corrector(settings.db_path, load_rules(settings.rules_path))


def _json(doc: Any) -> web.Response:
    return web.Response(body=orjson.dumps(doc), content_type="application/json")


def _units(request: web.Request) -> tuple[str, ...] | None:
    raw = request.query.get("units")
    if raw is None:
        return None
    return tuple(u for u in (p.strip() for p in raw.split(",")) if u)


async def _results(request: web.Request) -> tuple[Sitting, Results]:
    auth.national(request)
    running = [u.unit.id for u in request.app[EXAM].units.values() if u.live]
    if running:
        # A correction of 12,000 candidates holds the interpreter for seconds: while tablets
        # sit a unit, their heartbeats would wait. `vigie correct DB` (another process) can.
        raise ApiError(
            ErrorCode.UNIT_NOT_CLOSED,
            f"Unit {running[0]} is running: results are computed once it is closed"
            " (or now with `vigie correct` on the database, in another process).",
        )
    units = _units(request)
    try:
        return await asyncio.to_thread(request.app[_CORRECTOR].get, units)
    except UnknownUnit as exc:
        raise ApiError(ErrorCode.UNKNOWN_UNIT, str(exc)) from exc
    except NotClosed as exc:
        raise ApiError(ErrorCode.UNIT_NOT_CLOSED, str(exc)) from exc


@routes.route(
    "GET", f"{J}/results", summary="Correction of the closed units: marks and ranking",
    tag=TAG, caller=Caller.NATIONAL, ok="application/json", errors=_REFUSALS, params=(UNITS,),
    description="Every candidate scored under the rules file (named, versioned, hashed): marks "
    "per unit (raw and on 20), rank-A and rank-B marks, global mark, rank-A minimum, the ranking "
    "with the tie rules, the jury's decisions applied. 409 unit_not_closed while a unit to "
    "correct is open: keys stay sealed until the close. See docs/correction.md.",
)  # fmt: skip
async def results(request: web.Request) -> web.Response:
    _, res = await _results(request)
    doc = res.to_json()
    doc["correction_seconds"] = round(request.app[_CORRECTOR].last_seconds, 3)
    return _json(doc)


@routes.route(
    "GET", f"{J}/results/questions", summary="Question analysis (docimology)", tag=TAG,
    caller=Caller.NATIONAL, ok="application/json", errors=_REFUSALS, params=(UNITS,),
    description="Per question the success rate and the discrimination index (upper-lower 27 %), "
    "the questions to look at (negative discrimination, success near zero) as candidates for "
    "neutralisation, and the distribution of marks per unit.",
)  # fmt: skip
async def questions(request: web.Request) -> web.Response:
    sitting, res = await _results(request)
    return _json(await asyncio.to_thread(analyse, sitting, res))


def _document(name: str, mime: str, render: Callable[[Results], str]) -> None:
    async def handler(request: web.Request) -> web.Response:
        _, res = await _results(request)
        text = await asyncio.to_thread(render, res)
        return web.Response(
            text=text, content_type=mime, charset="utf-8",
            headers={"Content-Disposition": f'inline; filename="{name}"'},
        )  # fmt: skip

    kind = "état récapitulatif des notes" if name.startswith(report.RECAP) else "classement"
    routes.route(
        "GET", f"{J}/results/{name}", summary=f"The {kind} ({mime}, French)", tag=TAG,
        caller=Caller.NATIONAL, ok=mime, errors=_REFUSALS, params=(UNITS,),
        description="Byte for byte what `vigie correct` writes from the same database.",
    )(handler)  # fmt: skip


_document(f"{report.RECAP}.csv", "text/csv", report.recap_csv)
_document(f"{report.RECAP}.html", "text/html", report.recap_html)
_document(f"{report.RANKING}.csv", "text/csv", report.ranking_csv)
_document(f"{report.RANKING}.html", "text/html", report.ranking_html)


async def _trace(request: web.Request) -> tuple[Results, str, list[Any]]:
    sitting, res = await _results(request)
    cid = request.match_info["candidate_id"]
    if cid not in request.app[EXAM].cands:
        raise ApiError(ErrorCode.UNKNOWN_CANDIDATE, f"There is no candidate {cid!r}.")
    lines = await asyncio.to_thread(trace, sitting, res.rules, cid)
    return res, cid, lines


@routes.route(
    "GET", f"{J}/results/candidates/{{candidate_id}}/trace", summary="A candidate's trace, for appeals",
    tag=TAG, caller=Caller.NATIONAL, ok="application/json",
    errors=(*_REFUSALS, E.UNKNOWN_CANDIDATE), params=(CANDIDATE_ID, UNITS),
    description="Each question: the answer, the key, discordances, points, the rule applied.",
)  # fmt: skip
async def candidate_trace(request: web.Request) -> web.Response:
    res, cid, lines = await _trace(request)
    row = next(c for c in res.candidates if c.candidate_id == cid)
    return _json(
        {
            "candidate_id": cid,
            "rules": res.rules.to_json(),
            "decisions": res.decisions.to_json(),
            "result": res.row(row),
            "lines": report.trace_json(lines),
        }
    )


@routes.route(
    "GET", f"{J}/results/candidates/{{candidate_id}}/trace.csv", summary="A candidate's trace as CSV",
    tag=TAG, caller=Caller.NATIONAL, ok="text/csv",
    errors=(*_REFUSALS, E.UNKNOWN_CANDIDATE), params=(CANDIDATE_ID, UNITS),
)  # fmt: skip
async def candidate_trace_csv(request: web.Request) -> web.Response:
    _, _, lines = await _trace(request)
    return web.Response(text=report.trace_csv(lines), content_type="text/csv", charset="utf-8")


@routes.route(
    "POST", f"{J}/questions/{{question_id}}/neutralise", summary="Neutralise a question",
    tag=TAG, caller=Caller.NATIONAL, body=w.ReasonOnly, ok=w.Neutralised,
    errors=(E.UNKNOWN_QUESTION,), params=(QUESTION_ID,),
    description="Written to the audit with its reason; what a neutralised question is worth "
    "is the rules file's `neutralised` entry. Every later result names the decision.",
)  # fmt: skip
async def neutralise(request: web.Request) -> web.Response:
    cl = auth.national(request)
    body = parse(w.ReasonOnly, await request.read())
    exam = request.app[EXAM]
    qid = request.match_info["question_id"]
    unit = next((u for u in exam.units.values() if qid in u.unit.by_id), None)
    if unit is None:
        raise ApiError(ErrorCode.UNKNOWN_QUESTION, f"There is no question {qid!r}.")
    now = exam.clock()
    actor = auth.actor(cl)
    data = {"question_id": qid, "unit_id": unit.unit.id, "reason": body.reason}

    def job(conn: sqlite3.Connection) -> None:
        queries.audit(conn, now, AuditKind.NEUTRALISE, actor, data)

    await exam.write(job)
    return respond(w.Neutralised(qid, unit.unit.id, body.reason, actor, now))


@routes.route(
    "POST", f"{J}/units/{{unit_id}}/replace", summary="Cancel a unit and replace it with a backup",
    tag=TAG, caller=Caller.NATIONAL, body=w.ReplaceUnit, ok=w.UnitReplaced,
    errors=(E.UNKNOWN_UNIT, E.UNIT_REPLACED), params=(UNIT_ID,),
    description="The backup unit, sat in its own time, counts in the cancelled unit's place "
    "(marks, rank A/B, tie rules) in every later result, which names the decision. Once per "
    "unit; a backup replaces one unit only and is then no longer scored as itself.",
)  # fmt: skip
async def replace_unit(request: web.Request) -> web.Response:
    cl = auth.national(request)
    body = parse(w.ReplaceUnit, await request.read())
    exam = request.app[EXAM]
    uid = request.match_info["unit_id"]
    for which in (uid, body.backup_id):
        if which not in exam.units:
            raise ApiError(ErrorCode.UNKNOWN_UNIT, f"There is no unit {which!r}.")
    if body.backup_id == uid:
        raise ApiError(ErrorCode.INVALID_REQUEST, "A unit cannot be its own backup.")
    now = exam.clock()
    actor = auth.actor(cl)
    data = {"unit_id": uid, "backup_id": body.backup_id, "reason": body.reason}

    def job(conn: sqlite3.Connection) -> None:
        # Checked in the writer, where decisions are serialised: two jurors at once cannot
        # both replace the same unit.
        for _, raw in queries.audit_of_kinds(conn, (AuditKind.REPLACE_UNIT,)):
            done = orjson.loads(raw)
            for which in (uid, body.backup_id):
                if which in (done["unit_id"], done["backup_id"]):
                    raise ApiError(
                        ErrorCode.UNIT_REPLACED,
                        f"Unit {which!r} is already part of a replacement "
                        f"({done['unit_id']} replaced by {done['backup_id']}).",
                    )
        queries.audit(conn, now, AuditKind.REPLACE_UNIT, actor, data)

    await exam.write(job)
    return respond(w.UnitReplaced(uid, body.backup_id, body.reason, actor, now))
