"""Pipeline: where the opportunities submitted in the period are now, how far they got, and why
some were not taken forward."""

from __future__ import annotations

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
from reporting.dashboards.selectors.base import Context, slice_where

SLUG = "pipeline"
TITLE = "Pipeline"
INTRO = (
    "What is coming in and where it is now: every opportunity submitted in the period, by its "
    "state today, how far along the workflow each got, and why some were not taken forward."
)
TOP_REASONS = 5
NO_REASON = "No reason recorded (or the opportunity is restricted)"
OTHER_REASONS = "Other reasons"

# Pieces both statements (over ddi and over the aggregates) and the aggregates' build use.
# The workflow position of each stage a milestone date stands for.
POSITIONS_CTE = """pos AS (
    SELECT max(workflow_position) FILTER (WHERE status_code = 'triage') AS triage,
           max(workflow_position) FILTER (WHERE status_code = 'assessing') AS assessing,
           max(workflow_position) FILTER (WHERE status_code = 'backlog') AS backlog,
           max(workflow_position) FILTER (WHERE status_code = 'in_delivery') AS in_delivery,
           max(workflow_position) FILTER (WHERE status_code = 'delivered') AS delivered,
           max(workflow_position) FILTER (WHERE status_code = 'benefits_realised') AS benefits
    FROM dim_status
)"""


def furthest_sql(status: str = "cur") -> str:
    """The furthest point along the workflow an opportunity (f, its current dim_status row
    ``status``) reached: its current state, or any stage it has a milestone date for (a
    rejected one may have been assessed first). Needs POSITIONS_CTE as pos."""
    return f"""coalesce(greatest(
               {status}.workflow_position,
               CASE WHEN f.triaged_date_key IS NOT NULL THEN pos.triage END,
               CASE WHEN f.assessing_date_key IS NOT NULL THEN pos.assessing END,
               CASE WHEN f.backlog_date_key IS NOT NULL THEN pos.backlog END,
               CASE WHEN f.in_delivery_date_key IS NOT NULL THEN pos.in_delivery END,
               CASE WHEN f.delivered_date_key IS NOT NULL THEN pos.delivered END,
               CASE WHEN f.benefits_date_key IS NOT NULL THEN pos.benefits END), 1)"""


def rejections_sql(opportunities: str) -> str:
    """The reason given when each currently rejected opportunity of ``opportunities`` (a
    relation named f with opportunity_id and status_key) was (last) rejected."""
    return (
        "SELECT DISTINCT ON (c.opportunity_id) c.opportunity_id, c.reason "
        "FROM fact_status_change c "
        f"JOIN {opportunities} f ON f.opportunity_id = c.opportunity_id "
        "AND f.status_key = c.to_status_key "
        "WHERE c.to_status_key = (SELECT status_key FROM dim_status WHERE status_code = 'rejected') "
        "ORDER BY c.opportunity_id, c.changed_at DESC, c.status_change_id DESC"
    )


_BY_STATE = """    (SELECT json_agg(json_build_array(s.status_code, s.label, coalesce(n.n, 0), s.stage)
                     ORDER BY s.workflow_position NULLS LAST, s.status_key)
     FROM dim_status s
     LEFT JOIN (SELECT status_key, {count} AS n FROM f GROUP BY status_key) n
       ON n.status_key = s.status_key
     WHERE s.stage <> 'draft')::text AS by_state,"""
_FUNNEL = """    (SELECT json_agg(json_build_array(status_code, label, reached) ORDER BY workflow_position)
     FROM (
         SELECT s.status_code, s.label, s.workflow_position,
                sum(coalesce(r.n, 0)) OVER (ORDER BY s.workflow_position DESC) AS reached
         FROM dim_status s LEFT JOIN reached r ON r.position = s.workflow_position
         WHERE s.workflow_position >= 1
     ) funnel)::text AS funnel,"""
_PIECES = {
    "positions": POSITIONS_CTE,
    "furthest": furthest_sql(),
    "rejections": rejections_sql("f"),
    "funnel": _FUNNEL,
    "by_state_count": _BY_STATE.replace("{count}", "count(*)"),
    "by_state_sum": _BY_STATE.replace("{count}", "sum(n)"),
}

SQL = """
WITH f AS MATERIALIZED (
    SELECT f.opportunity_id, f.status_key, f.triaged_date_key, f.assessing_date_key,
           f.backlog_date_key, f.in_delivery_date_key, f.delivered_date_key, f.benefits_date_key
    FROM fact_opportunity f
    WHERE {where}
), {positions}, furthest AS (
    -- The furthest point along the workflow each reached (furthest_sql).
    SELECT {furthest} AS position
    FROM f
    CROSS JOIN pos
    JOIN dim_status cur ON cur.status_key = f.status_key
), reached AS (
    SELECT position, count(*) AS n FROM furthest GROUP BY position
), rejections AS (
    -- The reason given when each currently rejected opportunity was (last) rejected.
    {rejections}
)
SELECT
{by_state_count}
{funnel}
    (SELECT json_agg(json_build_array(reason, n) ORDER BY n DESC, reason)
     FROM (
    SELECT coalesce(nullif(btrim(reason), ''), '') AS reason, count(*) AS n
         FROM rejections GROUP BY 1
     ) r)::text AS reasons
"""

_COHORT = (
    "Opportunities: ddi.fact_opportunity, one row per opportunity that has left draft; "
    "counted here when submitted_date_key falls in the period."
)


# The same figures from the dashboards' aggregates (reporting.dashboards.aggregates).
AGGREGATED_SQL = """
WITH f AS MATERIALIZED (
    SELECT a.status_key, a.position, a.reason, a.n FROM dash.submitted a WHERE {where}
), reached AS (
    SELECT position, sum(n) AS n FROM f GROUP BY position
)
SELECT
{by_state_sum}
{funnel}
    (SELECT json_agg(json_build_array(reason, n) ORDER BY n DESC, reason)
     FROM (SELECT reason, sum(n) AS n FROM f WHERE reason IS NOT NULL GROUP BY 1) r
    )::text AS reasons
"""


def _sql(ctx: Context) -> str:
    filters = ctx.filters
    if ctx.aggregated():
        where = slice_where(filters)
        if filters.start:
            where += " AND a.date_key >= %(start_key)s"
        if filters.end:
            where += " AND a.date_key <= %(end_key)s"
        return AGGREGATED_SQL.format(where=where, **_PIECES)
    return SQL.format(where=filters.where("f", period_column="submitted_date_key"), **_PIECES)


def pipeline_section(ctx: Context) -> Section:
    data = ctx.row(_sql(ctx), ctx.params)
    applied = f"Submitted {ctx.describe()}."
    by_state = _by_state(data["by_state"], applied)
    funnel = _funnel(data["funnel"], applied)
    return Section(
        slug=SLUG,
        title=TITLE,
        intro=INTRO,
        charts=[
            by_state,
            funnel,
            _rates(data["by_state"], data["funnel"], applied),
            _reasons(data["reasons"], applied),
        ],
    )


def _by_state(rows: list[list], applied: str) -> Chart:
    total = sum(n for _, _, n, _ in rows)
    stage = {"open": 0, "done": 0, "closed": 0}
    for _, _, n, kind in rows:
        stage[kind] = stage.get(kind, 0) + n
    summary = (
        f"Of {plural(total, 'opportunity', 'opportunities')} submitted, {stage['open']:,} "
        f"{'is' if stage['open'] == 1 else 'are'} still open, {stage['done']:,} delivered and "
        f"{stage['closed']:,} closed without delivery."
        if total
        else "No opportunities were submitted with these filters."
    )
    return Chart(
        slug="by-state",
        title="Opportunities by state now",
        summary=summary,
        columns=[Column("state", "State"), Column("count", "Opportunities", Kind.COUNT)],
        rows=[(label, n) for _, label, n, _ in rows],
        visual=Visual("bar", "state", ("count",), horizontal=True),
        definition=[
            _COHORT,
            "State: the opportunity's current status_key, named by ddi.dim_status.label, in "
            "workflow order (dim_status.workflow_position), closed states last.",
        ],
        filters_applied=applied,
    )


def _funnel(rows: list[list], applied: str) -> Chart:
    submitted = rows[0][2] if rows else 0
    out = []
    previous = None
    for _, label, reached in rows:
        out.append(
            (label, reached, share(reached, submitted), share(reached, previous)),
        )
        previous = reached
    delivered = next((r for code, _, r in rows if code == "delivered"), 0)
    summary = (
        f"{delivered:,} of {submitted:,} submitted opportunities "
        f"({shown(Kind.PERCENT, share(delivered, submitted))}) have reached delivery so far."
        if submitted
        else "No opportunities were submitted with these filters."
    )
    return Chart(
        slug="funnel",
        title="Funnel from submission to benefits realised",
        summary=summary,
        columns=[
            Column("stage", "Stage reached"),
            Column("reached", "Opportunities", Kind.COUNT),
            Column("of_submitted", "Share of submitted (%)", Kind.PERCENT),
            Column("of_previous", "Share of previous stage (%)", Kind.PERCENT),
        ],
        rows=out,
        visual=Visual("bar", "stage", ("reached",), horizontal=True),
        definition=[
            _COHORT,
            "Reached a stage: the opportunity is in that stage or a later one now, has a "
            "milestone date for it or a later one (triaged_date_key, assessing_date_key, "
            "backlog_date_key, in_delivery_date_key, delivered_date_key, benefits_date_key: "
            "the first day in each, from ddi.fact_status_change); stages are ordered by "
            "dim_status.workflow_position. An opportunity that skipped a stage (triage "
            "straight to the backlog) counts as having passed it; a rejected one counts up to "
            "the furthest stage it reached before rejection.",
            "Share of previous stage: opportunities reaching this stage ÷ those reaching the "
            "stage before it.",
        ],
        filters_applied=applied,
    )


def _rates(by_state: list[list], funnel: list[list], applied: str) -> Chart:
    reached = {code: n for code, _, n in funnel}
    states = {code: n for code, _, n, _ in by_state}
    submitted = funnel[0][2] if funnel else 0
    open_now = sum(n for _, _, n, kind in by_state if kind == "open")
    rows = [
        ("Accepted into the backlog", reached.get("backlog", 0)),
        ("Delivered", reached.get("delivered", 0)),
        ("Not taken forward (rejected)", states.get("rejected", 0)),
        ("Merged as duplicates", states.get("duplicate", 0)),
        ("Withdrawn by the submitter", states.get("withdrawn", 0)),
        ("Still open", open_now),
    ]
    out = [(label, n, share(n, submitted)) for label, n in rows]
    summary = (
        f"Conversion: {shown(Kind.PERCENT, share(rows[1][1], submitted))} of submitted opportunities were "
        f"delivered; {shown(Kind.PERCENT, share(rows[2][1], submitted))} were not taken forward."
        if submitted
        else "No opportunities were submitted with these filters."
    )
    return Chart(
        slug="rates",
        title="Conversion and rejection rates",
        summary=summary,
        columns=[
            Column("outcome", "Outcome"),
            Column("count", "Opportunities", Kind.COUNT),
            Column("rate", "Share of submitted (%)", Kind.PERCENT),
        ],
        rows=out,
        visual=Visual("bar", "outcome", ("rate",), horizontal=True),
        definition=[
            _COHORT,
            "Accepted into the backlog and Delivered: reached that stage (as in the funnel). "
            "Rejected, duplicates, withdrawn: current status_key is rejected, duplicate or "
            "withdrawn. Still open: current status has dim_status.is_open.",
            f"Rates: count ÷ all submitted ({submitted:,}). The outcomes overlap (a delivered "
            "opportunity was also accepted), so they do not add up to 100%.",
        ],
        filters_applied=applied,
    )


def _reasons(rows: list[list], applied: str) -> Chart:
    total = sum(n for _, n in rows)
    top = rows[:TOP_REASONS]
    other = sum(n for _, n in rows[TOP_REASONS:])
    out = [(reason or NO_REASON, n, share(n, total)) for reason, n in top]
    if other:
        out.append((OTHER_REASONS, other, share(other, total)))
    summary = (
        f"{plural(total, 'opportunity was', 'opportunities were')} not taken forward; the "
        f"commonest reason ({top[0][1]:,}) was: “{top[0][0] or NO_REASON}”"
        if total
        else "No opportunities submitted with these filters have been rejected."
    )
    return Chart(
        slug="rejection-reasons",
        title="Top reasons for not taking an opportunity forward",
        summary=summary,
        columns=[
            Column("reason", "Reason"),
            Column("count", "Opportunities", Kind.COUNT),
            Column("share", "Share of rejected (%)", Kind.PERCENT),
        ],
        rows=out,
        kind="table",
        definition=[
            _COHORT + " Only those whose current status is rejected.",
            "Reason: ddi.fact_status_change.reason of the opportunity's latest change into "
            "rejected, grouped by its exact text; empty for restricted opportunities. The "
            f"{TOP_REASONS} commonest are listed, the rest added up as “{OTHER_REASONS}”.",
        ],
        filters_applied=applied,
    )
