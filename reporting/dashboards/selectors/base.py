"""Reading the ``ddi`` schema for the dashboards: one read-only snapshot per request, the
batch it shows, the filters' choices, and running a section's statement.

A section is one SQL statement returning one row whose columns are JSON arrays (one per
figure), so a section costs one round trip however many figures it has, and every aggregate
is computed by PostgreSQL.
"""

from __future__ import annotations

import functools
import json
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


def batch_latest(cursor: Any) -> Batch | None:
    cursor.execute(
        """SELECT batch_id::text, kind, finished_at, as_of FROM etl_batch
           WHERE state = 'succeeded' ORDER BY finished_at DESC LIMIT 1"""
    )
    row = cursor.fetchone()
    if row is None:
        return None
    batch_id, kind, finished_at, as_of = row
    return Batch(batch_id, kind, finished_at, as_of or finished_at.date())


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

    def describe(self, *, period: bool = True) -> str:
        return self.filters.describe(self.options, period=period)
