"""docker-compose.yml, checked without a Docker engine: structure, files, and commands that
the real CLIs (vigie serve, vigie dashboard, locust with the vigie locustfile) accept."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from dashboards.boards import all_dashboards

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
_DEFAULT = re.compile(r"\$\{(\w+):-([^}]*)\}")


def with_defaults(value: str) -> str:
    """What compose substitutes when the variable is unset: ${VAR:-default} -> default."""
    return _DEFAULT.sub(lambda m: m.group(2), value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return data


def command(service: dict[str, Any]) -> list[str]:
    return [with_defaults(str(part)) for part in service["command"]]


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """container path -> host source, for every volume of a service."""
    out = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        out[target] = source
    return out


def test_the_stack_has_every_service_of_the_issue(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {
        "server",
        "dashboard",
        "prometheus",
        "grafana",
        "master",
        "worker",
    }
    for name, service in compose["services"].items():
        assert "image" in service or "build" in service, name
        if "build" in service:
            assert (ROOT / service["build"] / "Dockerfile").is_file(), name


def test_bind_mounts_point_at_files_in_the_repo_and_named_volumes_are_declared(
    compose: dict[str, Any],
) -> None:
    for name, service in compose["services"].items():
        for target, source in mounts(service).items():
            if source.startswith("."):
                assert (ROOT / source).exists(), (name, source)
            else:
                assert source in compose["volumes"], (name, source)
            assert target.startswith("/"), (name, target)


def test_nothing_is_published_beyond_the_hosts_loopback(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)


def test_workers_scale(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    assert "container_name" not in worker and "ports" not in worker
    assert with_defaults(str(worker["deploy"]["replicas"])).isdigit()
    for name, service in compose["services"].items():
        assert "container_name" not in service, name


def locust_check(args: list[str]) -> subprocess.CompletedProcess[str]:
    """Parse a locust command line with Locust's parser plus the vigie locustfile's options,
    in a child process (Locust monkey-patches whatever imports it)."""
    code = (
        "import sys\n"
        "from locust import events\n"
        "from locust.argument_parser import get_parser\n"
        "import simulator.locustfile\n"
        "parser = get_parser()\n"
        "events.init_command_line_parser.fire(parser=parser)\n"
        "options = parser.parse_args(sys.argv[1:])\n"
        "print(options.locustfile)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )


def test_master_and_worker_commands_are_valid_locust_command_lines(compose: dict[str, Any]) -> None:
    services = compose["services"]
    master, worker = command(services["master"]), command(services["worker"])
    assert master[0] == worker[0] == "locust"
    assert "--master" in master and "--worker" in worker
    assert (
        master[master.index("-f") + 1]
        == worker[worker.index("-f") + 1]
        == "simulator/locustfile.py"
    )
    assert (ROOT / "simulator" / "locustfile.py").is_file()
    # Each worker takes every n-th tablet, n = the master's --expect-workers.
    expect = master[master.index("--expect-workers") + 1]
    assert expect == with_defaults(str(services["worker"]["deploy"]["replicas"]))
    # Workers find the master by a name that exists on the compose network.
    host = worker[worker.index("--master-host") + 1]
    aliases = services["prometheus"]["networks"]["default"]["aliases"]
    assert host in aliases and services["master"]["network_mode"] == "service:prometheus"
    assert master[master.index("--target") + 1] == "http://server:8080"
    for args in (master, worker):
        result = locust_check(args[1:])
        assert result.returncode == 0, (args, result.stderr[-2000:])
    bad = locust_check([*master[1:], "--no-such-flag"])
    assert bad.returncode != 0  # the check has teeth


def test_server_command_builds_the_fleets_roster_and_vigie_serve_accepts_it(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    from exam_server_stub.cli import parser as serve_parser
    from exam_server_stub.cli import settings_from
    from scenarios import load_scenario

    server = compose["services"]["server"]
    env = {k: with_defaults(str(v)) for k, v in server["environment"].items()}
    cmd = command(server)
    assert cmd == ["python", "-m", "dashboards.serve_scenario"]
    result = subprocess.run(
        [sys.executable, "-m", "dashboards.serve_scenario", "--print"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, **env, "DATA_DIR": str(tmp_path)},
        check=True,
    )
    argv = json.loads(result.stdout)
    assert argv[0] == "serve"
    options = serve_parser().parse_args(argv[1:])
    assert options.port == 8080 and options.host == "0.0.0.0"
    settings = settings_from(options)
    scenario = load_scenario(env["SCENARIO"])
    assert settings.seed == scenario.seed and settings.scenario == scenario.name
    assert settings.max_connections == scenario.server.max_connections
    assert settings.demo_counts == dict(scenario.centres)
    # The database lives in DATA_DIR, which compose keeps on a named volume.
    assert settings.db_path.parent == tmp_path
    assert env["DATA_DIR"] in mounts(server)
    # Options appended to the command win over the scenario's knobs (docs/sre.md).
    lifted = settings_from(serve_parser().parse_args([*argv[1:], "--max-connections", "0"]))
    assert lifted.max_connections == 0 and lifted.seed == scenario.seed
    no_cap = settings_from(serve_parser().parse_args([*argv[1:], "--no-cap"]))
    assert no_cap.max_connections == 0 and no_cap.demo_counts == dict(scenario.centres)


def test_dashboard_command_is_accepted_by_vigie_dashboard(compose: dict[str, Any]) -> None:
    from supervision_dashboard.cli import parse_args

    cmd = command(compose["services"]["dashboard"])
    assert cmd[:2] == ["vigie", "dashboard"]
    options = parse_args(cmd[2:])
    assert options.server == "http://server:8080" and options.host == "0.0.0.0"


def test_prometheus_loads_the_mixin_and_scrapes_server_and_fleet(
    compose: dict[str, Any], promtool: str
) -> None:
    prom = compose["services"]["prometheus"]
    volumes = mounts(prom)
    config_path = ROOT / volumes["/etc/prometheus/prometheus.yml"]
    check = subprocess.run(
        [promtool, "check", "config", str(config_path)], capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 0, check.stdout + check.stderr
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    for pattern in config["rule_files"]:
        container_dir, glob = pattern.rsplit("/", 1)
        assert container_dir in volumes, pattern
        assert list((ROOT / volumes[container_dir]).glob(glob)), pattern
    targets = {
        job["job_name"]: [t for sc in job["static_configs"] for t in sc["targets"]]
        for job in config["scrape_configs"]
    }
    assert targets["vigie-server"] == ["server:8080"]
    # The fleet exporter binds 127.0.0.1 on the master, which shares Prometheus's namespace.
    assert targets["vigie-fleet"] == ["127.0.0.1:9646"]
    master = command(compose["services"]["master"])
    assert master[master.index("--metrics-port") + 1] == "9646"


def test_grafana_is_provisioned_with_the_datasource_and_the_mixin_dashboards(
    compose: dict[str, Any],
) -> None:
    grafana = compose["services"]["grafana"]
    volumes = mounts(grafana)
    provisioning = ROOT / volumes["/etc/grafana/provisioning/dashboards"]
    provider = yaml.safe_load((provisioning / "vigie.yaml").read_text())["providers"][0]
    dashboards_dir = ROOT / volumes[provider["options"]["path"]]
    assert sorted(p.name for p in dashboards_dir.glob("*.json")) == sorted(all_dashboards())
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (dashboards_dir / Path(home).name).is_file()
    assert home.startswith(provider["options"]["path"] + "/")
    datasources = ROOT / volumes["/etc/grafana/provisioning/datasources"]
    source = yaml.safe_load((datasources / "prometheus.yaml").read_text())["datasources"][0]
    assert source["type"] == "prometheus"
    host, port = source["url"].removeprefix("http://").split(":")
    assert (
        host in compose["services"]
        and f"127.0.0.1:{port}:{port}" in compose["services"][host]["ports"]
    )


def test_the_image_ships_the_repo_and_exposes_the_published_ports(compose: dict[str, Any]) -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "COPY . ." in dockerfile
    exposed = set(re.search(r"^EXPOSE (.+)$", dockerfile, re.MULTILINE).group(1).split())  # type: ignore[union-attr]
    for name in ("server", "dashboard"):
        for port in compose["services"][name]["ports"]:
            assert port.rsplit(":", 1)[1] in exposed, (name, port)
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert ".venv" in ignored and ".git" in ignored


def test_server_and_master_share_the_operator_token_for_server_faults(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    server = services["server"]["environment"]["VIGIE_OPERATOR_TOKEN"]
    master = services["master"]["environment"]["VIGIE_OPERATOR_TOKEN"]
    # one variable for both (the plain master reads it as its --operator-token default:
    # tests/simulator/test_runner_plain_locust.py applies a db_stall that way)
    assert server == master == "${VIGIE_OPERATOR_TOKEN:-}"
