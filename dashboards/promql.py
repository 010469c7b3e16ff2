"""The PromQL in the mixin, made runnable against a plain Prometheus.

Used by the tests that check every panel and rule against a real Prometheus: panel
queries carry Grafana variables that Prometheus does not know, and an alert expression
returns data only while it fires. For an alert we therefore check each side of its
top-level comparisons and ``and``: each must return data on a live server for the alert
to be able to fire at all (a misspelt metric or label makes a side empty forever).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dashboards.builder import JSON
from dashboards.mixin_files import rules

# What "All" means in our variables, and a rate window that holds several 1 s scrapes.
DEFAULT_VARIABLES = {"job": ".+", "fleet_job": ".+", "centre": ".+", "__rate_interval": "1m"}

_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)")
_COMPARISON = re.compile(r"==|!=|>=|<=|>|<")
_MODIFIER = re.compile(
    r"\s*(?:bool\b|(?:on|ignoring|group_left|group_right)\s*(?:\([^)]*\))?)", re.IGNORECASE
)
_SCALAR = re.compile(r"^\s*[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Expression:
    source: str  # "dashboard file / panel title / refId" or "rule file / rule name"
    expr: str


def substitute(expr: str, variables: dict[str, str] | None = None) -> str:
    values = {**DEFAULT_VARIABLES, **(variables or {})}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in values:
            raise KeyError(f"no value for Grafana variable ${name} in {expr!r}")
        return values[name]

    return _VARIABLE.sub(replace, expr)


def panel_expressions(name: str, board: JSON) -> Iterator[Expression]:
    for panel in board["panels"]:
        for target in panel.get("targets", []):
            yield Expression(f"{name} / {panel['title']} / {target['refId']}", target["expr"])


def variable_expressions(name: str, board: JSON) -> Iterator[Expression]:
    """label_values(metric, label) variables become the metric selector they read."""
    for variable in board["templating"]["list"]:
        if variable["type"] != "query":
            continue
        match = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", variable["definition"])
        if match is None:
            raise ValueError(f"{name}: variable {variable['name']} is not label_values(...)")
        yield Expression(f"{name} / variable {variable['name']}", match.group(1))


def _top_level_split(expr: str, operators: re.Pattern[str]) -> list[str]:
    """Split at operators that sit outside any (), [] or {} and outside strings."""
    parts: list[str] = []
    depth = 0
    quote = ""
    start = i = 0
    while i < len(expr):
        ch = expr[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "\"'`":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0:
            match = operators.match(expr, i)
            # "=~" and "!~" only occur inside {} so a top-level "=" is part of ==/!=/>=/<=.
            if match:
                parts.append(expr[start:i])
                end = match.end()
                modifier = _MODIFIER.match(expr, end)
                while modifier and modifier.group().strip():
                    end = modifier.end()
                    modifier = _MODIFIER.match(expr, end)
                start = i = end
                continue
        i += 1
    parts.append(expr[start:])
    return [part.strip() for part in parts]


def operands(expr: str) -> list[str]:
    """The non-scalar sides of an expression's top-level ``and`` and comparisons.

    ``a > 0.8`` gives ``[a]``; ``a * 60 > 20 and a > 0.05 * b`` gives
    ``[a * 60, a, 0.05 * b]``; an expression without comparison is its own operand.
    """
    result: list[str] = []
    for clause in _top_level_split(expr, re.compile(r"\band\b", re.IGNORECASE)):
        for side in _top_level_split(clause, _COMPARISON):
            if side and not _SCALAR.match(side):
                result.append(side)
    return result


def checkable_expressions(boards: dict[str, JSON], rule_paths: list[Path]) -> list[Expression]:
    """What must return data on a live server: every panel query and variable (variables
    substituted), every recording rule, and every non-scalar side of every alert."""
    out: list[Expression] = []
    for name, board in boards.items():
        for item in [*panel_expressions(name, board), *variable_expressions(name, board)]:
            out.append(Expression(item.source, substitute(item.expr)))
    for path in rule_paths:
        for rule in rules(path):
            if "record" in rule:
                out.append(Expression(f"{path.name} / {rule['record']}", rule["expr"]))
                continue
            label = f"{path.name} / {rule['alert']} ({rule.get('labels', {}).get('severity')})"
            for i, side in enumerate(operands(rule["expr"])):
                out.append(Expression(f"{label} / side {i + 1}", side))
    return out
