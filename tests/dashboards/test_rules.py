"""The alerting and recording rules through the real promtool."""

import shutil
import subprocess
from pathlib import Path

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
