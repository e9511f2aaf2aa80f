"""Reading the ``ddi`` schema for the dashboards: one read-only snapshot per request, the
batch it shows, the filters' choices, and running a section's statement.

A section is one SQL statement returning one row whose columns are JSON arrays (one per
figure), so a section costs one round trip however many figures it has, and every aggregate
is computed by PostgreSQL.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connections, transaction

from reporting.dashboards.filters import DashboardFilters, FilterOptions, Option
from synergy_portal.db.routers import REPORTING_ALIAS

# Working days (Monday to Friday, less bank holidays, as the portal's own deadlines count them:
# synergy_portal.working_days) from one date to another, in constant time per row: weekdays in
# [epoch, d) counted from a Monday epoch, less the weekday bank holidays before d (a binary
# search of a sorted array literal with width_bucket), differenced.
_EPOCH = "DATE '2000-01-03'"
_HOLIDAY_YEARS = (2000, 2045)


@functools.lru_cache(maxsize=4)
def _holidays_sql(region: str) -> str:
    from synergy_portal.working_days import bank_holidays

    days = sorted(
        day
        for year in range(_HOLIDAY_YEARS[0], _HOLIDAY_YEARS[1] + 1)
        for day in bank_holidays(year)
        if day.weekday() < 5
    )
    # One typed literal: PostgreSQL reads it once, when the statement is parsed (an ARRAY[…]
    # of text cast to date[] would be re-cast for every row).
    return "'{" + ",".join(day.isoformat() for day in days) + "}'::date[]"


def weekdays_before(day_sql: str) -> str:
    n = f"(({day_sql}) - {_EPOCH})"
    return f"(5 * div({n}, 7) + least(mod({n}, 7), 5))"


def working_days_before(day_sql: str) -> str:
    """Working days in [epoch, day)."""
    holidays = _holidays_sql(getattr(settings, "BANK_HOLIDAYS_REGION", "ENG"))
    return f"({weekdays_before(day_sql)} - width_bucket(({day_sql}) - 1, {holidays}))"


def working_days_sql(start_sql: str, end_sql: str) -> str:
    """Working days after ``start`` up to and including ``end`` (SQL dates)."""
    return (
        f"({working_days_before(f'({end_sql}) + 1')} - {working_days_before(f'({start_sql}) + 1')})"
    )


def key_to_date(key_sql: str) -> str:
    """A yyyymmdd date key as a date, by arithmetic (no dim_date join, no text parsing)."""
    return f"make_date(({key_sql}) / 10000, mod(({key_sql}) / 100, 100), mod(({key_sql}), 100))"


@dataclass(frozen=True)
class Batch:
    """The latest successful extract batch: what every figure on the page comes from."""

    batch_id: str
    kind: str
    finished_at: datetime
    as_of: date
    # The board settings the dashboards' aggregates (schema dash) were built with, when they
    # are built for this batch; None: the sections read the ddi tables themselves.
    aggregated: dict[str, int] | None = None
    # Which generation of the aggregate tables holds them (dash.<table>_<generation>).
    generation: int | None = None
    # Shown while a newer batch's aggregates are being built (see batch_latest).
    stand_in: bool = False

    @property
    def short_id(self) -> str:
        return self.batch_id[:8]

    @property
    def kind_label(self) -> str:
        return {
            "full": "full rebuild",
            "incremental": "nightly batch",
            "refresh": "dashboard refresh",
        }.get(self.kind, self.kind)


REFRESH_SCHEDULE = "ddi-extract-refresh"
DEFAULT_REFRESH_MINUTES = 15


def refresh_minutes() -> int:
    """How often the reporting schema is refreshed through the day: the extract's refresh
    entry in CELERY_BEAT_SCHEDULE (EXTRACT_REFRESH_SECONDS), unless REPORTING_REFRESH_MINUTES
    says otherwise (e.g. when admins moved the schedule in django-celery-beat)."""
    explicit = getattr(settings, "REPORTING_REFRESH_MINUTES", None)
    if explicit:
        return int(explicit)
    entry = getattr(settings, "CELERY_BEAT_SCHEDULE", {}).get(REFRESH_SCHEDULE, {})
    seconds = entry.get("schedule") if isinstance(entry, dict) else None
    if isinstance(seconds, int | float) and seconds > 0:
        return max(1, round(seconds / 60))
    return DEFAULT_REFRESH_MINUTES


@contextmanager
def reporting_snapshot() -> Iterator[Any]:
    """A cursor on the reporting database inside one read-only REPEATABLE READ transaction,
    so a batch committing mid-request cannot mix two batches' figures on one page."""
    connection = connections[REPORTING_ALIAS]
    nested = connection.in_atomic_block
    # Read-only: nothing to roll back to, so no savepoint when nested (as in tests).
    with transaction.atomic(using=REPORTING_ALIAS, savepoint=False), connection.cursor() as cursor:
        if not nested:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        # JIT compiling costs more than it saves on these short aggregates; a section's
        # sorts and hashes fit in memory at a million opportunities. Row estimates for CTE
        # filters are guesses, and a nested loop built on a low guess probes an index once
        # per opportunity: whole-table aggregates are hash joins.
        cursor.execute(
            "SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true), "
            "set_config('enable_nestloop', 'off', true)"
        )
        yield cursor


# While the aggregates of a new batch are being built (about a minute and a half at a million
# opportunities), the dashboards go on showing the batch they were last built for, if it is
# recent: its figures are counted and cached, where the new batch's would be computed from the
# ddi tables on every cold view.
BUILD_GRACE_MINUTES = 10


def batch_latest(cursor: Any) -> Batch | None:
    """The batch the dashboards show: the latest successful one, or, for the first minutes
    after it, the one before it whose aggregates are built (``stand_in``)."""
    cursor.execute(
        """WITH latest AS (
               SELECT batch_id, kind, finished_at, as_of FROM etl_batch
               WHERE state = 'succeeded' ORDER BY finished_at DESC LIMIT 1
           )
           SELECT * FROM (
               SELECT b.batch_id::text, b.kind, b.finished_at, b.as_of, a.settings,
                      a.generation, b.batch_id <> l.batch_id AS stand_in
               FROM latest l
               JOIN dash.built a ON a.batch_id = l.batch_id
                 OR l.finished_at > now() - make_interval(mins => %(grace)s)
               JOIN etl_batch b ON b.batch_id = a.batch_id
                AND b.finished_at > l.finished_at - make_interval(mins => %(window)s)
               UNION ALL
               SELECT l.batch_id::text, l.kind, l.finished_at, l.as_of, NULL, NULL, false
               FROM latest l
           ) x
           ORDER BY settings IS NULL LIMIT 1""",
        {"grace": BUILD_GRACE_MINUTES, "window": refresh_minutes() + BUILD_GRACE_MINUTES},
    )
    row = cursor.fetchone()
    if row is None:
        return None
    batch_id, kind, finished_at, as_of, aggregated, generation, stand_in = row
    if isinstance(aggregated, str):  # Django reads jsonb as text
        aggregated = json.loads(aggregated)
    return Batch(
        batch_id,
        kind,
        finished_at,
        as_of or finished_at.date(),
        aggregated,
        generation,
        stand_in,
    )


def filter_options(cursor: Any) -> FilterOptions:
    cursor.execute(
        """SELECT 'departments', department_key, name, 0 FROM dim_department
           UNION ALL SELECT 'journeys', journey_key, name, 0 FROM dim_journey
           UNION ALL SELECT 'themes', dna_theme_key, name, position FROM dim_dna_theme
           ORDER BY 1, 4, 3"""
    )
    found: dict[str, list[Option]] = {"departments": [], "journeys": [], "themes": []}
    for kind, key, name, _ in cursor.fetchall():
        found[kind].append(Option(int(key), name))
    return FilterOptions(**found)


def json_row(cursor: Any, sql: str, params: dict[str, Any]) -> dict[str, Any]:
    """Run a section's statement: one row of JSON texts, read with exact decimals."""
    cursor.execute(sql, params)
    names = [column[0] for column in cursor.description]
    row = cursor.fetchone()
    return {
        name: json.loads(value, parse_float=Decimal) if value is not None else []
        for name, value in zip(names, row, strict=True)
    }


def slice_where(filters: DashboardFilters, alias: str = "a", *, by: tuple[str, ...] = ()) -> str:
    """A condition choosing the rows of one slice of a ``dash`` aggregate: the department,
    journey and theme filtered on, or their "every" rows (key 0). A dimension in ``by`` is
    wanted row by row instead (every department, say, or just the one filtered on)."""
    clauses = []
    for name, column in (
        ("department", "department_key"),
        ("journey", "journey_key"),
        ("theme", "theme_key"),
    ):
        chosen = getattr(filters, name) is not None
        if name in by:
            clauses.append(f"{alias}.{column} IS DISTINCT FROM 0")
        if chosen:
            clauses.append(f"{alias}.{column} = %({name})s")
        elif name not in by:
            clauses.append(f"{alias}.{column} = 0")
    return " AND ".join(clauses)


def histogram_percentiles(histogram_sql: str, shares: tuple[float, ...]) -> str:
    """A JSON array [count, p(share) …] from ``histogram_sql`` (rows of ``days, n``), equal to
    count(x) and percentile_cont(share) WITHIN GROUP (ORDER BY x) over the rows it counts:
    PostgreSQL interpolates between the values at positions floor and ceil of
    share × (count − 1), as lo + (position − floor) × (hi − lo) in double precision."""
    picks = []
    for share in shares:
        at = f"({float(share)!r}::float8 * (t.total - 1)::float8)"
        picks.append(
            f"""CASE WHEN t.total > 0 THEN (
                SELECT lo.days::float8 + ({at} - floor({at})) * (hi.days - lo.days)::float8
                FROM c lo, c hi
                WHERE lo.before <= floor({at}) AND floor({at}) < lo.before + lo.n
                  AND hi.before <= ceil({at}) AND ceil({at}) < hi.before + hi.n) END"""
        )
    return f"""(WITH h AS ({histogram_sql}),
        c AS (SELECT days, n, sum(n) OVER (ORDER BY days) - n AS before FROM h),
        t AS (SELECT coalesce(sum(n), 0) AS total FROM h)
    SELECT json_build_array(t.total, {", ".join(picks)}) FROM t)"""


_DASH_TABLE = re.compile(
    r"\bdash\.(submitted|delivered|lags|open|overdue|applications|calibrated|benefits|"
    r"engaged|supported)\b"
)


@dataclass(frozen=True)
class Context:
    """What every section's selector needs."""

    cursor: Any
    filters: DashboardFilters
    options: FilterOptions
    batch: Batch

    @property
    def params(self) -> dict[str, Any]:
        return {**self.filters.params(), "as_of": self.batch.as_of}

    def row(self, sql: str, params: dict[str, Any]) -> dict[str, Any]:
        """Run a section's statement (see json_row), on this batch's aggregate tables."""
        return json_row(self.cursor, self.dash(sql), params)

    def dash(self, sql: str) -> str:
        """``sql`` reading this batch's generation of the aggregate tables."""
        return _DASH_TABLE.sub(rf"dash.\1_{int(self.batch.generation or 0)}", sql)

    def aggregated(self, settings: dict[str, int] | None = None) -> bool:
        """Read the ``dash`` aggregates: they are built for this batch (and, for figures that
        depend on the board's settings, with the same ``settings``)."""
        built = self.batch.aggregated
        if built is None:
            return False
        return settings is None or all(built.get(k) == v for k, v in settings.items())

    def describe(self, *, period: bool = True) -> str:
        return self.filters.describe(self.options, period=period)
