"""The overview: a handful of headline figures for the period, answering "what has Synergy
delivered and what is it worth" at a glance."""

from __future__ import annotations

from reporting.dashboards.charts import Chart, Column, Kind, Section, shown
from reporting.dashboards.selectors.base import (
    Context,
    histogram_percentiles,
    slice_where,
)

SLUG = "overview"
TITLE = "Overview"
INTRO = (
    "Headline figures for the period: what came in, what was delivered, what it is worth, "
    "and how long it took."
)

SQL = """
SELECT json_build_array(
    count(*) FILTER (WHERE {submitted}),
    count(*) FILTER (WHERE {delivered}),
    coalesce(sum(f.estimated_cash_per_year) FILTER (WHERE {delivered}), 0),
    coalesce(sum(f.realised_cash_per_year) FILTER (WHERE {delivered}), 0),
    coalesce(sum(f.realised_hours_per_year) FILTER (WHERE {delivered}), 0),
    percentile_cont(0.5) WITHIN GROUP (ORDER BY f.days_submitted_to_delivered)
        FILTER (WHERE {delivered}),
    count(*) FILTER (WHERE s.is_open)
)::text AS figures
FROM fact_opportunity f JOIN dim_status s ON s.status_key = f.status_key
WHERE {where}
"""

# The same figures from the dashboards' aggregates (reporting.dashboards.aggregates).
AGGREGATED_SQL = """
SELECT json_build_array(
    (SELECT coalesce(sum(a.n), 0) FROM dash.submitted a WHERE {slice} AND {submitted}),
    d.n, d.estimated, d.realised, d.hours,
    {median} -> 1,
    (SELECT coalesce(sum(a.n), 0) FROM dash.open a WHERE {slice})
)::text AS figures
FROM (
    SELECT coalesce(sum(a.n), 0) AS n, coalesce(sum(a.estimated_cash), 0) AS estimated,
           coalesce(sum(a.realised_cash), 0) AS realised,
           coalesce(sum(a.realised_hours), 0) AS hours
    FROM dash.delivered a WHERE {slice} AND {delivered}
) d
"""


def _sql(ctx: Context) -> str:
    filters = ctx.filters
    if ctx.aggregated():
        slice_ = slice_where(filters)
        median = histogram_percentiles(
            f"SELECT a.days, sum(a.n) AS n FROM dash.lags a WHERE {slice_} AND a.measure = 'sd' "
            f"AND {filters.in_period('a.date_key')} GROUP BY a.days",
            (0.5,),
        )
        return AGGREGATED_SQL.format(
            slice=slice_,
            submitted=filters.in_period("a.date_key"),
            delivered=filters.in_period("a.date_key"),
            median=median,
        )
    return SQL.format(
        where=filters.where("f"),
        submitted=filters.in_period("f.submitted_date_key"),
        delivered=filters.in_period("f.delivered_date_key"),
    )


def overview_section(ctx: Context) -> Section:
    data = ctx.row(_sql(ctx), ctx.params)
    submitted, delivered, estimated, realised, hours, median, open_now = data["figures"]
    summary = (
        f"{delivered:,} opportunities were delivered, estimated to save "
        f"{shown(Kind.MONEY, estimated)} a year; benefits recorded for them so far come to "
        f"{shown(Kind.MONEY, realised)} and {shown(Kind.HOURS, hours)} hours a year."
    )
    figures = Chart(
        slug="headlines",
        title="Headline figures",
        summary=summary,
        columns=[
            Column("submitted", "Submitted in the period", Kind.COUNT),
            Column("delivered", "Delivered in the period", Kind.COUNT),
            Column("estimated", "Estimated saving of work delivered (£ a year)", Kind.MONEY),
            Column("realised", "Realised so far by work delivered (£ a year)", Kind.MONEY),
            Column("hours", "Realised so far by work delivered (hours a year)", Kind.HOURS),
            Column("median", "Median days from submission to delivery", Kind.DAYS),
            Column("open", "Open now", Kind.COUNT),
        ],
        rows=[(submitted, delivered, estimated, realised, hours, median, open_now)],
        kind="figures",
        definition=[
            "Submitted: ddi.fact_opportunity rows whose submitted_date_key falls in the period.",
            "Delivered: rows whose delivered_date_key (the first day delivered) falls in the "
            "period; their estimated_cash_per_year (the current score's cost per year) and "
            "realised_cash_per_year / realised_hours_per_year (sums of their ddi.fact_benefit "
            "rows, recorded after delivery) are added up.",
            "Median days: percentile_cont(0.5) of days_submitted_to_delivered of those delivered.",
            "Open now: rows whose current status has dim_status.is_open, whenever submitted.",
        ],
        filters_applied=(f"Submitted or delivered {ctx.describe()}; open now whenever submitted."),
    )
    return Section(slug=SLUG, title=TITLE, intro=INTRO, charts=[figures])
