"""Load a scenario from YAML, apply ``--set key.path=value`` overrides, explain errors.

Every problem comes out as one :class:`ScenarioError` whose lines name the file, the
key path and the problem, ready to print for a human (the CLIs exit 2 on it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from scenarios.model import KeyPathError, Scenario
from vigie.centres import load_centres
from vigie.correction.rules import RulesError, load_rules


class ScenarioError(ValueError):
    def __init__(self, origin: str, problems: Sequence[str]) -> None:
        self.origin = origin
        self.problems = list(problems)
        super().__init__("\n".join(f"{origin}: {p}" for p in self.problems))


def builtin_names() -> list[str]:
    """Scenario names shipped with vigie (``smoke``, ``ecnp-2022-01-21``, ...)."""
    return sorted(
        p.name.removesuffix(".yaml")
        for p in resources.files("scenarios").iterdir()
        if p.name.endswith(".yaml")
    )


def resolve(ref: str | Path) -> Path:
    """A scenario file from a path, or from the name of a shipped scenario."""
    path = Path(ref)
    if path.is_file():
        return path
    name = str(ref).removesuffix(".yaml")
    shipped = resources.files("scenarios").joinpath(f"{name}.yaml")
    if shipped.is_file():
        return Path(str(shipped))
    known = ", ".join(builtin_names())
    raise ScenarioError(str(ref), [f"no such scenario file or shipped scenario (shipped: {known})"])


def load_scenario(ref: str | Path, overrides: Iterable[str] = ()) -> Scenario:
    path = resolve(ref)
    origin = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ScenarioError(origin, [f"not valid YAML: {exc}"]) from None
    except OSError as exc:
        raise ScenarioError(origin, [f"cannot read: {exc.strerror}"]) from None
    if not isinstance(data, dict):
        raise ScenarioError(origin, ["expected a mapping at the top level"])
    for item in overrides:
        apply_override(data, item, origin)
    return parse_scenario(data, origin, base_dir=path.parent)


def parse_scenario(data: dict[str, Any], origin: str, base_dir: Path | None = None) -> Scenario:
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(origin, [_describe(err) for err in exc.errors()]) from None
    _check_centre_codes(scenario, origin, base_dir or Path("."))
    _check_rules(scenario, origin, base_dir or Path("."))
    return scenario


def _check_rules(scenario: Scenario, origin: str, base_dir: Path) -> None:
    # Checked now: a bad rules file found at the end of a rehearsal wastes the whole run.
    if scenario.correction_rules is None:
        return
    try:
        load_rules(base_dir / scenario.correction_rules)
    except OSError as exc:
        raise ScenarioError(origin, [f"correction_rules: cannot read: {exc.strerror}"]) from None
    except RulesError as exc:
        raise ScenarioError(origin, [f"correction_rules: {exc}"]) from None


def apply_override(data: dict[str, Any], item: str, origin: str = "--set") -> None:
    """``server.max_connections=0`` sets that key; the value is read as YAML (0, true, [a])."""
    key, sep, raw = item.partition("=")
    if not sep or not key:
        raise ScenarioError(origin, [f"override {item!r} is not KEY.PATH=VALUE"])
    parts = key.split(".")
    node: Any = data
    for part in parts[:-1]:
        node = _child(node, part, item, origin)
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        raise ScenarioError(origin, [f"override {item!r}: value is not valid YAML"]) from None
    last = parts[-1]
    if isinstance(node, list):
        node[_index(node, last, item, origin)] = value
    else:
        node[last] = value


def _child(node: Any, part: str, item: str, origin: str) -> Any:
    # `waves.3.rate_per_s=20`: a number indexes a list
    if isinstance(node, list):
        return node[_index(node, part, item, origin)]
    if not isinstance(node, dict):
        raise ScenarioError(origin, [f"override {item!r}: {part!r} is inside a plain value"])
    child = node.setdefault(part, {})
    if not isinstance(child, dict | list):
        raise ScenarioError(origin, [f"override {item!r}: {part!r} is not a mapping"])
    return child


def _index(node: list[Any], part: str, item: str, origin: str) -> int:
    if not part.isdigit() or int(part) >= len(node):
        raise ScenarioError(
            origin, [f"override {item!r}: {part!r} is not an index below {len(node)}"]
        )
    return int(part)


def _check_centre_codes(scenario: Scenario, origin: str, base_dir: Path) -> None:
    if scenario.centres_file is None:
        known = {c.code for c in load_centres()}
        source = "vigie/centres.yaml"
    else:
        path = base_dir / scenario.centres_file
        try:
            known = {c.code for c in load_centres(path)}
        except (OSError, ValueError) as exc:
            raise ScenarioError(origin, [f"centres_file: {exc}"]) from None
        source = scenario.centres_file
    unknown = sorted(set(scenario.centres) - known)
    if unknown:
        raise ScenarioError(
            origin, [f"centres: unknown centre code(s) {', '.join(unknown)} (not in {source})"]
        )


def _describe(err: Any) -> str:
    loc: tuple[Any, ...] = tuple(err.get("loc", ()))
    message = str(err.get("msg", "invalid"))
    cause = err.get("ctx", {}).get("error")
    if isinstance(cause, KeyPathError):
        loc, message = loc + cause.loc, cause.message
    elif err.get("type") == "extra_forbidden":
        message = "unknown key"
    elif message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    path = ".".join(str(p) for p in loc) or "(top level)"
    return f"{path}: {message}"
