"""The results API: national jury only, after the close; keys never reach a candidate."""

from __future__ import annotations

import base64
import csv
import io
import json
import sqlite3
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from exam_server_stub.package import open_package
from vigie import cli
from vigie.correction.keys import session_keys
from vigie.demo import Question, generate_session
from vigie.protocol import QuestionFormat

SEED = 7  # the seed of the conftest app
SESSION = generate_session(SEED)
UE1 = SESSION.units[0]
KEYS = session_keys(SESSION)
KEY_FIELDS = (
    '"right"',
    '"indispensable"',
    '"inacceptable"',
    '"zones"',
    '"accepted"',
    '"panel"',
    '"rank"',
)


def right_answer(q: Question) -> dict[str, Any]:
    k = KEYS[q.id]
    if q.format is QuestionFormat.ZAP:
        return {"points": [[(z[0] + z[2]) / 2, (z[1] + z[3]) / 2] for z in k.zones]}
    if q.format is QuestionFormat.QROC:
        return {"text": k.accepted[0]}
    if q.format is QuestionFormat.TCS:
        return {"scale": max(set(k.panel), key=k.panel.count)}
    return {"choices": list(k.right)}


def assert_no_key(text: str) -> None:
    for field in KEY_FIELDS:
        assert field not in text, field
    for k in KEYS.values():
        for a in k.accepted:
            if len(a) > 4:  # short abbreviations can occur in base64 image data
                assert a not in text, a


def plain_answer(q: Question) -> dict[str, Any]:
    """A valid answer that quotes no key (a right one would be echoed back by /me)."""
    if q.format is QuestionFormat.QROC:
        return {"text": "je ne sais pas"}
    if q.format in (QuestionFormat.ZAP, QuestionFormat.TCS):
        return right_answer(q)
    return {"choices": list(range(q.expected_count or 1))}


async def sit_ue1(api: Any, token: str, answer: Any = right_answer) -> list[str]:
    """Answer every question of ue1, through every candidate route; keep each body."""
    h = api.bearer(token)
    seen: list[str] = []
    r = await api.client.get("/api/v1/units/ue1/package", headers=h)
    package = await r.read()
    r = await api.client.get("/api/v1/units/ue1/key", headers=h)
    seen.append(await r.text())
    key = base64.b64decode((await r.json())["key"])
    seen.append(str(open_package(package, key, "ue1")))
    ws = await api.client.ws_connect(f"/api/v1/ws?token={token}")
    seen.append(await ws.receive_str())
    for q in UE1.questions:
        r = await api.client.get(f"/api/v1/units/ue1/questions/{q.id}", headers=h)
        assert r.status == 200, await r.text()
        seen.append(await r.text())
        r = await api.answer(token, q.id, answer(q), final=True)
        assert r.status == 200, await r.text()
        seen.append(await r.text())
    seen.append(await (await api.client.get("/api/v1/me", headers=h)).text())
    await ws.close()
    return seen


async def close(api: Any, unit: str = "ue1") -> None:
    r = await api.client.post(
        f"/api/v1/jury/units/{unit}/close", json={"reason": "fin"}, headers=await api.jury()
    )
    assert r.status == 200, await r.text()


async def test_no_key_reaches_a_candidate_by_any_route(api: Any) -> None:
    token = await api.candidate_token()
    login = await api.client.post(
        "/api/v1/login",
        json={"candidate_id": "AMU-00002", "centre": "AMU", "access_code": "x"},
    )
    await api.launch()
    seen = [await login.text(), *await sit_ue1(api, token, plain_answer)]
    await close(api)
    h = api.bearer(token)
    seen.append(await (await api.client.get("/api/v1/me", headers=h)).text())
    r = await api.client.post(
        "/api/v1/units/ue1/finish", json={"action_id": "f1", "client_ts": 1.0}, headers=h
    )
    seen.append(await r.text())
    for text in seen:
        assert_no_key(text)
    # Even after the close, the results and traces are the jury's.
    for path in ("/api/v1/jury/results", "/api/v1/jury/results/classement.csv",
                 "/api/v1/jury/results/candidates/AMU-00001/trace"):  # fmt: skip
        r = await api.client.get(path, headers=h)
        assert r.status == 403 and await api.error_code(r) == "forbidden"


async def test_results_wait_for_the_close_and_the_national_jury(api: Any) -> None:
    h = await api.jury()
    r = await api.client.get("/api/v1/jury/results", headers=h)
    assert r.status == 409 and await api.error_code(r) == "unit_not_closed"
    await api.launch()
    r = await api.client.get("/api/v1/jury/results?units=ue1", headers=h)
    assert r.status == 409 and await api.error_code(r) == "unit_not_closed"
    await close(api)
    for who in ("observer", "centre-AMU"):
        r = await api.client.get("/api/v1/jury/results", headers=await api.jury(who))
        assert r.status == 403
    r = await api.client.get("/api/v1/jury/results?units=ue1,ue2", headers=h)
    assert r.status == 409 and "ue2" in (await r.json())["error"]["message"]
    r = await api.client.get("/api/v1/jury/results?units=nope", headers=h)
    assert r.status == 404 and await api.error_code(r) == "unknown_unit"
    r = await api.client.get("/api/v1/jury/results/other.pdf", headers=h)
    assert r.status == 404
    r = await api.client.get("/api/v1/jury/results", headers=h)
    assert r.status == 200
    doc = await r.json()
    assert doc["rules"]["name"] == "vigie-edn" and doc["candidates"] == 6
    await api.launch("ue2")  # while a unit runs, the server does not correct (its CPU)
    r = await api.client.get("/api/v1/jury/results?units=ue1", headers=h)
    assert r.status == 409 and "ue2 is running" in (await r.json())["error"]["message"]
    assert doc["ranked"] == 0 and len(doc["not_ranked"]) == 6  # nobody answered


async def test_results_documents_equal_the_command_s(
    api: Any, db_path: Path, tmp_path: Path
) -> None:
    await api.launch()
    await sit_ue1(api, await api.candidate_token("AMU-00001"))
    t2 = await api.candidate_token("LILLE-00001")
    q = next(q for q in UE1.questions if q.format is QuestionFormat.QRM and q.dossier_id is None)
    r = await api.answer(t2, q.id, right_answer(q))
    assert r.status == 200
    await close(api)
    h = await api.jury()
    doc = await (await api.client.get("/api/v1/jury/results", headers=h)).json()
    assert [row["candidate_id"] for row in doc["ranking"]] == ["AMU-00001", "LILLE-00001"]
    assert doc["ranking"][0]["global_mark"] == "20.000" and doc["ranking"][0]["rank_a_minimum_met"]

    out = tmp_path / "cli"
    assert cli.main(["correct", str(db_path), "--out", str(out)]) == 0
    for name in (
        "etat-recapitulatif.csv",
        "etat-recapitulatif.html",
        "classement.csv",
        "classement.html",
    ):
        r = await api.client.get(f"/api/v1/jury/results/{name}", headers=h)
        assert r.status == 200 and r.charset == "utf-8"
        assert r.content_type == ("text/csv" if name.endswith(".csv") else "text/html")
        assert await r.read() == (out / name).read_bytes(), name

    r = await api.client.get("/api/v1/jury/results/candidates/LILLE-00001/trace", headers=h)
    trace = await r.json()
    assert len(trace["lines"]) == len(UE1.questions)
    line = next(t for t in trace["lines"] if t["question_id"] == q.id)
    assert line["points"] == "1" and line["discordances"] == 0 and "0 discordance" in line["rule"]
    r = await api.client.get("/api/v1/jury/results/candidates/LILLE-00001/trace.csv", headers=h)
    rows = list(csv.reader(io.StringIO(await r.text()), delimiter=";"))
    assert len(rows) == 1 + len(UE1.questions)
    r = await api.client.get("/api/v1/jury/results/candidates/NOBODY/trace", headers=h)
    assert r.status == 404
    analysis = await (await api.client.get("/api/v1/jury/results/questions", headers=h)).json()
    assert len(analysis["questions"]) == len(UE1.questions) and analysis["units"][0]["present"] == 2
    assert analysis == json.loads((out / "analyse.json").read_text())


async def test_neutralise_is_audited_and_changes_the_results(api: Any, db_path: Path) -> None:
    await api.launch()
    t1 = await api.candidate_token("AMU-00001")
    t2 = await api.candidate_token("AMU-00002")
    isolated = [q for q in UE1.questions if q.dossier_id is None and q.format is QuestionFormat.QRU]
    a, b = isolated[0], isolated[1]
    # AMU-00001 right on a only, AMU-00002 right on b only: equal, then a is neutralised.
    assert (await api.answer(t1, a.id, right_answer(a))).status == 200
    assert (await api.answer(t2, b.id, right_answer(b))).status == 200
    await close(api)
    h = await api.jury()
    before = await (await api.client.get("/api/v1/jury/results", headers=h)).json()
    assert before["ranking"][0]["global_mark"] == before["ranking"][1]["global_mark"]
    r = await api.client.post(
        f"/api/v1/jury/questions/{a.id}/neutralise", json={"reason": "erreur d'énoncé"}, headers=h
    )
    assert r.status == 200, await r.text()
    r = await api.client.post(
        "/api/v1/jury/questions/ue1-q999/neutralise", json={"reason": "x"}, headers=h
    )
    assert r.status == 404 and await api.error_code(r) == "unknown_question"
    r = await api.client.post(
        f"/api/v1/jury/questions/{a.id}/neutralise",
        json={"reason": "x"},
        headers=await api.jury("observer"),
    )
    assert r.status == 403
    after = await (await api.client.get("/api/v1/jury/results", headers=h)).json()
    assert after["decisions"] == [
        {"kind": "neutralise", "question_id": a.id, "reason": "erreur d'énoncé",
         "actor": "jury:national", "ts": after["decisions"][0]["ts"]}
    ]  # fmt: skip
    assert [row["candidate_id"] for row in after["ranking"]] == ["AMU-00002", "AMU-00001"]
    assert after["ranking"][1]["decided_by"] == "note globale"
    conn = sqlite3.connect(db_path)
    rows = conn.execute("SELECT actor, data FROM audit WHERE kind = 'neutralise'").fetchall()
    conn.close()
    assert len(rows) == 1 and rows[0][0] == "jury:national" and a.id in rows[0][1]


async def test_the_server_corrects_under_its_own_rules_file(
    make_api: Callable[..., Awaitable[Any]], tmp_path: Path
) -> None:
    from vigie.correction.rules import DEFAULT_RULES_PATH

    rules = tmp_path / "rules.yaml"
    text = DEFAULT_RULES_PATH.read_text(encoding="utf-8")
    rules.write_text(text.replace("name: vigie-edn", "name: faculte-essai", 1), encoding="utf-8")
    api = await make_api(rules_path=rules)
    await api.launch()
    await close(api)
    r = await api.client.get("/api/v1/jury/results", headers=await api.jury())
    assert r.status == 200
    assert (await r.json())["rules"]["name"] == "faculte-essai"


def test_a_bad_rules_file_is_refused_at_start(tmp_path: Path) -> None:
    bad = tmp_path / "rules.yaml"
    bad.write_text("name: x\n", encoding="utf-8")
    cmd = [sys.executable, "-m", "vigie", "serve", "--db", str(tmp_path / "x.sqlite3")]
    done = subprocess.run([*cmd, "--rules", str(bad)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith("vigie serve:") and "Traceback" not in done.stderr


async def test_a_cancelled_unit_is_replaced_by_its_backup_once(api: Any, db_path: Path) -> None:
    await api.launch()
    await close(api)
    await api.launch("ue2")
    await close(api, "ue2")
    h = await api.jury()
    before = await (await api.client.get("/api/v1/jury/results", headers=h)).json()
    assert [u["unit_id"] for u in before["units"]] == ["ue1", "ue2"]
    body = {"backup_id": "ue2", "reason": "sujet divulgué"}
    r = await api.client.post("/api/v1/jury/units/ue1/replace", json=body, headers=await api.jury("observer"))  # fmt: skip
    assert r.status == 403
    for path, sent, code in (
        ("/api/v1/jury/units/nope/replace", body, "unknown_unit"),
        ("/api/v1/jury/units/ue1/replace", {**body, "backup_id": "nope"}, "unknown_unit"),
        ("/api/v1/jury/units/ue1/replace", {**body, "backup_id": "ue1"}, "invalid_request"),
        ("/api/v1/jury/units/ue1/replace", {"backup_id": "ue2", "reason": ""}, "invalid_request"),
    ):
        r = await api.client.post(path, json=sent, headers=h)
        assert r.status in (404, 422) and await api.error_code(r) == code, await r.text()
    r = await api.client.post("/api/v1/jury/units/ue1/replace", json=body, headers=h)
    assert r.status == 200, await r.text()
    done = await r.json()
    assert (
        done["unit_id"] == "ue1" and done["backup_id"] == "ue2" and done["actor"] == "jury:national"
    )
    # Once: neither unit can be part of another replacement.
    for path, sent in (
        ("/api/v1/jury/units/ue1/replace", {**body, "backup_id": "ue3"}),
        ("/api/v1/jury/units/ue3/replace", body),
        ("/api/v1/jury/units/ue2/replace", {**body, "backup_id": "ue3"}),
    ):
        r = await api.client.post(path, json=sent, headers=h)
        assert r.status == 409 and await api.error_code(r) == "unit_replaced", await r.text()
    after = await (await api.client.get("/api/v1/jury/results", headers=h)).json()
    # The backup counts in the cancelled unit's place, and not a second time as itself.
    assert [u["unit_id"] for u in after["units"]] == ["ue2"]
    [decision] = after["decisions"]
    assert decision["kind"] == "replace_unit" and decision["backup_id"] == "ue2"
    assert decision["reason"] == "sujet divulgué"
    conn = sqlite3.connect(db_path)
    rows = conn.execute("SELECT actor FROM audit WHERE kind = 'replace_unit'").fetchall()
    conn.close()
    assert rows == [("jury:national",)]
