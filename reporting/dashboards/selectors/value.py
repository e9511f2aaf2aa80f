"""Value: what delivered work was expected to save and what it did save, the running total of
realised benefit, and how far estimates can be trusted (the calibration factors)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from reporting.dashboards.charts import (
    Chart,
    Column,
    Kind,
    Section,
    Visual,
    plural,
    shown,
)
from reporting.dashboards.selectors.base import Context, key_to_date, slice_where
from reporting.dashboards.selectors.people import person_names

SLUG = "value"
TITLE = "Value"
INTRO = (
    "What the delivered work is worth: the yearly hours and pounds its scores estimated, the "
    "benefits actually recorded after delivery, and how estimates compare with results."
)
MIN_RELIABLE = 5
NO_JOURNEY = "No journey given"


def assessors_sql(opportunities: str) -> str:
    """Who completed the assessment of each of ``opportunities`` (a relation with
    opportunity_id): the actor of its first move into the backlog (which needs a score)."""
    return f"""SELECT DISTINCT ON (c.opportunity_id) c.opportunity_id, c.actor_person_key
    FROM {opportunities} k
    JOIN fact_status_change c ON c.opportunity_id = k.opportunity_id
    JOIN dim_status s ON s.status_key = c.to_status_key AND s.status_code = 'backlog'
    ORDER BY c.opportunity_id, c.changed_at, c.status_change_id"""


# Cumulative benefit by month (both statements), from `months` and `benefits`.
_CUMULATIVE = """    (SELECT json_agg(json_build_array(month, n, cash, total_cash, total_hours) ORDER BY month)
     FROM (
        SELECT m.month, coalesce(b.n, 0) AS n, coalesce(b.cash, 0) AS cash,
               sum(coalesce(b.cash, 0)) OVER w AS total_cash,
               sum(coalesce(b.hours, 0)) OVER w AS total_hours
        FROM months m LEFT JOIN benefits b ON b.month = m.month
        WINDOW w AS (ORDER BY m.month)
     ) t)::text AS cumulative,"""


SQL = """
WITH f AS MATERIALIZED (
    SELECT f.opportunity_id, f.journey_key, f.delivered_date_key, f.hours_per_year,
           f.estimated_cash_per_year, f.realised_cash_per_year, f.realised_hours_per_year
    FROM fact_opportunity f
    WHERE {where_delivered}
), calibrated AS (
    SELECT * FROM f
    WHERE f.realised_cash_per_year IS NOT NULL AND f.estimated_cash_per_year > 0
), assessors AS (
    -- Who completed the assessment: the first move into the backlog (which needs a score).
    {assessors}
), months AS (
    SELECT g::date AS month
    FROM generate_series(
        date_trunc('month', coalesce(%(start)s::date, (
            SELECT min(d.date) FROM fact_benefit b JOIN dim_date d
            ON d.date_key = b.realised_date_key), %(as_of)s::date)),
        date_trunc('month', coalesce(%(end)s::date, %(as_of)s::date)),
        interval '1 month') AS g
), benefits AS (
    SELECT date_trunc('month', d.date)::date AS month, count(*) AS n,
           sum(b.cash_per_year) AS cash, sum(b.hours_per_year) AS hours
    FROM fact_benefit b
    JOIN fact_opportunity f ON f.opportunity_id = b.opportunity_id
    JOIN dim_date d ON d.date_key = b.realised_date_key
    WHERE {where_any} AND {benefit_in_period}
    GROUP BY 1
)
SELECT
    (SELECT json_agg(json_build_array(label, n, recorded, est_hours, real_hours, est_cash,
                                      real_cash) ORDER BY fy, fq)
     FROM (
        SELECT d.fiscal_year AS fy, d.fiscal_quarter AS fq,
               d.fiscal_year || ' Q' || d.fiscal_quarter AS label,
               count(*) AS n, count(f.realised_cash_per_year) AS recorded,
               coalesce(sum(f.hours_per_year), 0) AS est_hours,
               coalesce(sum(f.realised_hours_per_year), 0) AS real_hours,
               coalesce(sum(f.estimated_cash_per_year), 0) AS est_cash,
               coalesce(sum(f.realised_cash_per_year), 0) AS real_cash
        FROM f JOIN dim_date d ON d.date_key = f.delivered_date_key
        GROUP BY d.fiscal_year, d.fiscal_quarter
     ) q)::text AS by_quarter,
{cumulative}
    (SELECT json_agg(json_build_array(name, n, est, real) ORDER BY real / est DESC, name)
     FROM (
        SELECT coalesce(j.name, '') AS name, count(*) AS n,
               sum(k.estimated_cash_per_year) AS est, sum(k.realised_cash_per_year) AS real
        FROM calibrated k LEFT JOIN dim_journey j ON j.journey_key = k.journey_key
        GROUP BY 1
     ) t)::text AS by_journey,
    (SELECT json_agg(json_build_array(name, n, est, real) ORDER BY position)
     FROM (
        SELECT t.name, t.position, count(*) AS n,
               sum(k.estimated_cash_per_year) AS est, sum(k.realised_cash_per_year) AS real
        FROM calibrated k
        JOIN bridge_opportunity_dna_theme b ON b.opportunity_id = k.opportunity_id
        JOIN dim_dna_theme t ON t.dna_theme_key = b.dna_theme_key
        GROUP BY t.name, t.position
     ) t)::text AS by_theme,
    (SELECT json_agg(json_build_array(person, n, est, real))
     FROM (
        SELECT a.actor_person_key AS person, count(*) AS n,
               sum(k.estimated_cash_per_year) AS est, sum(k.realised_cash_per_year) AS real
        FROM calibrated k LEFT JOIN assessors a ON a.opportunity_id = k.opportunity_id
        GROUP BY 1
     ) t)::text AS by_assessor,
    (SELECT json_build_array(count(*), sum(estimated_cash_per_year),
                             sum(realised_cash_per_year))
     FROM calibrated)::text AS overall
"""

# The same figures from the dashboards' aggregates (reporting.dashboards.aggregates).
AGGREGATED_SQL = """
WITH months AS (
    SELECT g::date AS month
    FROM generate_series(
        date_trunc('month', coalesce(%(start)s::date, (
            SELECT {first_benefit} FROM dash.built), %(as_of)s::date)),
        date_trunc('month', coalesce(%(end)s::date, %(as_of)s::date)),
        interval '1 month') AS g
), benefits AS (
    SELECT date_trunc('month', d.date)::date AS month, sum(a.n) AS n,
           sum(a.cash) AS cash, sum(a.hours) AS hours
    FROM dash.benefits a
    JOIN dim_date d ON d.date_key = a.date_key
    WHERE {slice} AND {in_period}
    GROUP BY 1
), calibrated AS (
    SELECT * FROM dash.calibrated a WHERE {slice} AND {in_period} AND a.row_theme_key = 0
)
SELECT
    (SELECT json_agg(json_build_array(label, n, recorded, est_hours, real_hours, est_cash,
                                      real_cash) ORDER BY fy, fq)
     FROM (
        SELECT d.fiscal_year AS fy, d.fiscal_quarter AS fq,
               d.fiscal_year || ' Q' || d.fiscal_quarter AS label,
               sum(a.n) AS n, sum(a.recorded) AS recorded,
               coalesce(sum(a.estimated_hours), 0) AS est_hours,
               coalesce(sum(a.realised_hours), 0) AS real_hours,
               coalesce(sum(a.estimated_cash), 0) AS est_cash,
               coalesce(sum(a.realised_cash), 0) AS real_cash
        FROM dash.delivered a JOIN dim_date d ON d.date_key = a.date_key
        WHERE {slice} AND {in_period}
        GROUP BY d.fiscal_year, d.fiscal_quarter
     ) q)::text AS by_quarter,
{cumulative}
    (SELECT json_agg(json_build_array(name, n, est, real) ORDER BY real / est DESC, name)
     FROM (
        SELECT coalesce(j.name, '') AS name, sum(a.n) AS n,
               sum(a.estimated_cash) AS est, sum(a.realised_cash) AS real
        FROM dash.calibrated a LEFT JOIN dim_journey j ON j.journey_key = a.journey_key
        WHERE {by_journey} AND {in_period} AND a.row_theme_key = 0
        GROUP BY 1
     ) t)::text AS by_journey,
    (SELECT json_agg(json_build_array(name, n, est, real) ORDER BY position)
     FROM (
        SELECT t.name, t.position, sum(a.n) AS n,
               sum(a.estimated_cash) AS est, sum(a.realised_cash) AS real
        FROM dash.calibrated a
        JOIN dim_dna_theme t ON t.dna_theme_key = a.row_theme_key
        WHERE {slice} AND {in_period}
        GROUP BY t.name, t.position
     ) t)::text AS by_theme,
    (SELECT json_agg(json_build_array(person, n, est, real))
     FROM (
        SELECT a.assessor_person_key AS person, sum(a.n) AS n,
               sum(a.estimated_cash) AS est, sum(a.realised_cash) AS real
        FROM calibrated a
        GROUP BY 1
     ) t)::text AS by_assessor,
    (SELECT json_build_array(coalesce(sum(n), 0), sum(estimated_cash), sum(realised_cash))
     FROM calibrated)::text AS overall
"""

_DELIVERED = (
    "Delivered: ddi.fact_opportunity rows whose delivered_date_key (the first day delivered) "
    "falls in the period."
)
_CALIBRATED = (
    "Calibration: delivered opportunities with both an estimate (estimated_cash_per_year "
    "above £0, the current score's cost per year) and a realised benefit "
    "(realised_cash_per_year, the sum of their ddi.fact_benefit rows). Factor = total "
    "realised £ a year ÷ total estimated £ a year, so larger items weigh more."
)
_NOT_APPLIED = (
    "These factors are shown beside the scores for reading them; they are never applied to "
    "any score. A factor of 0.80 means delivered work realised 80% of its estimate, so a new "
    "estimate of £10,000 a year might be read as about £8,000."
)


def value_section(ctx: Context) -> Section:
    where_any = ctx.filters.where("f")
    data = ctx.row(
        AGGREGATED_SQL.format(
            cumulative=_CUMULATIVE,
            slice=slice_where(ctx.filters),
            by_journey=slice_where(ctx.filters, by=("journey",)),
            in_period=ctx.filters.in_period("a.date_key"),
            first_benefit=key_to_date("first_benefit_date_key"),
        )
        if ctx.aggregated()
        else SQL.format(
            cumulative=_CUMULATIVE,
            assessors=assessors_sql("calibrated"),
            where_delivered=ctx.filters.where("f", period_column="delivered_date_key")
            + " AND f.delivered_date_key IS NOT NULL",
            where_any=where_any,
            benefit_in_period=ctx.filters.in_period("b.realised_date_key"),
        ),
        ctx.params,
    )
    delivered = f"Delivered {ctx.describe()}."
    overall = data["overall"] or [0, None, None]
    return Section(
        slug=SLUG,
        title=TITLE,
        intro=INTRO,
        charts=[
            _by_quarter(data["by_quarter"], delivered),
            _cumulative(data["cumulative"], ctx),
            _calibration(
                "accuracy-journey",
                "Estimate accuracy by journey",
                "Journey",
                [(name or NO_JOURNEY, *rest) for name, *rest in data["by_journey"]],
                overall,
                delivered,
                "Journey: fact_opportunity.journey_key (ddi.dim_journey.name).",
            ),
            _calibration(
                "accuracy-theme",
                "Estimate accuracy by DNA theme",
                "DNA theme",
                data["by_theme"],
                overall,
                delivered,
                "DNA theme: ddi.bridge_opportunity_dna_theme; an opportunity touching two "
                "themes counts in both.",
            ),
            _calibration(
                "accuracy-assessor",
                "Estimate accuracy by assessor",
                "Assessor",
                _assessor_rows(data["by_assessor"]),
                overall,
                delivered,
                "Assessor: the person (actor_person_key) of the opportunity's first "
                "ddi.fact_status_change into the backlog, which needs a score: who completed "
                "the assessment. Named when they are in the CI team or an administrator.",
            ),
        ],
    )


def _by_quarter(rows: list[list], applied: str) -> Chart:
    n = sum(r[1] for r in rows)
    recorded = sum(r[2] for r in rows)
    est_cash = sum((Decimal(r[5]) for r in rows), Decimal(0))
    real_cash = sum((Decimal(r[6]) for r in rows), Decimal(0))
    summary = (
        f"{plural(n, 'opportunity was', 'opportunities were')} delivered, estimated to save "
        f"{shown(Kind.MONEY, est_cash)} a year; {recorded:,} have recorded benefits so far, "
        f"realising {shown(Kind.MONEY, real_cash)} a year."
        if n
        else "No opportunities were delivered in the period."
    )
    return Chart(
        slug="estimated-realised",
        title="Estimated and realised benefit of delivered work, by quarter delivered",
        summary=summary,
        columns=[
            Column("quarter", "Financial quarter delivered"),
            Column("delivered", "Delivered", Kind.COUNT),
            Column("recorded", "With benefits recorded", Kind.COUNT),
            Column("est_hours", "Estimated hours a year", Kind.HOURS),
            Column("real_hours", "Realised hours a year", Kind.HOURS),
            Column("est_cash", "Estimated £ a year", Kind.MONEY),
            Column("real_cash", "Realised £ a year", Kind.MONEY),
        ],
        rows=[tuple(r) for r in rows],
        visual=Visual("bar", "quarter", ("est_cash", "real_cash")),
        definition=[
            _DELIVERED,
            "Quarter: the UK financial quarter of delivered_date_key (ddi.dim_date.fiscal_year "
            "and fiscal_quarter; Q1 is April to June).",
            "Estimated: the current score's hours_per_year and estimated_cash_per_year. "
            "Realised: realised_hours_per_year and realised_cash_per_year, the sums of the "
            "opportunity's ddi.fact_benefit rows (empty until a benefit is recorded, so recent "
            "quarters realise less).",
        ],
        filters_applied=applied,
    )


def _cumulative(rows: list[list], ctx: Context) -> Chart:
    out = [tuple(r) for r in rows]
    records = sum(r[1] for r in out)
    total = out[-1][3] if out else 0
    hours = out[-1][4] if out else 0
    summary = (
        f"{plural(records, 'benefit was', 'benefits were')} realised in the period, adding up "
        f"to {shown(Kind.MONEY, total)} and {shown(Kind.HOURS, hours)} hours a year."
        if records
        else "No benefits were realised in the period."
    )
    return Chart(
        slug="cumulative-benefit",
        title="Realised benefit over time (running total)",
        summary=summary,
        columns=[
            Column("month", "Month", Kind.MONTH),
            Column("records", "Benefits realised", Kind.COUNT),
            Column("cash", "Realised in the month (£ a year)", Kind.MONEY),
            Column("total_cash", "Running total (£ a year)", Kind.MONEY),
            Column("total_hours", "Running total (hours a year)", Kind.HOURS),
        ],
        rows=out,
        visual=Visual("line", "month", ("total_cash",)),
        definition=[
            "Benefits: ddi.fact_benefit rows whose realised_date_key falls in the period, of "
            "opportunities matching the filters (department, journey and DNA theme of the "
            "opportunity in ddi.fact_opportunity).",
            "Running total: the sum of cash_per_year (and hours_per_year) of every benefit "
            "realised from the start of the period to the end of the month; each benefit "
            "is a yearly saving, so the total is what the work saves a year by then.",
        ],
        filters_applied=f"Benefits realised {ctx.describe()}.",
    )


def _assessor_rows(rows: list[list]) -> list[tuple[Any, ...]]:
    names = person_names([person for person, *_ in rows if person])
    out: dict[str, list[Any]] = {}
    for person, n, est, real in rows:
        label = names.get(person, "Another person") if person else "Not recorded"
        entry = out.setdefault(label, [0, Decimal(0), Decimal(0)])
        entry[0] += n
        entry[1] += Decimal(est)
        entry[2] += Decimal(real)
    return sorted(((k, *v) for k, v in out.items()), key=lambda r: (-r[1], r[0]))


def _calibration(
    slug: str,
    title: str,
    label: str,
    rows: list[Any],
    overall: list[Any],
    applied: str,
    grouping: str,
) -> Chart:
    out = []
    for name, n, est, real in rows:
        factor = Decimal(real) / Decimal(est) if est else None
        reliable = "Yes" if n >= MIN_RELIABLE else f"Indicative only (fewer than {MIN_RELIABLE})"
        out.append((name, n, est, real, factor, reliable))
    count, est_all, real_all = overall
    factor_all = Decimal(real_all) / Decimal(est_all) if est_all else None
    summary = (
        f"Across {plural(count, 'delivered opportunity', 'delivered opportunities')} with both "
        f"an estimate and a realised benefit, realised benefit was "
        f"{shown(Kind.FACTOR, factor_all)} times the estimate (calibration factor)."
        if count
        else "No delivered opportunities in the period have both an estimate and a realised "
        "benefit yet."
    )
    return Chart(
        slug=slug,
        title=title,
        summary=summary,
        columns=[
            Column("group", label),
            Column("n", "Opportunities", Kind.COUNT),
            Column("est", "Estimated £ a year", Kind.MONEY),
            Column("real", "Realised £ a year", Kind.MONEY),
            Column("factor", "Calibration factor (realised ÷ estimated)", Kind.FACTOR),
            Column("reliable", f"At least {MIN_RELIABLE} opportunities"),
        ],
        rows=out,
        visual=Visual("bar", "group", ("factor",), horizontal=True),
        definition=[_DELIVERED, _CALIBRATED, grouping],
        notes=[_NOT_APPLIED],
        filters_applied=applied,
    )
