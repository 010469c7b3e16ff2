"""The run's loopback address plan, its octet lease, and where nftables mode is refused."""

from __future__ import annotations

import pytest

from scenarios.model import Scenario
from simulator.faults import NetworkUnavailable, address_range, lease_base, open_network
from simulator.faults.addresses import is_loopback, tablet_address
from simulator.settings import FleetSettings, TabletIdentity
from simulator.tablet.api import centre_pool_size, source_address

SCENARIO = Scenario.model_validate(
    {
        "name": "plan",
        "centres": {"AMIENS": 300, "BREST": 10, "CAEN": 10},
        "waves": [
            {"name": "w", "centres": ["AMIENS", "BREST", "CAEN"], "start_s": 0, "rate_per_s": 10}
        ],
        "exam": {"launch_at_s": 5},
    }
)


def test_each_centre_has_its_own_range_in_the_run_octet() -> None:
    assert address_range(10, SCENARIO, "AMIENS") == "127.10.1.0/24"
    assert address_range(10, SCENARIO, "CAEN") == "127.10.3.0/24"
    with pytest.raises(ValueError, match="outside"):
        address_range(3, SCENARIO, "CAEN")  # outside the octets a run may lease


def test_tablets_spread_over_the_range_and_keep_their_address() -> None:
    # (simulator.locustfile.fleet_settings builds the same; importing it patches gevent)
    cfg = FleetSettings(
        target="http://127.0.0.1:8080", net_base=42, centres=tuple(SCENARIO.centres.items())
    )
    sources = {
        source_address(cfg, TabletIdentity(f"AMIENS-{n:05d}", "AMIENS", "x", 1))
        for n in range(1, 301)
    }
    assert len(sources) == 253 and all(s and s.startswith("127.42.1.") for s in sources)
    assert tablet_address(42, 1, "AMIENS-00007") == tablet_address(42, 1, "AMIENS-00007")
    # HTTP pools by share of the candidates (the descriptors go to the websockets)
    assert centre_pool_size(cfg, "AMIENS") > centre_pool_size(cfg, "BREST") >= 4


def test_only_loopback_targets_are_bound() -> None:
    assert is_loopback("localhost") and is_loopback("127.0.0.1") and not is_loopback("::1")


def test_two_runs_never_lease_the_same_octet() -> None:
    with lease_base(taken=()) as first, lease_base(taken=()) as second:
        assert first.base != second.base


def test_nftables_is_refused_with_the_reason_and_the_way_out() -> None:
    with pytest.raises(NetworkUnavailable) as err:
        open_network("nftables", SCENARIO, None, 42, target="http://exam.example.org")
    assert "not on the loopback" in str(err.value) and "mode: simulated" in str(err.value)
    with pytest.raises(NetworkUnavailable, match="do not send from"):
        open_network("nftables", SCENARIO, None, None, target="http://127.0.0.1:8080")
