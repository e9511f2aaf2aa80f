"""Working days: weekdays less the region's bank holidays, the same count everywhere."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synergy_portal.working_days import (
    add_working_days,
    bank_holidays,
    is_working_day,
    working_days_between,
)


def test_england_and_wales_bank_holidays_2026() -> None:
    assert bank_holidays(2026) == {
        date(2026, 1, 1),
        date(2026, 4, 3),
        date(2026, 4, 6),
        date(2026, 5, 4),
        date(2026, 5, 25),
        date(2026, 8, 31),
        date(2026, 12, 25),
        date(2026, 12, 26),  # Boxing Day, a Saturday…
        date(2026, 12, 28),  # …so the Monday is the substitute day off
    }


def test_the_region_comes_from_settings(settings) -> None:  # type: ignore[no-untyped-def]
    assert is_working_day(date(2026, 1, 2))
    settings.BANK_HOLIDAYS_REGION = "SCT"
    assert not is_working_day(date(2026, 1, 2))  # 2 January is a holiday in Scotland


def test_ten_working_days_across_christmas() -> None:
    # Friday 18 December 2026: the 25th and the 28th (Boxing Day's substitute) are off.
    assert add_working_days(date(2026, 12, 18), 10) == date(2027, 1, 6)
    assert working_days_between(date(2026, 12, 18), date(2027, 1, 6)) == 10


def test_weekends_are_not_working_days() -> None:
    assert add_working_days(date(2026, 6, 12), 1) == date(2026, 6, 15)  # Friday → Monday
    assert working_days_between(date(2026, 6, 13), date(2026, 6, 14)) == 0


@settings(max_examples=200, deadline=None)
@given(
    start=st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)),
    span=st.integers(min_value=-800, max_value=800),
)
def test_counting_agrees_with_walking_day_by_day(start: date, span: int) -> None:
    end = start + timedelta(days=span)
    low, high = sorted((start, end))
    walked = sum(is_working_day(low + timedelta(days=i)) for i in range(1, (high - low).days + 1))
    assert working_days_between(start, end) == (walked if end >= start else -walked)


@pytest.mark.parametrize("days", [0, 1, 5, 10, 43])
def test_adding_then_counting_round_trips(days: int) -> None:
    start = date(2026, 12, 20)
    assert working_days_between(start, add_working_days(start, days)) == days
