"""Working days: Monday to Friday, less the force's bank holidays.

Deadlines (first response, updates), "you will hear by" dates and 2-Speed delivery cycles
count working days. Bank holidays come from the ``holidays`` package for the United Kingdom
and the region in ``BANK_HOLIDAYS_REGION`` (``ENG`` England and Wales, ``SCT`` Scotland,
``NIR`` Northern Ireland), substitute days included: the days people are actually off.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays
from django.conf import settings


def _region() -> str:
    return getattr(settings, "BANK_HOLIDAYS_REGION", "ENG")


@lru_cache(maxsize=128)
def _bank_holidays(region: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv=region, years=year))


def bank_holidays(year: int) -> frozenset[date]:
    """The bank holidays of ``year`` in the configured region."""
    return _bank_holidays(_region(), year)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in bank_holidays(day.year)


def add_working_days(start: date, days: int) -> date:
    """The day ``days`` working days after ``start`` (``start`` itself not counted)."""
    current = start
    while days > 0:
        current += timedelta(days=1)
        if is_working_day(current):
            days -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end``; negative when ``end`` is
    earlier. Constant time in the span (weeks by arithmetic, then the holidays in it)."""
    if end == start:
        return 0
    sign = 1 if end > start else -1
    low, high = (start, end) if sign > 0 else (end, start)
    weeks, extra = divmod((high - low).days, 7)
    count = weeks * 5
    for i in range(1, extra + 1):
        if (low + timedelta(days=weeks * 7 + i)).weekday() < 5:
            count += 1
    for year in range(low.year, high.year + 1):
        count -= sum(1 for day in bank_holidays(year) if low < day <= high and day.weekday() < 5)
    return sign * count
