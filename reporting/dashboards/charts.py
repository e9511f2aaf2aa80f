"""One figure of a dashboard: its numbers once, and every way they are shown.

A :class:`Chart` holds rows of values rounded once, here, to what a person reads (whole
pounds, one decimal for hours, days and percentages, two for a factor). The data table, the
CSV download and the chart's JSON are all read from those rows, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    TEXT = "text"
    COUNT = "count"
    MONEY = "money"
    HOURS = "hours"
    PERCENT = "percent"
    DAYS = "days"
    FACTOR = "factor"
    DATE = "date"
    MONTH = "month"


_QUANTUM = {
    Kind.MONEY: Decimal("1"),
    Kind.HOURS: Decimal("0.1"),
    Kind.PERCENT: Decimal("0.1"),
    Kind.DAYS: Decimal("0.1"),
    Kind.FACTOR: Decimal("0.01"),
}
NO_DATA = "–"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def rounded(kind: Kind, value: Any) -> Any:
    """The value as shown: ints for counts, Decimals at the kind's precision, text as is."""
    if value is None:
        return None
    if kind is Kind.TEXT:
        return str(value)
    if kind is Kind.DATE:
        return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    if kind is Kind.MONTH:
        day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        return day.replace(day=1)
    if kind is Kind.COUNT:
        return int(value)
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    result = number.quantize(_QUANTUM[kind], rounding=ROUND_HALF_UP)
    return result + 0  # -0 → 0


def _grouped(value: Decimal | int) -> str:
    return f"{value:,}"


def display(kind: Kind, value: Any) -> str:
    """The table's text for a rounded value: ``£1,234``, ``45.2%``, ``1,234``."""
    if value is None:
        return NO_DATA
    if kind is Kind.TEXT:
        return str(value)
    if kind is Kind.DATE:
        return f"{value:%-d %b %Y}"
    if kind is Kind.MONTH:
        return f"{value:%b %Y}"
    if kind is Kind.MONEY:
        return f"£{_grouped(value)}"
    if kind is Kind.PERCENT:
        return f"{_grouped(value)}%"
    return _grouped(value)


def shown(kind: Kind, value: Any) -> str:
    """A raw value as the table would show it (for summary sentences)."""
    return display(kind, rounded(kind, value))


def csv_text(kind: Kind, value: Any) -> str:
    """The CSV's text for a rounded value: the same number, without £, % or separators."""
    if value is None:
        return ""
    if kind is Kind.TEXT and str(value)[:1] in _FORMULA_STARTS:
        # A spreadsheet would run text starting like a formula (titles are typed by people).
        return "'" + str(value)
    if kind is Kind.MONTH:
        return f"{value:%Y-%m}"
    return value.isoformat() if isinstance(value, date) else str(value)


def as_number(value: Any) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: Kind = Kind.TEXT

    @property
    def numeric(self) -> bool:
        return self.kind not in (Kind.TEXT, Kind.DATE, Kind.MONTH)


@dataclass(frozen=True)
class Visual:
    """How a chart draws some of its table's columns: categories from ``label``, one series
    per column in ``series`` (all of one kind, so they share an axis)."""

    type: str  # "bar" or "line"
    label: str
    series: tuple[str, ...]
    horizontal: bool = False
    stacked: bool = False


@dataclass(frozen=True)
class Cell:
    text: str
    numeric: bool
    header: str
    link: str | None = None
    css: str = ""


@dataclass
class Chart:
    """A figure: title, one-sentence summary, the numbers, and how they were calculated."""

    slug: str
    title: str
    summary: str
    columns: Sequence[Column]
    rows: list[tuple[Any, ...]]
    definition: Sequence[str]
    filters_applied: str
    visual: Visual | None = None
    kind: str = "chart"  # "chart", "table" (no drawing) or "heatmap" (the table is the drawing)
    notes: Sequence[str] = ()
    links: Sequence[str | None] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rows = [
            tuple(rounded(c.kind, v) for c, v in zip(self.columns, row, strict=True))
            for row in self.rows
        ]

    # --- lookups ---------------------------------------------------------------------------

    def column_index(self, key: str) -> int:
        for index, column in enumerate(self.columns):
            if column.key == key:
                return index
        raise KeyError(key)

    def values(self, key: str) -> list[Any]:
        index = self.column_index(key)
        return [row[index] for row in self.rows]

    def row_for(self, key: str, label: Any) -> dict[str, Any] | None:
        index = self.column_index(key)
        for row in self.rows:
            if row[index] == label:
                return {c.key: v for c, v in zip(self.columns, row, strict=True)}
        return None

    @property
    def dom_id(self) -> str:
        return f"chart-{self.slug}"

    @property
    def long(self) -> bool:
        """Long tables fold away under a details element below their chart."""
        return len(self.rows) > 12

    @property
    def size(self) -> str:
        """The drawing's height class: horizontal bars grow with the bars to show (a row of
        a grouped chart has a bar per series)."""
        if self.visual is None or not self.visual.horizontal:
            return "m"
        per_row = 1 if self.visual.stacked else len(self.visual.series)
        bars = len(self.rows) * per_row
        # Labels may wrap to two lines, so a bar needs room for them.
        for size, most in (("s", 2), ("m", 5), ("l", 9), ("xl", 14)):
            if bars <= most:
                return size
        return "xxl"

    # --- the three ways of showing the numbers ---------------------------------------------

    @property
    def table_rows(self) -> list[list[Cell]]:
        rows = []
        for index, row in enumerate(self.rows):
            link = self.links[index] if index < len(self.links) else None
            rows.append(
                [
                    Cell(
                        text=display(column.kind, value),
                        numeric=column.numeric,
                        header=column.label,
                        link=link if position == 0 else None,
                    )
                    for position, (column, value) in enumerate(zip(self.columns, row, strict=True))
                ]
            )
        return rows

    def csv_rows(self) -> Iterable[list[str]]:
        yield [column.label for column in self.columns]
        for row in self.rows:
            yield [csv_text(c.kind, v) for c, v in zip(self.columns, row, strict=True)]

    def chart_spec(self) -> dict[str, Any] | None:
        """What static/js/dashboards.js draws (via json_script): the table's own numbers."""
        if self.visual is None:
            return None
        label = self.columns[self.column_index(self.visual.label)]
        series = [self.columns[self.column_index(key)] for key in self.visual.series]
        kinds = {column.kind for column in series}
        if len(kinds) != 1:
            raise ValueError(f"{self.slug}: a chart's series must share one kind, got {kinds}")
        return {
            "type": self.visual.type,
            "horizontal": self.visual.horizontal,
            "stacked": self.visual.stacked,
            "format": series[0].kind.value,
            "labels": [display(label.kind, v) for v in self.values(self.visual.label)],
            "series": [
                {"label": column.label, "data": [as_number(v) for v in self.values(column.key)]}
                for column in series
            ],
        }


@dataclass
class Section:
    """A dashboard section: its charts in order, and headline figures shown above them."""

    slug: str
    title: str
    charts: list[Chart]
    intro: str = ""

    def chart(self, slug: str) -> Chart | None:
        return next((chart for chart in self.charts if chart.slug == slug), None)


def share(part: Any, whole: Any) -> Decimal | None:
    """``part`` as a percentage of ``whole`` (None when there is no whole)."""
    if not whole:
        return None
    return Decimal(part or 0) * 100 / Decimal(whole)


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"
