from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parent / "data"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return data


@pytest.fixture
def snapshot() -> dict[str, Any]:
    return load("snapshot.json")


@pytest.fixture
def changes() -> dict[str, Any]:
    return load("changes.json")
