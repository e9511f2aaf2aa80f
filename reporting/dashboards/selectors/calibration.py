"""The calibration factor to show beside a score: how delivered work on the same journey
realised its estimates. For reading a score; never applied to it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.cache import cache

from reporting.dashboards.selectors import cache_seconds
from reporting.dashboards.selectors.base import batch_latest, reporting_snapshot

MIN_RELIABLE = 5

SQL = """
SELECT f.journey_key, grouping(f.journey_key) = 1, count(*), sum(f.estimated_cash_per_year),
       sum(f.realised_cash_per_year)
FROM fact_opportunity f
WHERE f.delivered_date_key IS NOT NULL AND f.realised_cash_per_year IS NOT NULL
  AND f.estimated_cash_per_year > 0
GROUP BY ROLLUP (f.journey_key)
"""


@dataclass(frozen=True)
class Calibration:
    """Realised ÷ estimated £ a year over ``count`` delivered opportunities (all time)."""

    factor: Decimal
    count: int
    scope: str  # "journey" or "force" (too few on the journey: the force-wide factor)

    @property
    def reliable(self) -> bool:
        return self.count >= MIN_RELIABLE


def calibration_factors() -> dict[int | None, Calibration]:
    """{journey key: its factor, None: the force-wide factor}, from the latest batch."""
    with reporting_snapshot() as cursor:
        batch = batch_latest(cursor)
        if batch is None:
            return {}
        key = f"dashboards:calibration:{batch.batch_id}"
        seconds = cache_seconds()
        found = cache.get(key) if seconds > 0 else None
        if found is None:
            cursor.execute(SQL)
            found = {}
            for journey_key, total, count, estimated, realised in cursor.fetchall():
                if journey_key is None and not total:
                    continue  # opportunities with no journey: only in the force-wide total
                factor = Decimal(realised) / Decimal(estimated)
                found[None if total else journey_key] = Calibration(
                    factor, count, "force" if total else "journey"
                )
            if seconds > 0:
                cache.set(key, found, seconds)
    return found


def calibration_for(*, journey_key: int | None) -> Calibration | None:
    """The factor to show beside a score on ``journey_key``: the journey's own when at least
    MIN_RELIABLE delivered opportunities back it, else the force-wide one."""
    factors = calibration_factors()
    own = factors.get(journey_key) if journey_key is not None else None
    if own is not None and own.reliable:
        return own
    return factors.get(None)
