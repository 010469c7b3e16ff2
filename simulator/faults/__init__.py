"""Faults the run injects from outside the server: centre network outages and resets.

See :mod:`.network` (the interface the fault timeline calls), :mod:`.addresses` (the
run's loopback address plan), :mod:`.nft` and :mod:`.simulated` (the two modes).
"""

from .addresses import BASE_ENV, BaseLease, lease_base
from .network import CentreNetwork, NetworkUnavailable, address_range, open_network

__all__ = [
    "BASE_ENV",
    "BaseLease",
    "CentreNetwork",
    "NetworkUnavailable",
    "address_range",
    "lease_base",
    "open_network",
]
