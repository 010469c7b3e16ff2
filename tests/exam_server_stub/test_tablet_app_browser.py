"""Twenty browser tablets sit a unit in real headless Chromium against a real `vigie serve`.

One scene, in order (each test builds on the one before, as an exam day does): twenty
windows log in through the app's form and pre-download the encrypted subjects; the national
launch reaches them; one tablet answers every format through the UI (a progressive dossier
in order); the others answer a few; one loses its network while answering (the browser's
offline emulation) and re-sends on return; one reloads mid-unit and resumes; instructions
(a message, extra time, a pause) are shown and confirmed; the jury's API and the supervision
view see them; all
hand in; and what the server acknowledged to each tablet is exactly what it stores.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import pytest

from exam_server_stub.settings import DEFAULT_SEED
from tests.exam_server_stub.chromium import QROC_TEXT, ROOT, Tablet, export, open_tablets, serve
from tests.supervision_dashboard.browser import cell, login, until
from tests.supervision_dashboard.conftest import jury_get, jury_post, run_dashboard
from vigie.demo import Question, generate_session

pytestmark = pytest.mark.browser

TABLETS = 20
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
UNIT = "ue1"
QUESTIONS: list[Question] = list(generate_session(DEFAULT_SEED).units[0].questions)
WALK = 16  # ue1-q001..q016: all seven formats, a whole dossier of eight, the next begun


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("tablets") / "exam.sqlite3"
    with serve(db, "--demo", "120", "--heartbeat-interval", "2") as base:
        yield base


@pytest.fixture(scope="module")
def dashboard(server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with run_dashboard(server, tmp_path_factory.mktemp("dashboard")) as base:
        yield base


@pytest.fixture(scope="module")
def national(server: str) -> str:
    body = {"username": "national", "password": "national-demo"}
    token: str = jury_post(server, "/jury/login", body)["token"]
    return token


@pytest.fixture(scope="module")
def chromium(make_chromium: Callable[..., Any]) -> Any:
    return make_chromium()


def candidate_ids(server: str, national: str) -> list[str]:
    rows = jury_get(server, "/jury/snapshot", national)["candidates"]
    return sorted(r["id"] for r in rows)[:TABLETS]


@pytest.fixture(scope="module")
def tablets(chromium: Any, server: str, national: str) -> list[Tablet]:
    return open_tablets(chromium, server, candidate_ids(server, national))


def rows(server: str, national: str) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in jury_get(server, "/jury/snapshot", national)["candidates"]}


def test_every_tablet_logs_in_and_downloads_its_subjects(
    tablets: list[Tablet], server: str, national: str
) -> None:
    for t in tablets:
        until(t.subjects_ready, what=f"{t.cid}: five subjects ready")
        assert t.find("#login-centre").get_attribute("value") == t.centre  # from ?centre=
    until(lambda: all(rows(server, national)[t.cid]["state"] == "waiting" for t in tablets),
          what="the jury sees twenty tablets waiting")  # fmt: skip


def test_a_wrong_code_is_refused_in_french(chromium: Any, server: str) -> None:
    chromium.switch_to.new_window("window")
    try:
        chromium.get(f"{server}/tablet/")
        t = Tablet(chromium, chromium.current_window_handle, "AMU-00001")
        t.find("#login-candidate").send_keys("AMU-00001")
        t.find("#login-centre").send_keys("AMU")
        t.find("#login-code").send_keys("WRONGCODE")
        t.find("#login-submit").click()
        until(lambda: "incorrect" in t.find("#login-error").text, what="the refusal")
        assert t.screen() == "login"
    finally:
        chromium.close()


def test_the_national_launch_reaches_every_tablet(
    tablets: list[Tablet], server: str, national: str
) -> None:
    jury_post(server, f"/jury/units/{UNIT}/launch", {"reason": "test", "duration_s": 1800}, national)  # fmt: skip
    for t in tablets:
        until(partial(t.on_screen, "exam"), what=f"{t.cid} on the exam screen")
        t.on_question(QUESTIONS[0].id)
        deadline = float(until(t.deadline))
        assert deadline > time.time() + 1700


@pytest.mark.parametrize(("width", "height"), [(1024, 768), (768, 1024)])
def test_the_exam_screen_fits_a_tablet_both_ways(
    tablets: list[Tablet], width: int, height: int
) -> None:
    t = tablets[0].on()
    t.driver.set_window_size(width, height)
    try:
        t.on_question(QUESTIONS[0].id)
        inner = t.driver.execute_script("return [window.innerWidth, window.innerHeight]")
        assert t.driver.execute_script("return document.documentElement.scrollWidth") <= inner[0]
        for button in ("#save", "#next", "#finish", "#countdown"):
            # Reachable without scrolling the page, and nothing on top of it.
            hit = t.driver.execute_script(
                "const r = document.querySelector(arguments[0]).getBoundingClientRect();"
                "const e = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);"
                "return r.bottom <= innerHeight && r.right <= innerWidth"
                " && e !== null && e.closest(arguments[0]) !== null;",
                button,
            )
            assert hit, f"{button} at {width}x{height}"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        assert t.driver.save_screenshot(str(SCREENSHOTS / f"tablet-{width}x{height}.png"))
    finally:
        t.driver.set_window_size(1024, 768)


def test_one_tablet_answers_every_format_and_a_dossier_in_order(tablets: list[Tablet]) -> None:
    t = tablets[0]
    walk = QUESTIONS[:WALK]
    assert {q.format.value for q in walk} == {"QRU", "QRM", "QRP", "QRPL", "ZAP", "QROC", "TCS"}
    locked = t.find(f"#nav button[data-question-id='{walk[8].id}']").get_attribute("class")
    assert "locked" in locked  # the dossier's second question waits for the first
    for q in walk:
        t.answer(q)
        if q.dossier_id is not None:  # validated: no way back
            assert t.finds("#q-actions .readonly") and not t.finds("#save")
        t.next()
    acked = {a["question_id"]: a for a in t.snap()["acked"]}
    assert set(acked) == {q.id for q in walk}
    assert acked["ue1-q004"]["answer"] == {"text": QROC_TEXT}
    zap = next(q for q in walk if q.format.value == "ZAP")
    points = acked[zap.id]["answer"]["points"]
    assert len(points) == 2 and points[0][0] < 0.5 < points[1][0]  # left of centre, then right
    assert all(acked[q.id]["final"] for q in walk if q.dossier_id is not None)


def test_the_others_answer_a_few(tablets: list[Tablet]) -> None:
    for t in tablets[1:]:
        for q in QUESTIONS[:3]:
            t.answer(q)
            t.next()
    for t in tablets[1:]:
        assert len(t.snap()["acked"]) == 3


def test_a_tablet_that_loses_its_network_keeps_its_answers_and_resends_them(
    tablets: list[Tablet], server: str, national: str
) -> None:
    t = tablets[1].on()
    offline = {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
    t.driver.execute_cdp_cmd("Network.enable", {})
    t.driver.execute_cdp_cmd("Network.emulateNetworkConditions", offline)
    try:
        until(lambda: t.visible("#offline-banner"), what="the offline banner")
        for q in QUESTIONS[3:6]:  # QROC, QRM, QRPL
            t.on_question(q.id)
            _answer_without_ack(t, q)
            t.next()
        until(lambda: t.snap()["outbox"] == 3, what="three answers kept on the tablet")
        assert "3 réponse(s) en attente" in t.find("#offline-banner").text
        stored = {(r["candidate_id"], r["question_id"]) for r in export(server, national)}
        assert not {(t.cid, q.id) for q in QUESTIONS[3:6]} & stored
    finally:
        back = {**offline, "offline": False}
        t.on().driver.execute_cdp_cmd("Network.emulateNetworkConditions", back)
    until(lambda: t.snap()["outbox"] == 0, timeout_s=60, what="the kept answers re-sent")
    until(lambda: not t.visible("#offline-banner"), what="the banner gone")
    assert {a["question_id"] for a in t.snap()["acked"]} == {q.id for q in QUESTIONS[:6]}


def _answer_without_ack(t: Tablet, q: Question) -> None:
    fmt = q.format.value
    if fmt == "QROC":
        t.find("#qroc-input").send_keys(QROC_TEXT)
    else:
        for i in range(q.expected_count or 2):
            t.find(f"#question .props input[data-index='{i}']").click()
    t.find("#save").click()
    until(lambda: "pending" in t.find(f"#nav button[data-question-id='{q.id}']").get_attribute("class"),
          what=f"{q.id} kept on the tablet")  # fmt: skip


def test_a_reload_mid_unit_resumes_where_the_candidate_was(tablets: list[Tablet]) -> None:
    t = tablets[2].on()
    t.find(f"#nav button[data-question-id='{QUESTIONS[1].id}']").click()
    t.on_question(QUESTIONS[1].id)
    t.driver.refresh()
    until(lambda: t.screen() == "exam", what="back on the exam screen after the reload")
    t.on_question(QUESTIONS[1].id)
    checked = [e.get_attribute("data-index") for e in t.finds("#question .props input") if e.is_selected()]  # fmt: skip
    assert checked == ["0", "1"]  # the stored answer, from /me
    assert all(t.stored(q.id) for q in QUESTIONS[:3])
    t.find(f"#nav button[data-question-id='{QUESTIONS[3].id}']").click()
    t.answer(QUESTIONS[3])  # and it goes on answering


def test_instructions_are_shown_and_confirmed(
    tablets: list[Tablet], server: str, national: str
) -> None:
    reader, granted, paused = tablets[3], tablets[4], tablets[5]
    text = "Levez la main : un surveillant arrive."
    jury_post(server, "/jury/messages", {"candidate_id": reader.cid, "text": text, "reason": "test"}, national)  # fmt: skip
    until(lambda: reader.visible("#modal-message"), what="the jury's message")
    assert reader.find("#modal-text").text == text
    time.sleep(3)  # a heartbeat or two: shown is not read
    assert not _acked_ids(server, national, reader.cid)
    reader.find("#modal-ok").click()
    until(lambda: _acked_ids(server, national, reader.cid), what="its confirmation")
    assert not reader.visible("#modal-message")

    before = float(granted.find("#countdown").get_attribute("data-deadline"))
    body = {"unit_id": UNIT, "candidate_id": granted.cid, "seconds": 600, "reason": "test"}
    jury_post(server, "/jury/extra-time", body, national)
    until(lambda: float(granted.find("#countdown").get_attribute("data-deadline")) >= before + 599,
          what="the new deadline on the countdown")  # fmt: skip
    assert "10 min" in granted.find("#notice").text

    centre = paused.centre
    jury_post(server, f"/jury/centres/{centre}/pause", {"reason": "test"}, national)
    until(lambda: paused.visible("#pause-overlay"), what="the pause screen")
    jury_post(server, f"/jury/centres/{centre}/resume", {"reason": "test"}, national)
    until(lambda: not paused.visible("#pause-overlay"), what="the pause screen lifted")
    for t in (reader, granted, paused):  # what the tablet carried out is what the server heard

        def heard(t: Tablet = t) -> bool:
            return _acked_ids(server, national, t.cid) == set(t.snap()["applied"])

        until(heard, what=f"{t.cid}'s confirmations on the server")
    assert len(paused.snap()["applied"]) == 2  # the pause and the resume


def _acked_ids(server: str, national: str, cid: str) -> set[str]:
    events = jury_get(server, f"/jury/candidates/{cid}/timeline", national)["events"]
    return {i for e in events if e["kind"] == "instruction_ack" for i in e["data"]["ids"]}


def test_the_jury_sees_each_tablet_as_it_is(
    tablets: list[Tablet], server: str, national: str
) -> None:
    def matches() -> bool:
        now = rows(server, national)
        seen = {t.cid: (now[t.cid]["state"], now[t.cid]["answered"]) for t in tablets}
        told = {t.cid: ("in_progress", len({a["question_id"] for a in t.snap()["acked"]})) for t in tablets}  # fmt: skip
        assert seen == told
        return True

    until(matches, what="the jury's rows match the tablets")
    row = rows(server, national)[tablets[0].cid]
    assert row["battery"] == tablets[0].snap()["battery"]
    assert row["network"] == tablets[0].snap()["network"]


def test_the_supervision_view_shows_the_browser_tablets(
    tablets: list[Tablet], chromium: Any, dashboard: str
) -> None:
    first = tablets[0]
    chromium.switch_to.new_window("window")
    try:
        login(chromium, dashboard, "national", "national-demo")
        chromium.get(f"{dashboard}/centre/{first.centre}")
        progress = str(round(100 * WALK / len(QUESTIONS)))

        def shown() -> bool:
            # (columns past the window's width are not rendered: the battery is the API's)
            seen = [cell(chromium, "centre-grid", first.cid, c) for c in ("state_label", "progress")]  # fmt: skip
            assert seen == ["En composition", progress]
            return True

        until(shown, what=f"{first.cid} in the centre's grid")
    finally:
        chromium.close()


def test_every_tablet_hands_in_and_the_server_stores_what_it_acknowledged(
    tablets: list[Tablet], server: str, national: str
) -> None:
    for t in tablets:
        t.find("#finish").click()
        t.find("#confirm-finish").click()
    for t in tablets:
        until(t.handed_in, what=f"{t.cid} handed in")
    until(lambda: all(rows(server, national)[t.cid]["state"] == "finished" for t in tablets),
          what="twenty finished for the jury")  # fmt: skip
    stored = export(server, national)
    by_action = {r["action_id"]: r for r in stored}
    acked = [(t.cid, a) for t in tablets for a in t.snap()["acked"]]
    assert len(acked) == len(stored)  # nothing stored that a tablet was not told about
    for cid, a in acked:
        r = by_action[a["action_id"]]
        assert (r["candidate_id"], r["question_id"], r["answer"], r["final"]) == (
            cid, a["question_id"], a["answer"], a["final"],
        )  # fmt: skip
    assert not [t.cid for t in tablets if t.snap()["rejected"]]
