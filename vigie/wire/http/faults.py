"""The operator's fault control, behind the token given to ``vigie serve``."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from ..metrics import FaultKind
from ..ws import UnixTs
from .base import Id, _Request, _Response


class FaultRequest(_Request):
    """A timed fault, applied now, ended by itself (`vigie certify` applies a scenario's)."""

    kind: Annotated[
        FaultKind, Meta(description="latency, error, db_stall or drop_planned_extra_time")
    ]
    duration_s: Annotated[float, Meta(gt=0, le=3600)]
    ms: Annotated[float, Meta(gt=0, le=60_000, description="latency: added to each call")] | None = None  # fmt: skip
    ratio: Annotated[float, Meta(gt=0, le=1, description="error: share answered 503")] | None = None  # fmt: skip
    centres: (
        Annotated[
            list[Id], Meta(min_length=1, max_length=100, description="drop_planned_extra_time")
        ]
        | None
    ) = None


class ActiveFault(_Response):
    kind: FaultKind
    started_at: UnixTs
    until: UnixTs
    value: Annotated[float, Meta(description="ms for latency, the ratio for error; 0 for db_stall")]
    # RUF012 is a false alarm: msgspec copies an empty default per instance (ruff cannot
    # see the Struct base once it is imported from .base).
    centres: Annotated[list[str], Meta(description="the centres it hits; empty: all")] = []  # noqa: RUF012


class Faults(_Response):
    active: list[ActiveFault]
