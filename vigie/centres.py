"""The exam centres (one per medical faculty), shared by the server, scenarios and fleet."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import yaml


@dataclass(frozen=True, slots=True)
class Centre:
    code: str
    name: str
    weight: float = 1.0


def load_centres(path: str | Path | None = None) -> tuple[Centre, ...]:
    """Centres from a YAML file (``centres: [{code, name, weight}]``); the 35 faculties by default."""
    if path is None:
        return default_centres()
    return _parse(Path(path).read_text(encoding="utf-8"), str(path))


@cache
def default_centres() -> tuple[Centre, ...]:
    text = resources.files("vigie").joinpath("centres.yaml").read_text(encoding="utf-8")
    return _parse(text, "vigie/centres.yaml")


def _parse(text: str, origin: str) -> tuple[Centre, ...]:
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or not isinstance(data.get("centres"), list):
        raise ValueError(f"{origin}: expected a mapping with a 'centres' list")
    centres: list[Centre] = []
    seen: set[str] = set()
    for i, item in enumerate(data["centres"]):
        if not isinstance(item, dict) or not isinstance(item.get("code"), str):
            raise ValueError(f"{origin}: centres[{i}] needs a string 'code'")
        code = item["code"]
        if code in seen:
            raise ValueError(f"{origin}: centre code {code!r} appears twice")
        seen.add(code)
        centres.append(
            Centre(
                code=code, name=str(item.get("name", code)), weight=float(item.get("weight", 1.0))
            )
        )
    return tuple(centres)
