"""Computing the dashboards' usual views ahead of the first visitor after each batch.

A section's figures over a million opportunities take seconds to aggregate, and they only
change when a batch lands, so the views people open most (every section, no filters, the
default period and this financial quarter) are computed once per batch into the cache; a
visitor then waits for a cache read. Other filter choices are computed on first use.
"""

from __future__ import annotations

import logging
import time

from django.http import QueryDict

from reporting.dashboards.filters import DashboardFilterForm
from reporting.dashboards.selectors import SECTIONS, cache_seconds, options_get, section_get
from reporting.dashboards.selectors.base import Context, batch_latest, reporting_snapshot

logger = logging.getLogger(__name__)

WARM_PERIODS = ("12m", "fq")


def dashboards_warm(*, periods: tuple[str, ...] = WARM_PERIODS, prefix: str = "") -> int:
    """Fill the cache with every section for ``periods`` from the latest batch; returns how
    many views were computed or found cached (none when caching is off or no batch yet).
    ``prefix`` keeps the entries apart (the benchmark times a warm-up into an empty one)."""
    if cache_seconds() <= 0:
        return 0
    warmed = 0
    started = time.perf_counter()
    with reporting_snapshot() as cursor:
        batch = batch_latest(cursor)
        if batch is None:
            return 0
        options = options_get(cursor, batch)
        for period in periods:
            filters = DashboardFilterForm(
                QueryDict(f"period={period}"), options=options, as_of=batch.as_of
            ).filters()
            for slug in SECTIONS:
                section_get(slug, Context(cursor, filters, options, batch), prefix=prefix)
                warmed += 1
    logger.info(
        "Dashboards warmed for batch %s: %d views in %.1f s",
        batch.batch_id,
        warmed,
        time.perf_counter() - started,
    )
    return warmed
