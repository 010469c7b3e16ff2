"""Every route table of the exam server, in one list: what the app serves is what the
OpenAPI document describes (both read this)."""

from __future__ import annotations

from . import (
    candidate_routes,
    conntest_routes,
    export_routes,
    jury_routes,
    operator_routes,
    results_routes,
    service_routes,
    supervision_routes,
    tablet_routes,
    ws,
)
from .api import Api

TABLES: tuple[Api, ...] = (
    candidate_routes.routes,
    jury_routes.routes,
    supervision_routes.routes,
    export_routes.routes,
    results_routes.routes,
    ws.routes,
    operator_routes.routes,
    service_routes.routes,
    tablet_routes.routes,
    conntest_routes.routes,
)
