"""Declarative load scenarios (national waves) and their loader.

The shipped YAML files live next to this module (package data); load one by path or by
name with :func:`load_scenario`.
"""

from scenarios.loader import ScenarioError, builtin_names, load_scenario, resolve
from scenarios.model import NETWORK_FAULTS, SERVER_FAULTS, Fault, Scenario, Wave

__all__ = [
    "NETWORK_FAULTS",
    "SERVER_FAULTS",
    "Fault",
    "Scenario",
    "ScenarioError",
    "Wave",
    "builtin_names",
    "load_scenario",
    "resolve",
]
