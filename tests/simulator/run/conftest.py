"""What the run's tests share."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _gc_as_it_was() -> Iterator[None]:
    # A tally freezes the collector's generations and hooks its callbacks: not in pytest.
    callbacks = list(gc.callbacks)
    yield
    gc.callbacks[:] = callbacks
    gc.unfreeze()
