"""Human references for opportunities, e.g. SO-2026-00042: unique, stable, never reused."""

from __future__ import annotations

from django.db import connection

from opportunities.models import ReferenceCounter

REFERENCE_PREFIX = "SO"


def reference_format(*, year: int, number: int) -> str:
    return f"{REFERENCE_PREFIX}-{year}-{number:05d}"


def reference_allocate(*, year: int, count: int = 1) -> list[str]:
    """Allocate ``count`` consecutive references for ``year`` in one race-safe statement.

    The row lock taken by the upsert serialises concurrent callers; a rolled-back caller
    leaves a gap, which is fine (references are unique, not dense).
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    table = ReferenceCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (year, last) VALUES (%s, %s) "
            f"ON CONFLICT (year) DO UPDATE SET last = {table}.last + EXCLUDED.last "
            "RETURNING last",
            [year, count],
        )
        last = int(cursor.fetchone()[0])
    return [reference_format(year=year, number=n) for n in range(last - count + 1, last + 1)]
