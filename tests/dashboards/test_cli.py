import json
from pathlib import Path

import pytest

from dashboards import cli, mixin_files
from dashboards.boards import all_dashboards


def test_export_writes_dashboards_rules_and_alerts(tmp_path: Path) -> None:
    assert cli.main(["export", str(tmp_path / "out")]) == 0
    out = tmp_path / "out"
    assert sorted(p.name for p in (out / "dashboards").iterdir()) == sorted(all_dashboards())
    for name, board in all_dashboards().items():
        assert json.loads((out / "dashboards" / name).read_text()) == board
    assert (out / "rules" / "vigie-rules.yaml").read_bytes() == (
        mixin_files.RULES_DIR / "vigie-rules.yaml"
    ).read_bytes()
    assert (out / "alerts" / "vigie-alerts.yaml").exists()


def test_check_passes_on_the_repo_and_fails_on_stale_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["check"]) == 0
    stale = tmp_path / "dashboards"
    mixin_files.write_dashboards(stale)
    board = json.loads((stale / "vigie-saturation.json").read_text())
    board["title"] = "edited by hand"
    (stale / "vigie-saturation.json").write_text(json.dumps(board))
    monkeypatch.setattr(mixin_files, "DASHBOARDS_DIR", stale)
    assert cli.main(["check"]) == 1
    assert "vigie-saturation.json" in capsys.readouterr().err


def test_push_needs_a_url(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["push"])
    assert exc.value.code == 2
    assert "--url" in capsys.readouterr().err
