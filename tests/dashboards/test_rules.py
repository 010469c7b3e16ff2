"""The alerting and recording rules through the real promtool."""

import shutil
import subprocess
from pathlib import Path

import pytest

from dashboards.mixin_files import (
    ALERTS_DIR,
    MIXIN_DIR,
    RULES_DIR,
    promtool_test_files,
    rule_files,
    rules,
)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


def test_promtool_check_rules(promtool: str) -> None:
    result = run(promtool, "check", "rules", *map(str, rule_files()))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_unit_tests_pass(promtool: str) -> None:
    assert promtool_test_files(), "no promtool unit test in dashboards/mixin/tests"
    result = run(promtool, "test", "rules", *map(str, promtool_test_files()))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_unit_tests_catch_a_broken_cap_alert(promtool: str, tmp_path: Path) -> None:
    """Raise the warning threshold to 95%: the wave-4 unit test must now fail."""
    mixin = tmp_path / "mixin"
    shutil.copytree(MIXIN_DIR, mixin, ignore=shutil.ignore_patterns("dashboards"))
    alerts = mixin / "alerts" / "vigie-alerts.yaml"
    text = alerts.read_text(encoding="utf-8")
    assert "vigie:connection_cap:ratio >= 0.8" in text
    alerts.write_text(
        text.replace("vigie:connection_cap:ratio >= 0.8", "vigie:connection_cap:ratio >= 0.95")
    )
    result = run(promtool, "test", "rules", *map(str, sorted((mixin / "tests").glob("*.yaml"))))
    assert result.returncode != 0
    assert "ConnectionsNearCap" in result.stdout + result.stderr


# Each guard of the exam-day alerts, loosened: a replayed healthy day must then page (or
# the replayed failure stop paging), and the unit tests must say which alert.
GUARDS = [
    ("CentreMassDisconnect", "drop15m >= 10", "drop15m >= 1"),  # a small centre pages
    ("CentreMassDisconnect", "sum_drop_ratio15m < 0.5", "sum_drop_ratio15m < 2"),  # the close
    ("CentreMassDisconnect", "(2 * vigie:websocket_disc", "(1e9 + vigie:websocket_disc"),
    ("ReconnectLoop", "increase5m >= 20", "increase5m >= 1"),  # a small centre pages
    ("ReconnectLoop", "> 1.5 * vigie:websockets_open", "> 0.5 * vigie:websockets_open"),
    ("DatabaseStall", "oldest_pending_seconds > 10", "oldest_pending_seconds > 500"),
    ("AnswerCommitsStopped", "vigie_writer_queue >= 20", "vigie_writer_queue >= 1"),  # a wave
    ("PlannedExtraTimeMissing", "extra_time_missing > 0", "extra_time_missing > 1"),
]


@pytest.mark.parametrize(("alert", "old", "new"), GUARDS, ids=[f"{a}: {n}" for a, _, n in GUARDS])
def test_the_unit_tests_catch_each_loosened_exam_day_guard(
    promtool: str, tmp_path: Path, alert: str, old: str, new: str
) -> None:
    mixin = tmp_path / "mixin"
    shutil.copytree(MIXIN_DIR, mixin, ignore=shutil.ignore_patterns("dashboards"))
    alerts = mixin / "alerts" / "vigie-alerts.yaml"
    text = alerts.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    alerts.write_text(text.replace(old, new), encoding="utf-8")
    result = run(promtool, "test", "rules", str(mixin / "tests" / "vigie-exam-day-test.yaml"))
    assert result.returncode != 0, new
    assert f"alertname: {alert}" in result.stdout + result.stderr


def test_the_exam_day_alerts_page_in_english_and_french() -> None:
    """The four failures of issue 8 that an alert would have caught, each critical, with
    the on-call text in both languages (the centres' staff and the jury read French)."""
    alerts = {r["alert"]: r for p in sorted(ALERTS_DIR.glob("*.yaml")) for r in rules(p)}
    for name in (
        "CentreMassDisconnect",
        "ReconnectLoop",
        "DatabaseStall",
        "AnswerCommitsStopped",
        "PlannedExtraTimeMissing",
    ):
        rule = alerts[name]
        assert rule["labels"]["severity"] == "critical", name
        assert set(rule["annotations"]) == {
            "summary",
            "description",
            "summary_fr",
            "description_fr",
        }
        assert all(rule["annotations"].values()), name


def test_the_alerts_the_issue_asks_for_exist_with_a_severity() -> None:
    alerts = [r for p in sorted(ALERTS_DIR.glob("*.yaml")) for r in rules(p)]
    names = {r["alert"] for r in alerts}
    assert {
        "ConnectionsNearCap",
        "ConnectionCapWillBeHit",
        "MassDisconnects",
        "EventLoopLag",
        "AnswerCommitLatency",
        "LoadGeneratorSaturated",
    } <= names
    for rule in alerts:
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
    will_hit = next(r for r in alerts if r["alert"] == "ConnectionCapWillBeHit")
    assert "predict_linear" in will_hit["expr"] and will_hit["labels"]["severity"] == "critical"


def test_recording_rules_follow_the_level_metric_operation_convention() -> None:
    for path in sorted(RULES_DIR.glob("*.yaml")):
        for rule in rules(path):
            assert rule["record"].startswith("vigie:") and rule["record"].count(":") == 2, rule
