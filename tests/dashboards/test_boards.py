import re
from pathlib import Path

from dashboards.boards import all_dashboards
from dashboards.builder import dumps
from dashboards.mixin_files import DASHBOARDS_DIR, committed_dashboards, rule_files, rules
from dashboards.promql import checkable_expressions, panel_expressions

PROTOCOL = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
SUFFIXES = ("_total", "_bucket", "_sum", "_count")


def documented_metrics() -> set[str]:
    text = PROTOCOL.read_text(encoding="utf-8")
    return {base_name(n) for n in re.findall(r"^\| `(vigie_\w+)`", text, flags=re.MULTILINE)}


def base_name(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def test_committed_json_is_exactly_the_builders_output() -> None:
    expected = all_dashboards()
    assert sorted(p.name for p in DASHBOARDS_DIR.glob("*.json")) == sorted(expected)
    for name, board in expected.items():
        assert (DASHBOARDS_DIR / name).read_text(encoding="utf-8") == dumps(board), name


def test_the_four_boards_of_the_issue_exist() -> None:
    titles = {board["title"] for board in committed_dashboards().values()}
    assert titles == {
        "vigie / Exam server (RED)",
        "vigie / Saturation",
        "vigie / Tablets by centre",
        "vigie / Load generator",
    }


def test_every_panel_queries_the_datasource_variable_and_fits_the_grid() -> None:
    for name, board in committed_dashboards().items():
        variables = [v["name"] for v in board["templating"]["list"]]
        assert variables[0] == "datasource", name
        ids = [panel["id"] for panel in board["panels"]]
        assert len(ids) == len(set(ids)), name
        for panel in board["panels"]:
            pos = panel["gridPos"]
            assert pos["x"] >= 0 and pos["x"] + pos["w"] <= 24, (name, panel["title"])
            if panel["type"] == "row":
                continue
            assert panel["targets"], (name, panel["title"])
            assert panel["datasource"]["uid"] == "${datasource}"
            for target in panel["targets"]:
                assert target["datasource"]["uid"] == "${datasource}"


def test_panels_never_split_by_candidate() -> None:
    for name, board in committed_dashboards().items():
        for expr in panel_expressions(name, board):
            assert "candidate_id" not in expr.expr and "by (id" not in expr.expr, expr


def test_every_metric_used_is_documented_in_the_protocol() -> None:
    documented = documented_metrics()
    assert "vigie_websockets_open" in documented and "vigie_fleet_cpu_ratio" in documented
    used: set[str] = set()
    for item in checkable_expressions(committed_dashboards(), rule_files()):
        used |= {base_name(n) for n in re.findall(r"\bvigie_\w+", item.expr)}
    assert used, "no vigie_ metric found: the scan is broken"
    assert used - documented == set()


def test_every_recording_rule_read_is_defined() -> None:
    recorded = {r["record"] for path in rule_files() for r in rules(path) if "record" in r}
    for item in checkable_expressions(committed_dashboards(), rule_files()):
        for name in re.findall(r"\bvigie:[\w:]+", item.expr):
            assert name in recorded, (item.source, name)


def test_each_exam_day_alert_has_its_panels() -> None:
    """What each alert of the national failures reads is on the board an SRE opens for it:
    centres' incidents by centre, the database writer on the saturation board."""
    queries = {
        board["title"]: " ".join(e.expr for e in panel_expressions(name, board))
        for name, board in committed_dashboards().items()
    }
    by_centre = queries["vigie / Tablets by centre"]
    for read in (
        "vigie:websockets_open:drop_ratio15m",  # CentreMassDisconnect
        "vigie:websocket_reconnects:increase5m",  # ReconnectLoop
        "vigie_websocket_reconnects_total",
        "vigie_planned_extra_time_missing",  # PlannedExtraTimeMissing
    ):
        assert read in by_centre, read
    saturation = queries["vigie / Saturation"]
    for read in (
        "vigie_writer_oldest_pending_seconds",  # DatabaseStall
        "vigie_writer_queue",  # AnswerCommitsStopped
        "vigie_answer_commit_duration_seconds_count",
    ):
        assert read in saturation, read
