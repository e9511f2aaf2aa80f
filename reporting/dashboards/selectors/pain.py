"""Where the pain is: open impact by journey step, application and department, and which DNA
themes the work touches."""

from __future__ import annotations

import bisect
import math
from decimal import Decimal
from typing import Any

from reporting.dashboards.charts import (
    Chart,
    Column,
    Kind,
    Section,
    Visual,
    display,
    plural,
    rounded,
    shown,
)
from reporting.dashboards.selectors.base import Context, slice_where

SLUG = "pain"
TITLE = "Where the pain is"
INTRO = (
    "Where open opportunities say the way we work hurts most: by journey step, by application "
    "(technical debt), by department, and by Synergy DNA theme."
)
TOP_APPLICATIONS = 10
HEAT_BUCKETS = 5
NO_STEP = "No step given"
NO_DEPARTMENT = "No department given"

# The heat map's rows (both statements): journeys × their steps (and a no-step column), with
# the open cells of `cells`.
_HEAT = """    (SELECT json_agg(json_build_array(j.name, st.position, coalesce(st.name, ''),
                                      coalesce(c.n, 0), coalesce(c.impact, 0),
                                      coalesce(c.scored, 0))
                     ORDER BY j.name, j.journey_key, st.position NULLS LAST)
     FROM journeys j
     JOIN LATERAL (
         SELECT s.step_key, s.position, s.name FROM dim_journey_step s
         WHERE s.journey_key = j.journey_key
           AND (NOT s.is_retired OR EXISTS (
                SELECT 1 FROM cells c WHERE c.step_key = s.step_key))
         UNION ALL SELECT NULL, NULL, NULL
     ) st ON TRUE
     LEFT JOIN cells c ON c.journey_key = j.journey_key
          AND c.step_key IS NOT DISTINCT FROM st.step_key
     WHERE st.step_key IS NOT NULL OR c.n > 0)::text AS heat,"""


SQL = """
WITH f AS MATERIALIZED (
    SELECT f.opportunity_id, f.journey_key, f.step_key, f.department_key, f.impact,
           f.submitted_date_key, f.delivered_date_key, s.is_open
    FROM fact_opportunity f JOIN dim_status s ON s.status_key = f.status_key
    WHERE {where}
), open_f AS (
    SELECT * FROM f WHERE is_open
), journeys AS (
    SELECT j.journey_key, j.name FROM dim_journey j
    WHERE (j.is_active OR EXISTS (SELECT 1 FROM open_f o WHERE o.journey_key = j.journey_key))
      AND {journey_filter}
), cells AS (
    SELECT o.journey_key, o.step_key, count(*) AS n, sum(o.impact) AS impact,
           count(o.impact) AS scored
    FROM open_f o WHERE o.journey_key IS NOT NULL GROUP BY 1, 2
)
SELECT
{heat}
    (SELECT json_agg(json_build_array(name, debt, lifecycle, n, impact)
                     ORDER BY impact DESC, name)
     FROM (
        SELECT coalesce(cur.name, v.name) AS name,
               coalesce(cur.debt_rating, v.debt_rating) AS debt,
               coalesce(cur.lifecycle, 'deleted') AS lifecycle,
               count(*) AS n, coalesce(sum(o.impact * b.weight), 0) AS impact
        FROM open_f o
        JOIN bridge_opportunity_application b ON b.opportunity_id = o.opportunity_id
        JOIN dim_application v ON v.application_key = b.application_key
        LEFT JOIN dim_application cur
          ON cur.application_id = b.application_id AND cur.is_current
        GROUP BY b.application_id, 1, 2, 3
        ORDER BY impact DESC, name
        LIMIT %(top_applications)s
     ) a)::text AS applications,
    (SELECT json_agg(json_build_array(name, submitted, open, impact)
                     ORDER BY submitted DESC, name)
     FROM (
        SELECT coalesce(d.name, '') AS name,
               count(*) FILTER (WHERE {submitted_in_period}) AS submitted,
               count(*) FILTER (WHERE f.is_open) AS open,
               coalesce(sum(f.impact) FILTER (WHERE f.is_open), 0) AS impact
        FROM f LEFT JOIN dim_department d ON d.department_key = f.department_key
        GROUP BY f.department_key, d.name
     ) t WHERE submitted > 0 OR open > 0)::text AS departments,
    (SELECT json_agg(json_build_array(t.name, coalesce(x.submitted, 0), coalesce(x.delivered, 0),
                                      coalesce(x.open, 0), coalesce(x.impact, 0))
                     ORDER BY t.position)
     FROM dim_dna_theme t
     LEFT JOIN (
        SELECT b.dna_theme_key,
               count(*) FILTER (WHERE {submitted_in_period}) AS submitted,
               count(*) FILTER (WHERE {delivered_in_period}) AS delivered,
               count(*) FILTER (WHERE f.is_open) AS open,
               sum(f.impact) FILTER (WHERE f.is_open) AS impact
        FROM f JOIN bridge_opportunity_dna_theme b ON b.opportunity_id = f.opportunity_id
        GROUP BY b.dna_theme_key
     ) x ON x.dna_theme_key = t.dna_theme_key
     WHERE {theme_filter})::text AS themes
"""

# The same figures from the dashboards' aggregates (reporting.dashboards.aggregates).
AGGREGATED_SQL = """
WITH cells AS (
    SELECT a.journey_key, a.step_key, sum(a.n) AS n, sum(a.impact) AS impact,
           sum(a.scored) AS scored
    FROM dash.open a WHERE {by_journey} AND a.journey_key IS NOT NULL GROUP BY 1, 2
), journeys AS (
    SELECT j.journey_key, j.name FROM dim_journey j
    WHERE (j.is_active OR EXISTS (SELECT 1 FROM cells o WHERE o.journey_key = j.journey_key))
      AND {journey_filter}
), by_department AS (
    SELECT department_key, sum(submitted) AS submitted, sum(open) AS open,
           sum(impact) AS impact
    FROM (
        SELECT a.department_key, a.n AS submitted, 0 AS open, NULL::float8 AS impact
        FROM dash.submitted a WHERE {by_department} AND {submitted_in_period}
        UNION ALL
        SELECT a.department_key, 0, a.n, a.impact FROM dash.open a WHERE {by_department}
    ) x
    GROUP BY department_key
), by_theme AS (
    SELECT theme_key, sum(submitted) AS submitted, sum(delivered) AS delivered,
           sum(open) AS open, sum(impact) AS impact
    FROM (
        SELECT a.theme_key, a.n AS submitted, 0 AS delivered, 0 AS open, NULL::float8 AS impact
        FROM dash.submitted a WHERE {by_theme} AND {submitted_in_period}
        UNION ALL
        SELECT a.theme_key, 0, a.n, 0, NULL FROM dash.delivered a
        WHERE {by_theme} AND {delivered_in_period}
        UNION ALL
        SELECT a.theme_key, 0, 0, a.n, a.impact FROM dash.open a WHERE {by_theme}
    ) x
    GROUP BY theme_key
)
SELECT
{heat}
    (SELECT json_agg(json_build_array(name, debt, lifecycle, n, impact)
                     ORDER BY impact DESC, name)
     FROM (
        SELECT a.name, a.debt, a.lifecycle, a.n, a.impact FROM dash.applications a
        WHERE {slice}
        ORDER BY a.impact DESC, a.name
        LIMIT %(top_applications)s
     ) a)::text AS applications,
    (SELECT json_agg(json_build_array(name, submitted, open, impact)
                     ORDER BY submitted DESC, name)
     FROM (
        SELECT coalesce(d.name, '') AS name, t.submitted, t.open,
               coalesce(t.impact, 0) AS impact
        FROM by_department t LEFT JOIN dim_department d ON d.department_key = t.department_key
     ) t WHERE submitted > 0 OR open > 0)::text AS departments,
    (SELECT json_agg(json_build_array(t.name, coalesce(x.submitted, 0), coalesce(x.delivered, 0),
                                      coalesce(x.open, 0), coalesce(x.impact, 0))
                     ORDER BY t.position)
     FROM dim_dna_theme t
     LEFT JOIN by_theme x ON x.theme_key = t.dna_theme_key
     WHERE {theme_filter})::text AS themes
"""

_OPEN = (
    "Open: ddi.fact_opportunity rows whose current status has dim_status.is_open (submitted "
    "to in delivery), whenever they were submitted."
)
_IMPACT = (
    "Open impact: the sum of fact_opportunity.impact (the current score's yearly impact in £: "
    "cost of the hours lost, weighted for risk, severity, DNA themes and support) of those "
    "open opportunities; unscored ones add nothing."
)


def pain_section(ctx: Context) -> Section:
    filters = ctx.filters
    data = ctx.row(
        AGGREGATED_SQL.format(
            heat=_HEAT,
            slice=slice_where(filters),
            by_journey=slice_where(filters, by=("journey",)),
            by_department=slice_where(filters, by=("department",)),
            by_theme=slice_where(filters, by=("theme",)),
            journey_filter="j.journey_key = %(journey)s" if filters.journey is not None else "TRUE",
            theme_filter="t.dna_theme_key = %(theme)s" if filters.theme is not None else "TRUE",
            submitted_in_period=filters.in_period("a.date_key"),
            delivered_in_period=filters.in_period("a.date_key"),
        )
        if ctx.aggregated()
        else SQL.format(
            heat=_HEAT,
            where=filters.where("f"),
            journey_filter="j.journey_key = %(journey)s" if filters.journey is not None else "TRUE",
            theme_filter="t.dna_theme_key = %(theme)s" if filters.theme is not None else "TRUE",
            submitted_in_period=filters.in_period("f.submitted_date_key"),
            delivered_in_period=filters.in_period("f.delivered_date_key"),
        ),
        {**ctx.params, "top_applications": TOP_APPLICATIONS},
    )
    now = f"Open now (on {ctx.batch.as_of:%-d %b %Y}), {ctx.describe(period=False)}; the period does not apply."
    both = (
        f"Submitted or delivered {ctx.describe()}; open now (on {ctx.batch.as_of:%-d %b %Y}) "
        "whenever submitted."
    )
    departments = data["departments"]
    return Section(
        slug=SLUG,
        title=TITLE,
        intro=INTRO,
        charts=[
            _heatmap(data["heat"], now),
            _applications(data["applications"], now),
            _departments_by_submissions(departments, both),
            _departments_by_impact(departments, both),
            _themes(data["themes"], both),
        ],
    )


def heat_bands(values: list[Any]) -> dict[Any, int]:
    """{impact: band}: 0 for none, else 1–5 by rank among the cells with open impact, in
    fifths (5: the top fifth). Ranks, not shares of the largest, so one huge cell does not
    flatten every other into the lowest band; equal values share a band."""
    ranked = sorted(v for v in values if v)
    bands: dict[Any, int] = {0: 0, None: 0}
    for value in ranked:
        position = bisect.bisect_right(ranked, value)
        bands[value] = max(1, math.ceil(HEAT_BUCKETS * position / len(ranked)))
    return bands


def heat_grid(rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    """The heat-map table: a row per journey, its steps in order, padded to the longest
    journey, then a last column for opportunities naming the journey but no step."""
    bands = heat_bands([row[4] for row in rows])
    steps: dict[str, list[dict[str, Any] | None]] = {}
    no_step: dict[str, dict[str, Any]] = {}
    for journey, position, step, n, impact in rows:
        cell = {
            "step": step,
            "open": n,
            "impact": impact,
            "impact_text": display(Kind.MONEY, impact),
            "open_text": display(Kind.COUNT, n),
            "bucket": bands[impact],
        }
        steps.setdefault(journey, [])
        if position is None:
            no_step[journey] = cell
        else:
            steps[journey].append(cell)
    width = max((len(cells) for cells in steps.values()), default=0)
    columns = [f"Step {n}" for n in range(1, width + 1)]
    if no_step:
        columns.append(NO_STEP)
    journeys = []
    for journey, cells in steps.items():
        padded = cells + [None] * (width - len(cells))
        if no_step:
            padded.append(no_step.get(journey))
        journeys.append({"name": journey, "cells": padded})
    return {"journeys": journeys, "columns": columns, "buckets": range(HEAT_BUCKETS + 1)}


def _heatmap(rows: list[list], applied: str) -> Chart:
    out = [
        (journey, position, step or NO_STEP, n, impact)
        for journey, position, step, n, impact, _ in rows
    ]
    chart = Chart(
        slug="journey-steps",
        title="Open impact by journey and step",
        summary="",
        columns=[
            Column("journey", "Journey"),
            Column("position", "Step number", Kind.COUNT),
            Column("step", "Step"),
            Column("open", "Open opportunities", Kind.COUNT),
            Column("impact", "Open impact (£ a year)", Kind.MONEY),
        ],
        rows=out,
        kind="heatmap",
        definition=[
            _OPEN,
            "Journey and step: fact_opportunity.journey_key and step_key (ddi.dim_journey, "
            "ddi.dim_journey_step, in step order). Every current step of each active journey "
            "is shown, with a last column for opportunities that name the journey but no step.",
            _IMPACT,
            f"Heat band: 0 for no open impact; otherwise the cell's rank among the cells with "
            f"open impact, in fifths (1: the lowest fifth … {HEAT_BUCKETS}: the highest). "
            "The band is written in each cell and shown by the length of its bar as well as "
            "its colour; the figures are the source.",
        ],
        filters_applied=applied,
    )
    chart.extra = heat_grid(chart.rows)
    hottest = max(chart.rows, key=lambda r: r[4], default=None)
    total = sum(r[3] for r in chart.rows)
    chart.summary = (
        f"{plural(total, 'open opportunity names', 'open opportunities name')} a journey; the "
        f"step with the most open impact is “{hottest[2]}” in {hottest[0]} "
        f"({shown(Kind.MONEY, hottest[4])} a year from {plural(hottest[3], 'opportunity', 'opportunities')})."
        if hottest and hottest[4]
        else f"{plural(total, 'open opportunity names', 'open opportunities name')} a journey; "
        "none of them has a score yet."
    )
    return chart


def _applications(rows: list[list], applied: str) -> Chart:
    summary = (
        f"{rows[0][0]} carries the most open impact: {shown(Kind.MONEY, rows[0][4])} a year "
        f"across {plural(rows[0][3], 'open opportunity', 'open opportunities')} "
        f"(technical-debt rating {rows[0][1]} of 5)."
        if rows
        else "No open opportunities name an application."
    )
    return Chart(
        slug="applications",
        title=f"Top {TOP_APPLICATIONS} applications by open impact",
        summary=summary,
        columns=[
            Column("application", "Application"),
            Column("debt", "Technical-debt rating (1–5)", Kind.COUNT),
            Column("lifecycle", "Lifecycle"),
            Column("open", "Open opportunities", Kind.COUNT),
            Column("impact", "Open impact (£ a year)", Kind.MONEY),
        ],
        rows=[
            (name, debt, lifecycle.replace("_", " "), n, impact)
            for name, debt, lifecycle, n, impact in rows
        ],
        visual=Visual("bar", "application", ("impact",), horizontal=True),
        definition=[
            _OPEN,
            "Applications: ddi.bridge_opportunity_application, with the application's current "
            "version in ddi.dim_application (name, debt_rating, lifecycle); “deleted” when it "
            "has left the register.",
            _IMPACT + " An opportunity naming several applications shares its impact between them "
            "equally (the bridge's weight), so nothing is counted twice.",
        ],
        filters_applied=applied,
    )


def _department_rows(rows: list[list]) -> list[tuple[Any, ...]]:
    return [(name or NO_DEPARTMENT, submitted, n, impact) for name, submitted, n, impact in rows]


_DEPARTMENT_COLUMNS = [
    Column("department", "Department"),
    Column("submitted", "Submitted in the period", Kind.COUNT),
    Column("open", "Open now", Kind.COUNT),
    Column("impact", "Open impact (£ a year)", Kind.MONEY),
]
_DEPARTMENT_DEFINITION = [
    "Department: fact_opportunity.department_key (ddi.dim_department), the department the "
    "opportunity is about.",
    "Submitted in the period: rows whose submitted_date_key falls in the period.",
    _OPEN,
    _IMPACT,
]


def _departments_by_submissions(rows: list[list], applied: str) -> Chart:
    out = _department_rows(rows)
    summary = (
        f"{out[0][0]} raised the most opportunities in the period ({out[0][1]:,})."
        if out and out[0][1]
        else "No opportunities were submitted in the period."
    )
    return Chart(
        slug="departments-submissions",
        title="Departments by submissions",
        summary=summary,
        columns=_DEPARTMENT_COLUMNS,
        rows=out,
        visual=Visual("bar", "department", ("submitted",), horizontal=True),
        definition=_DEPARTMENT_DEFINITION,
        filters_applied=applied,
    )


def _departments_by_impact(rows: list[list], applied: str) -> Chart:
    out = sorted(_department_rows(rows), key=lambda r: (-Decimal(r[3]), r[0]))
    top = out[0] if out else None
    summary = (
        f"{top[0]} has the most open impact: {shown(Kind.MONEY, top[3])} a year across "
        f"{plural(top[2], 'open opportunity', 'open opportunities')}."
        if top and rounded(Kind.MONEY, top[3])
        else "No open opportunities have a score yet."
    )
    return Chart(
        slug="departments-impact",
        title="Departments by open impact",
        summary=summary,
        columns=_DEPARTMENT_COLUMNS,
        rows=out,
        visual=Visual("bar", "department", ("impact",), horizontal=True),
        definition=_DEPARTMENT_DEFINITION,
        filters_applied=applied,
    )


def _themes(rows: list[list], applied: str) -> Chart:
    covered = sum(1 for _, _, delivered, _, _ in rows if delivered)
    summary = (
        f"Work delivered in the period touches {covered} of the {len(rows)} Synergy DNA "
        f"themes; “{max(rows, key=lambda r: r[1])[0]}” has the most submissions."
        if rows
        else "No Synergy DNA themes are defined."
    )
    return Chart(
        slug="dna-themes",
        title="Synergy DNA themes covered",
        summary=summary,
        columns=[
            Column("theme", "DNA theme"),
            Column("submitted", "Submitted in the period", Kind.COUNT),
            Column("delivered", "Delivered in the period", Kind.COUNT),
            Column("open", "Open now", Kind.COUNT),
            Column("impact", "Open impact (£ a year)", Kind.MONEY),
        ],
        rows=[tuple(r) for r in rows],
        visual=Visual("bar", "theme", ("submitted", "delivered"), horizontal=True),
        definition=[
            "DNA theme: ddi.bridge_opportunity_dna_theme with ddi.dim_dna_theme; an "
            "opportunity touching two themes counts in both.",
            "Submitted and delivered in the period: submitted_date_key or delivered_date_key "
            "of ddi.fact_opportunity falls in the period.",
            _OPEN,
            _IMPACT,
        ],
        filters_applied=applied,
    )
