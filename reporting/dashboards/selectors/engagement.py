"""Engagement: who takes part (submitting and supporting), as a share of the workforce, and
which open opportunities people support most."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from reporting.dashboards.charts import (
    Chart,
    Column,
    Kind,
    Section,
    Visual,
    plural,
    share,
    shown,
)
from reporting.dashboards.selectors.base import Context

SLUG = "engagement"
TITLE = "Engagement"
INTRO = (
    "Who takes part: the people who raise and support opportunities, by their own department, "
    "as a share of the workforce, and what they support most."
)
TOP_SUPPORTED = 10
NO_DEPARTMENT = "Force-wide roles or no department"
WHOLE_FORCE = "Whole force"
RESTRICTED = "Restricted opportunity"
RESTRICTED_REFERENCE = "Restricted"

_ENGAGED = """
f AS MATERIALIZED (
    SELECT f.opportunity_id, f.submitter_person_key, f.submitted_date_key
    FROM fact_opportunity f
    WHERE {where}
), engaged AS (
    -- Each person who submitted or supported in the period, once, with what they did.
    SELECT person, bool_or(submitted) AS submitted, bool_or(NOT submitted) AS supported
    FROM (
        SELECT f.submitter_person_key AS person, true AS submitted FROM f
        WHERE f.submitter_person_key IS NOT NULL AND {submitted_in_period}
        UNION ALL
        SELECT s.person_key, false
        FROM fact_support s JOIN f ON f.opportunity_id = s.opportunity_id
        WHERE s.person_key IS NOT NULL AND {supported_in_period}
    ) x
    GROUP BY person
)"""
# From the dashboards' aggregates: a person's sorted days of each kind in the slice include
# one in the period (width_bucket counts the days up to a key by binary search).
_ENGAGED_AGGREGATED = """
engaged AS (
    SELECT person, bool_or(submitted) AS submitted, bool_or(supported) AS supported
    FROM (
        SELECT a.person_key AS person, a.submitted AND {within} AS submitted,
               NOT a.submitted AND {within} AS supported
        FROM dash.engaged a WHERE {where}
    ) e
    WHERE submitted OR supported
    GROUP BY person
)"""
_SUPPORTED = """
        SELECT f.reference, f.title, s.label, f.supporters, f.impact, f.is_restricted
        FROM fact_opportunity f JOIN dim_status s ON s.status_key = f.status_key AND s.is_open
        WHERE {where} AND f.supporters > 0
        ORDER BY f.supporters DESC, f.reference
        LIMIT %(top_supported)s"""
_SUPPORTED_AGGREGATED = """
        SELECT a.reference, a.title, s.label, a.supporters, a.impact, a.is_restricted
        FROM dash.supported a JOIN dim_status s ON s.status_key = a.status_key
        WHERE {where}
        ORDER BY a.supporters DESC, a.reference
        LIMIT %(top_supported)s"""

SQL = """
WITH {engaged}, people AS (
    SELECT p.department_key,
           count(*) FILTER (WHERE e.submitted) AS submitters,
           count(*) FILTER (WHERE e.supported) AS supporters,
           count(*) AS engaged
    FROM engaged e LEFT JOIN dim_person p ON p.person_key = e.person
    GROUP BY p.department_key
), workforce AS (
    SELECT department_key, sum(headcount) AS headcount FROM dim_role GROUP BY department_key
)
SELECT
    (SELECT json_agg(json_build_array(name, submitters, supporters, engaged, headcount)
                     ORDER BY is_none, name)
     FROM (
        SELECT coalesce(d.name, '') AS name, d.department_key IS NULL AS is_none,
               coalesce(sum(p.submitters), 0) AS submitters,
               coalesce(sum(p.supporters), 0) AS supporters,
               coalesce(sum(p.engaged), 0) AS engaged,
               coalesce(sum(w.headcount), 0) AS headcount
        FROM (SELECT department_key FROM people UNION SELECT department_key FROM workforce
              UNION SELECT department_key FROM dim_department) k
        LEFT JOIN dim_department d ON d.department_key = k.department_key
        LEFT JOIN people p ON p.department_key IS NOT DISTINCT FROM k.department_key
        LEFT JOIN workforce w ON w.department_key IS NOT DISTINCT FROM k.department_key
        GROUP BY d.department_key, d.name
     ) t WHERE headcount > 0 OR engaged > 0)::text AS departments,
    (SELECT json_agg(json_build_array(reference, title, label, supporters, impact,
                                      is_restricted) ORDER BY supporters DESC, reference)
     FROM (
{supported}
     ) t)::text AS supported
"""


def _sql(ctx: Context) -> str:
    filters = ctx.filters
    if not ctx.aggregated():
        return SQL.format(
            engaged=_ENGAGED.format(
                where=filters.where("f"),
                submitted_in_period=filters.in_period("f.submitted_date_key"),
                supported_in_period=filters.in_period("s.date_key"),
            ),
            supported=_SUPPORTED.format(where=filters.where("f")),
        )
    if filters.start and filters.end:
        within = "width_bucket(%(end_key)s, a.days) > width_bucket(%(start_key)s - 1, a.days)"
    elif filters.start:
        within = "cardinality(a.days) > width_bucket(%(start_key)s - 1, a.days)"
    elif filters.end:
        within = "width_bucket(%(end_key)s, a.days) > 0"
    else:
        within = "TRUE"
    # Both tables hold rows by theme, department and journey only (not rolled up).
    top = ["a.theme_key = " + ("%(theme)s" if filters.theme is not None else "0")]
    if filters.department is not None:
        top.append("a.department_key = %(department)s")
    if filters.journey is not None:
        top.append("a.journey_key = %(journey)s")
    return SQL.format(
        engaged=_ENGAGED_AGGREGATED.format(within=within, where=" AND ".join(top)),
        supported=_SUPPORTED_AGGREGATED.format(where=" AND ".join(top)),
    )


def engagement_section(ctx: Context) -> Section:
    data = ctx.row(_sql(ctx), {**ctx.params, "top_supported": TOP_SUPPORTED})
    return Section(
        slug=SLUG,
        title=TITLE,
        intro=INTRO,
        charts=[
            *_departments(data["departments"], ctx),
            _supported(data["supported"], ctx),
        ],
    )


_PEOPLE = [
    "Submitters: distinct ddi.fact_opportunity.submitter_person_key of opportunities submitted "
    "in the period (submitted_date_key).",
    "Supporters: distinct ddi.fact_support.person_key of supports given in the period "
    "(date_key), on opportunities matching the filters.",
    "Engaged: distinct people who did either. Each person counts in their own department "
    "(ddi.dim_person.department_key); people are pseudonymous keys, never names.",
]


def _departments(rows: list[list], ctx: Context) -> list[Chart]:
    out: list[tuple[Any, ...]] = [
        (
            name or NO_DEPARTMENT,
            submitters,
            supporters,
            engaged,
            headcount,
            share(engaged, headcount),
        )
        for name, submitters, supporters, engaged, headcount in rows
    ]
    totals = [sum(r[i] for r in out) for i in range(1, 5)]
    engaged, headcount = totals[2], totals[3]
    out.append((WHOLE_FORCE, *totals, share(engaged, headcount)))
    applied = (
        f"People who submitted or supported {ctx.describe(period=True)} (the filters choose "
        "the opportunities; people are grouped by their own department)."
    )
    people = Chart(
        slug="people",
        title="Submitters and supporters per department",
        summary=(
            f"{plural(totals[0], 'person', 'people')} submitted and "
            f"{plural(totals[1], 'person', 'people')} supported opportunities in the period."
        ),
        columns=[
            Column("department", "Department"),
            Column("submitters", "Submitters", Kind.COUNT),
            Column("supporters", "Supporters", Kind.COUNT),
            Column("engaged", "Engaged (either)", Kind.COUNT),
        ],
        rows=[row[:4] for row in out[:-1]],
        visual=Visual("bar", "department", ("submitters", "supporters"), horizontal=True),
        definition=_PEOPLE,
        filters_applied=applied,
    )
    workforce = Chart(
        slug="workforce-share",
        title="Share of the workforce engaged",
        summary=(
            f"{shown(Kind.PERCENT, share(engaged, headcount))} of the workforce "
            f"({engaged:,} of {headcount:,} people) raised or supported an opportunity in the "
            "period."
            if headcount
            else "No role headcounts are recorded, so the share cannot be worked out."
        ),
        columns=[
            Column("department", "Department"),
            Column("engaged", "Engaged", Kind.COUNT),
            Column("headcount", "Workforce (headcount)", Kind.COUNT),
            Column("share", "Share engaged (%)", Kind.PERCENT),
        ],
        rows=[(row[0], *row[3:]) for row in out],
        visual=Visual("bar", "department", ("share",), horizontal=True),
        definition=[
            *_PEOPLE,
            "Workforce: the sum of ddi.dim_role.headcount by the role's department_key; roles "
            "with no department are force-wide and are counted with people who have no "
            "department.",
            "Share: engaged ÷ workforce headcount. The last row is the whole force.",
        ],
        filters_applied=applied,
    )
    return [people, workforce]


def _supported(rows: list[list], ctx: Context) -> Chart:
    out = []
    links = []
    for reference, title, label, supporters, impact, restricted in rows:
        # A restricted one is counted, but neither named nor linked: most who see this page
        # may not open it, and the figures are the same for everyone.
        if restricted:
            out.append((RESTRICTED_REFERENCE, RESTRICTED, label, supporters, impact))
            links.append(None)
        else:
            out.append((reference, title or "", label, supporters, impact))
            links.append(reverse("opportunities:detail", args=[reference]))
    summary = (
        f"The most-supported open opportunity, {out[0][0]}, has {plural(out[0][3], 'supporter')}."
        if out
        else "No open opportunities have supporters yet."
    )
    return Chart(
        slug="most-supported",
        title=f"Most-supported open opportunities (top {TOP_SUPPORTED})",
        summary=summary,
        columns=[
            Column("reference", "Reference"),
            Column("title", "Title"),
            Column("state", "State"),
            Column("supporters", "Supporters", Kind.COUNT),
            Column("impact", "Impact (£ a year)", Kind.MONEY),
        ],
        rows=out,
        links=links,
        visual=Visual("bar", "reference", ("supporters",), horizontal=True),
        definition=[
            "Open: ddi.fact_opportunity rows whose current status has dim_status.is_open, "
            "whenever submitted.",
            "Supporters: fact_opportunity.supporters, everyone who supports it now (“me too”). "
            "Impact: the current score's yearly impact (empty if unscored).",
            "Restricted opportunities are listed by their support, without reference or title "
            "(the DDI schema has no title for them).",
        ],
        filters_applied=(
            f"Open now (on {ctx.batch.as_of:%-d %b %Y}), {ctx.describe(period=False)}; the "
            "period does not apply."
        ),
    )
