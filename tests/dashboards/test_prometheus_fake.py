"""Every panel and rule against a real Prometheus scraping the fake exposition.

The fake serves exactly the names of docs/protocol.md; test_prometheus_live.py does the
same against the real exam server and fleet.
"""

import subprocess
from pathlib import Path

from dashboards.mixin_files import committed_dashboards, rule_files
from dashboards.promql import checkable_expressions
from dashboards.testing import FakeExposition, http_get, start_prometheus, wait_for_data


def test_promtool_check_metrics_passes_on_the_fake_exposition(
    promtool: str, fake_exposition: tuple[FakeExposition, str, str]
) -> None:
    _, server, fleet = fake_exposition
    for target in (server, fleet):
        text = http_get(f"http://{target}/metrics")
        result = subprocess.run(
            [promtool, "check", "metrics"], input=text, capture_output=True, timeout=30, check=False
        )
        assert result.returncode == 0, (target, result.stdout, result.stderr)


def test_every_panel_and_rule_returns_data_from_the_fake(
    prometheus_bin: str, tmp_path: Path, fake_exposition: tuple[FakeExposition, str, str]
) -> None:
    _, server, fleet = fake_exposition
    exprs = checkable_expressions(committed_dashboards(), rule_files())
    with start_prometheus(
        prometheus_bin, tmp_path, {"vigie-server": [server], "vigie-fleet": [fleet]}
    ) as prom:
        empty = wait_for_data(prom, [e.expr for e in exprs], timeout_s=60)
        assert set(prom.targets_up().values()) == {"up"}
        # The check has teeth: a misspelt metric or label never returns data.
        misspelt = ["vigie_websocket_open", 'vigie_websockets_open{centre="NOWHERE"}']
        assert wait_for_data(prom, misspelt, timeout_s=3) == misspelt
    assert [e.source for e in exprs if e.expr in empty] == []
