"""dim_date: UK financial year, quarters and weeks."""

from __future__ import annotations

import pytest
from django.db import connections

from tests.reporting.factories import run

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "reporting"])


def test_financial_year_runs_april_to_march() -> None:
    run(full=True, files=False)
    with connections["reporting"].cursor() as cursor:
        cursor.execute(
            "SELECT date_key, fiscal_year, fiscal_year_start, fiscal_quarter, fiscal_month, "
            "iso_week, week_start_date::text, day_name, is_weekend FROM dim_date "
            "WHERE date_key IN (20260331, 20260401, 20261001, 20270101) ORDER BY date_key"
        )
        rows = cursor.fetchall()
    assert rows == [
        (20260331, "2025/26", 2025, 4, 12, 14, "2026-03-30", "Tuesday", False),
        (20260401, "2026/27", 2026, 1, 1, 14, "2026-03-30", "Wednesday", False),
        (20261001, "2026/27", 2026, 3, 7, 40, "2026-09-28", "Thursday", False),
        (20270101, "2026/27", 2026, 4, 10, 53, "2026-12-28", "Friday", False),
    ]
