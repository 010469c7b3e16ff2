"""What every board's queries share: label selectors, template variables, quantiles.

The selectors read Grafana's template variables (``$job`` for the exam server,
``$fleet_job`` for the load generator), so a board follows whichever jobs the SRE picks.
"""

from __future__ import annotations

from dashboards.builder import Query, query_variable
from vigie.wire.metrics import Metric as M

SRV = 'job=~"$job"'
FLEET = 'job=~"$fleet_job"'
RATE = "$__rate_interval"

JOB_VAR = query_variable("job", "Exam server job", f"label_values({M.CONNECTION_CAP}, job)")
FLEET_VAR = query_variable("fleet_job", "Load generator job", f"label_values({M.FLEET_USERS}, job)")
CENTRE_VAR = query_variable(
    "centre", "Centre", f'label_values({M.WEBSOCKETS_OPEN}{{job=~"$job"}}, centre)'
)


def quantiles(
    metric: str, selector: str, by: str = "", qs: tuple[float, ...] = (0.5, 0.99)
) -> list[Query]:
    """histogram_quantile queries, one per quantile, optionally split by labels in ``by``."""
    group = f"{by}, le" if by else "le"
    prefix = f"{{{{{by}}}}} " if by else ""
    return [
        Query(
            f"histogram_quantile({q}, sum by ({group}) (rate({metric}_bucket{{{selector}}}[{RATE}])))",
            f"{prefix}p{round(q * 100)}",
        )
        for q in qs
    ]
