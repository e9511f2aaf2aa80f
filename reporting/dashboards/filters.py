"""The dashboards' filters: a period, a department, a journey and a DNA theme.

They arrive in the query string (so every view of a dashboard is a link), are validated by
:class:`DashboardFilterForm`, and reach SQL only as bound parameters through
:meth:`DashboardFilters.where`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms

PERIODS: dict[str, str] = {
    "12m": "Last 12 months",
    "fq": "This financial quarter",
    "lfq": "Last financial quarter",
    "fy": "This financial year",
    "lfy": "Last financial year",
    "all": "All time",
    "custom": "Choose dates",
}
DEFAULT_PERIOD = "12m"
MSG_DATES_ORDER = "The start date must be on or before the end date"
MSG_DATES_NEEDED = "Enter a start and an end date, or choose another period"


def date_key(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def _fiscal_quarter_start(day: date) -> date:
    """First day of the UK financial quarter (April–June, July–September, …) holding ``day``."""
    first = ((day.month - 4) % 12) // 3 * 3  # months into the financial year: 0, 3, 6 or 9
    month = (first + 3) % 12 + 1
    return date(day.year if month <= day.month else day.year - 1, month, 1)


def _fiscal_year_start(day: date) -> date:
    return date(day.year if day.month >= 4 else day.year - 1, 4, 1)


def period_dates(period: str, as_of: date) -> tuple[date | None, date | None]:
    """(first day, last day) of a named period ending at or before ``as_of``; (None, None) for
    all time."""
    if period == "all":
        return None, None
    if period == "fq":
        return _fiscal_quarter_start(as_of), as_of
    if period == "lfq":
        end = _fiscal_quarter_start(as_of) - timedelta(days=1)
        return _fiscal_quarter_start(end), end
    if period == "fy":
        return _fiscal_year_start(as_of), as_of
    if period == "lfy":
        end = _fiscal_year_start(as_of) - timedelta(days=1)
        return _fiscal_year_start(end), end
    try:
        start = as_of.replace(year=as_of.year - 1) + timedelta(days=1)
    except ValueError:  # 29 February
        start = as_of.replace(year=as_of.year - 1, day=28) + timedelta(days=1)
    return start, as_of


@dataclass(frozen=True)
class Option:
    key: int
    name: str


@dataclass(frozen=True)
class FilterOptions:
    departments: list[Option]
    journeys: list[Option]
    themes: list[Option]

    def name(self, kind: str, key: int | None) -> str | None:
        if key is None:
            return None
        return next((o.name for o in getattr(self, kind) if o.key == key), str(key))


@dataclass(frozen=True)
class DashboardFilters:
    period: str
    start: date | None
    end: date | None
    department: int | None = None
    journey: int | None = None
    theme: int | None = None

    @property
    def has_period(self) -> bool:
        return self.start is not None or self.end is not None

    def params(self) -> dict[str, Any]:
        return {
            "start_key": date_key(self.start) if self.start else None,
            "end_key": date_key(self.end) if self.end else None,
            "start": self.start,
            "end": self.end,
            "department": self.department,
            "journey": self.journey,
            "theme": self.theme,
        }

    def where(self, alias: str = "f", *, period_column: str | None = None) -> str:
        """A condition on ``fact_opportunity`` rows (as ``alias``): the department, journey and
        theme, and, with ``period_column`` (a date key column), the period."""
        clauses = ["TRUE"]
        if period_column and self.start:
            clauses.append(f"{alias}.{period_column} >= %(start_key)s")
        if period_column and self.end:
            clauses.append(f"{alias}.{period_column} <= %(end_key)s")
        if self.department is not None:
            clauses.append(f"{alias}.department_key = %(department)s")
        if self.journey is not None:
            clauses.append(f"{alias}.journey_key = %(journey)s")
        if self.theme is not None:
            clauses.append(
                "EXISTS (SELECT 1 FROM bridge_opportunity_dna_theme b "
                f"WHERE b.opportunity_id = {alias}.opportunity_id "
                "AND b.dna_theme_key = %(theme)s)"
            )
        return " AND ".join(clauses)

    def in_period(self, column: str) -> str:
        """A condition that a date key column falls in the period (TRUE for all time)."""
        clauses = [f"{column} IS NOT NULL"]
        if self.start:
            clauses.append(f"{column} >= %(start_key)s")
        if self.end:
            clauses.append(f"{column} <= %(end_key)s")
        return " AND ".join(clauses)

    def query_string(self) -> str:
        """The filters as a query string (empty for the defaults), for links and CSVs."""
        items: list[tuple[str, Any]] = []
        if self.period != DEFAULT_PERIOD:
            items.append(("period", self.period))
        if self.period == "custom":
            items += [("from", self.start.isoformat() if self.start else "")]
            items += [("to", self.end.isoformat() if self.end else "")]
        for name in ("department", "journey", "theme"):
            value = getattr(self, name)
            if value is not None:
                items.append((name, value))
        return urlencode(items)

    def cache_key(self) -> str:
        return ":".join(
            str(v)
            for v in (
                self.start,
                self.end,
                self.department,
                self.journey,
                self.theme,
            )
        )

    def period_text(self) -> str:
        if self.start and self.end:
            return f"{self.start:%-d %b %Y} to {self.end:%-d %b %Y}"
        if self.start:
            return f"since {self.start:%-d %b %Y}"
        if self.end:
            return f"up to {self.end:%-d %b %Y}"
        return "all time"

    def describe(self, options: FilterOptions, *, period: bool = True) -> str:
        """The filters in words, e.g. 'submitted 1 Dec 2025 to 27 Nov 2026, Response
        Policing, any journey, any DNA theme'."""
        parts = []
        if period:
            parts.append(self.period_text())
        parts.append(options.name("departments", self.department) or "every department")
        parts.append(options.name("journeys", self.journey) or "every journey")
        theme = options.name("themes", self.theme)
        parts.append(f"DNA theme {theme}" if theme else "every DNA theme")
        return ", ".join(parts)


class DashboardFilterForm(forms.Form):
    """The query string's filters. The dates are named ``from`` and ``to`` (a Python keyword,
    hence added in ``__init__``)."""

    period = forms.ChoiceField(choices=list(PERIODS.items()), required=False)
    department = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    journey = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    theme = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)

    def __init__(self, data: Any, *, options: FilterOptions, as_of: date) -> None:
        super().__init__(data)
        self.as_of = as_of
        self.fields["from"] = forms.DateField(required=False, label="From")
        self.fields["to"] = forms.DateField(required=False, label="To")
        for name, items in (
            ("department", options.departments),
            ("journey", options.journeys),
            ("theme", options.themes),
        ):
            self.fields[name].choices = [("", "Any")] + [(o.key, o.name) for o in items]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        custom = cleaned.get("period") == "custom" or (
            not cleaned.get("period") and (cleaned.get("from") or cleaned.get("to"))
        )
        if custom and not ({"from", "to"} & set(self.errors)):
            start, end = cleaned.get("from"), cleaned.get("to")
            if not start and not end:
                self.add_error("from", MSG_DATES_NEEDED)
            elif start and end and start > end:
                self.add_error("to", MSG_DATES_ORDER)
        return cleaned

    def filters(self) -> DashboardFilters:
        """The valid filters; a field that did not validate falls back to its default."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        period = data.get("period") or (
            "custom" if data.get("from") or data.get("to") else DEFAULT_PERIOD
        )
        if period == "custom" and {"from", "to"} & set(self.errors):
            period = DEFAULT_PERIOD
        if period == "custom":
            start, end = data.get("from"), data.get("to")
        else:
            start, end = period_dates(period, self.as_of)
        return DashboardFilters(
            period=period,
            start=start,
            end=end,
            department=data.get("department") if "department" not in self.errors else None,
            journey=data.get("journey") if "journey" not in self.errors else None,
            theme=data.get("theme") if "theme" not in self.errors else None,
        )
