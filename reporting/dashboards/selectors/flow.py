"""Flow: how fast work moves: throughput, lead times, ageing, 2-Speed cycles, and the promise
to submitters (a first response within the deadline, then regular updates)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.conf import settings

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
from reporting.dashboards.selectors.base import (
    Context,
    histogram_percentiles,
    key_to_date,
    slice_where,
    working_days_sql,
)
from reporting.dashboards.selectors.people import person_names

SLUG = "flow"
TITLE = "Flow"
INTRO = (
    "How fast work moves through the CI team: what comes in and goes out each week, how long "
    "the steps take, how old the open work is, and whether submitters hear back on time."
)
AGE_BUCKETS = (
    ("Up to 1 week", 0, 7),
    ("1 to 4 weeks", 8, 28),
    ("1 to 3 months", 29, 91),
    ("3 to 6 months", 92, 182),
    ("Over 6 months", 183, None),
)
CYCLE_DAYS = 4
NO_OWNER = "No owner yet"


def _age_filters() -> str:
    parts = []
    for index, (_, low, high) in enumerate(AGE_BUCKETS):
        cond = f"a.age >= {low}" + (f" AND a.age <= {high}" if high is not None else "")
        parts.append(f"count(a.age) FILTER (WHERE {cond}) AS b{index}")
    return ", ".join(parts)


# Submitted and delivered per week (both statements), from `weeks` and `events`.
_THROUGHPUT = """    (SELECT json_agg(json_build_array(w.week, coalesce(e.submitted, 0), coalesce(e.delivered, 0))
                     ORDER BY w.week)
     FROM weeks w LEFT JOIN events e ON e.week = w.week)::text AS throughput,"""


def promise_outcome_sql() -> str:
    """The first answer to an opportunity (f: fact_opportunity, s: its current dim_status):
    the first day in triage, or for one rejected or merged without triage, the day it was
    closed, within %(deadline)s working days of submission or not; still waiting on
    %(as_of)s; or withdrawn untriaged (the submitter's own move)."""
    submitted_day = key_to_date("f.submitted_date_key")
    wd_triaged = working_days_sql(submitted_day, key_to_date("f.triaged_date_key"))
    wd_closed = working_days_sql(submitted_day, key_to_date("f.closed_date_key"))
    wd_waiting = working_days_sql(submitted_day, "%(as_of)s::date")
    return f"""CASE
               WHEN f.triaged_date_key IS NOT NULL THEN
                   CASE WHEN {wd_triaged} <= %(deadline)s THEN 'on_time' ELSE 'late' END
               WHEN s.status_code = 'withdrawn' THEN 'withdrawn'
               WHEN s.status_code IN ('rejected', 'duplicate') AND f.closed_date_key IS NOT NULL
               THEN CASE WHEN {wd_closed} <= %(deadline)s THEN 'on_time' ELSE 'late' END
               WHEN s.status_code = 'submitted' THEN
                   CASE WHEN {wd_waiting} <= %(deadline)s THEN 'waiting' ELSE 'overdue' END
               ELSE 'unknown'
           END"""


def recent_change_sql() -> str:
    """An opportunity (f) had a status change on or after the day the update interval
    (%(update_months)s months) reaches back to from %(as_of)s."""
    return (
        "coalesce(f.status_since_date_key >= to_char("
        "%(as_of)s::date - make_interval(months => %(update_months)s), 'YYYYMMDD')::int, false)"
    )


def time_in_delivery_sql(join: str = "", where: str = "TRUE") -> str:
    """Each opportunity's latest move from in delivery to delivered (of those ``join`` and
    ``where`` keep) and its working days in delivery: it entered delivery
    days_in_previous_status before changed_at (UK dates, %(tz)s)."""
    local = "AT TIME ZONE %(tz)s"
    wd_cycle = working_days_sql(
        f"((c.changed_at - c.days_in_previous_status * interval '1 day') {local})::date",
        f"(c.changed_at {local})::date",
    )
    return f"""SELECT DISTINCT ON (c.opportunity_id) c.opportunity_id, {wd_cycle} AS working_days
    FROM fact_status_change c
    {join}
    WHERE c.to_status_key = (SELECT status_key FROM dim_status WHERE status_code = 'delivered')
      AND c.from_status_key = (
          SELECT status_key FROM dim_status WHERE status_code = 'in_delivery')
      AND c.days_in_previous_status IS NOT NULL
      AND {where}
    ORDER BY c.opportunity_id, c.changed_at DESC, c.status_change_id DESC"""


def _sql(ctx: Context) -> str:
    filters = ctx.filters
    submitted_day = key_to_date("f.submitted_date_key")
    wd_open = working_days_sql("o.submitted_on", "%(as_of)s::date")
    buckets = ", ".join(f"coalesce(b{i}, 0)" for i in range(len(AGE_BUCKETS)))
    lead = (
        "count({col}), percentile_cont(0.5) WITHIN GROUP (ORDER BY {col}), "
        "percentile_cont(0.85) WITHIN GROUP (ORDER BY {col})"
    )
    return f"""
WITH f AS MATERIALIZED (
    SELECT f.opportunity_id, f.status_key, f.submitted_date_key, f.triaged_date_key,
           f.delivered_date_key, f.closed_date_key, f.days_submitted_to_triage, f.days_submitted_to_delivered,
           f.days_backlog_to_delivered, f.fits_two_speed, f.owner_person_key,
           f.delivery_cycle_key, f.status_since_date_key
    FROM fact_opportunity f
    WHERE {filters.where("f")}
), bounds AS (
    SELECT coalesce(%(start)s::date, (SELECT min({submitted_day}) FROM f), %(as_of)s::date)
               AS first_day,
           coalesce(%(end)s::date, %(as_of)s::date) AS last_day
), weeks AS (
    SELECT g::date AS week
    FROM bounds, generate_series(date_trunc('week', first_day), date_trunc('week', last_day),
                                 interval '1 week') AS g
), events AS (
    -- Counted by day first (a few hundred days), then by the day's week.
    SELECT d.week_start_date AS week, sum(e.submitted) AS submitted,
           sum(e.delivered) AS delivered
    FROM (
        SELECT k, count(*) FILTER (WHERE kind = 's') AS submitted,
               count(*) FILTER (WHERE kind = 'd') AS delivered
        FROM (
            SELECT f.submitted_date_key AS k, 's' AS kind FROM f
            WHERE {filters.in_period("f.submitted_date_key")}
            UNION ALL
            SELECT f.delivered_date_key, 'd' FROM f
            WHERE {filters.in_period("f.delivered_date_key")}
        ) x
        GROUP BY k
    ) e JOIN dim_date d ON d.date_key = e.k
    GROUP BY d.week_start_date
), promise AS (
    -- The first answer: the first day in triage, or for an opportunity rejected or merged
    -- without triage, the day it was closed. Withdrawn untriaged: the submitter's own move.
    SELECT {promise_outcome_sql()} AS outcome
    FROM f
    JOIN dim_status s ON s.status_key = f.status_key
    WHERE {filters.in_period("f.submitted_date_key")}
), cycles AS (
    -- The (latest) move from in delivery to delivered of each opportunity delivered in the
    -- period; days_in_previous_status says when it entered delivery. One pass over the
    -- changes, filtered by status key.
    {time_in_delivery_sql("JOIN f ON f.opportunity_id = c.opportunity_id", filters.in_period("f.delivered_date_key"))}
), open_now AS (
    SELECT f.opportunity_id, f.status_key, f.owner_person_key, s.status_code,
           {submitted_day} AS submitted_on, %(as_of)s::date - {submitted_day} AS age,
           -- Its status changed on or after the day the update interval reaches back to.
           {recent_change_sql()} AS recent
    FROM f JOIN dim_status s ON s.status_key = f.status_key AND s.is_open
), overdue AS (
    -- Open now: "submitted" past its first-response deadline, or any other open state
    -- entered longer ago than the update interval.
    SELECT o.owner_person_key,
           count(*) FILTER (WHERE o.status_code = 'submitted'
                            AND {wd_open} > %(deadline)s) AS first_response,
           count(*) FILTER (WHERE o.status_code <> 'submitted' AND NOT o.recent) AS update_due
    FROM open_now o
    GROUP BY o.owner_person_key
)
SELECT
{_THROUGHPUT}
    (SELECT json_build_array(
        (SELECT json_build_array({lead.format(col="days_submitted_to_triage")}) FROM f
         WHERE {filters.in_period("f.triaged_date_key")}),
        (SELECT json_build_array({lead.format(col="days_submitted_to_delivered")}) FROM f
         WHERE {filters.in_period("f.delivered_date_key")}),
        (SELECT json_build_array({lead.format(col="days_backlog_to_delivered")}) FROM f
         WHERE {filters.in_period("f.delivered_date_key")})
    ))::text AS lead_times,
    (SELECT json_agg(json_build_array(s.label, {buckets}) ORDER BY s.workflow_position)
     FROM dim_status s
     LEFT JOIN (SELECT status_code, {_age_filters()} FROM open_now a GROUP BY status_code) a
       ON a.status_code = s.status_code
     WHERE s.is_open)::text AS ageing,
    (SELECT json_agg(json_build_array(sized, delivered, within, longer, planned, by_end))
     FROM (
        SELECT CASE WHEN f.fits_two_speed THEN 'fits' WHEN NOT f.fits_two_speed THEN 'larger'
                    ELSE 'unscored' END AS sized,
               count(*) AS delivered,
               count(*) FILTER (WHERE c.working_days <= {CYCLE_DAYS}) AS within,
               count(*) FILTER (WHERE c.working_days > {CYCLE_DAYS}) AS longer,
               count(dc.delivery_cycle_key) AS planned,
               count(*) FILTER (WHERE f.delivered_date_key <= dc.ends_date_key) AS by_end
        FROM f LEFT JOIN cycles c ON c.opportunity_id = f.opportunity_id
        LEFT JOIN dim_delivery_cycle dc ON dc.delivery_cycle_key = f.delivery_cycle_key
        WHERE {filters.in_period("f.delivered_date_key")}
        GROUP BY 1
     ) t)::text AS cycles,
    (SELECT json_object_agg(outcome, n)
     FROM (SELECT outcome, count(*) AS n FROM promise GROUP BY outcome) p)::text AS promise,
    (SELECT json_agg(json_build_array(owner_person_key, first_response, update_due))
     FROM overdue WHERE first_response + update_due > 0)::text AS overdue
"""


def _aggregated_sql(ctx: Context) -> str:
    """The same figures from the dashboards' aggregates (reporting.dashboards.aggregates)."""
    filters = ctx.filters
    slice_ = slice_where(filters)
    in_period = filters.in_period("a.date_key")
    buckets = ", ".join(
        f"sum(a.n) FILTER (WHERE a.age_bucket = {i}) AS b{i}" for i in range(len(AGE_BUCKETS))
    )
    totals = ", ".join(f"coalesce(a.b{i}, 0)" for i in range(len(AGE_BUCKETS)))

    def lead(measure: str) -> str:
        return histogram_percentiles(
            f"SELECT a.days, sum(a.n) AS n FROM dash.lags a WHERE {slice_} "
            f"AND a.measure = '{measure}' AND {in_period} GROUP BY a.days",
            (0.5, 0.85),
        )

    return f"""
WITH bounds AS (
    SELECT coalesce(%(start)s::date,
                    (SELECT {key_to_date("min(a.date_key)")} FROM dash.submitted a
                     WHERE {slice_}),
                    %(as_of)s::date) AS first_day,
           coalesce(%(end)s::date, %(as_of)s::date) AS last_day
), weeks AS (
    SELECT g::date AS week
    FROM bounds, generate_series(date_trunc('week', first_day), date_trunc('week', last_day),
                                 interval '1 week') AS g
), events AS (
    SELECT d.week_start_date AS week, sum(e.submitted) AS submitted,
           sum(e.delivered) AS delivered
    FROM (
        SELECT k, sum(submitted) AS submitted, sum(delivered) AS delivered
        FROM (
            SELECT a.date_key AS k, a.n AS submitted, 0 AS delivered FROM dash.submitted a
            WHERE {slice_} AND {in_period}
            UNION ALL
            SELECT a.date_key, 0, a.n FROM dash.delivered a WHERE {slice_} AND {in_period}
        ) x
        GROUP BY k
    ) e JOIN dim_date d ON d.date_key = e.k
    GROUP BY d.week_start_date
)
SELECT
{_THROUGHPUT}
    json_build_array({lead("st")}, {lead("sd")}, {lead("bd")})::text AS lead_times,
    (SELECT json_agg(json_build_array(s.label, {totals}) ORDER BY s.workflow_position)
     FROM dim_status s
     LEFT JOIN (SELECT a.status_key, {buckets} FROM dash.open a WHERE {slice_}
                GROUP BY a.status_key) a
       ON a.status_key = s.status_key
     WHERE s.is_open)::text AS ageing,
    (SELECT json_agg(json_build_array(sized, delivered, within, longer, planned, by_end))
     FROM (
        SELECT a.sized, sum(a.n) AS delivered,
               coalesce(sum(a.n) FILTER (WHERE a.cycle = 'within'), 0) AS within,
               coalesce(sum(a.n) FILTER (WHERE a.cycle = 'longer'), 0) AS longer,
               coalesce(sum(a.n) FILTER (WHERE a.planned), 0) AS planned,
               coalesce(sum(a.n) FILTER (WHERE a.by_end), 0) AS by_end
        FROM dash.delivered a WHERE {slice_} AND {in_period}
        GROUP BY a.sized
     ) t)::text AS cycles,
    (SELECT json_object_agg(outcome, n)
     FROM (SELECT a.outcome, sum(a.n) AS n FROM dash.submitted a
           WHERE {slice_} AND {in_period} GROUP BY a.outcome) p)::text AS promise,
    (SELECT json_agg(json_build_array(a.owner_person_key, a.first_response, a.update_due))
     FROM dash.overdue a WHERE {slice_} AND a.first_response + a.update_due > 0)::text AS overdue
"""


def flow_section(ctx: Context) -> Section:
    from reporting.dashboards.aggregates import board_clock

    deadline, update_months = board_clock()
    if ctx.batch.stand_in and ctx.batch.aggregated:
        # An earlier batch shown while the latest is built: its figures, with the board
        # settings they were counted with.
        deadline = ctx.batch.aggregated["deadline"]
        update_months = ctx.batch.aggregated["update_months"]
    clock = {"deadline": deadline, "update_months": update_months}
    data = ctx.row(
        _aggregated_sql(ctx) if ctx.aggregated(clock) else _sql(ctx),
        {
            **ctx.params,
            "tz": settings.TIME_ZONE,
            "deadline": deadline,
            "update_months": update_months,
        },
    )
    now = f"Open now (on {ctx.batch.as_of:%-d %b %Y}), {ctx.describe(period=False)}; the period does not apply."
    return Section(
        slug=SLUG,
        title=TITLE,
        intro=INTRO,
        charts=[
            _throughput(data["throughput"], ctx),
            _lead_times(data["lead_times"], ctx),
            _ageing(data["ageing"], now, ctx.batch.as_of),
            _cycles(data["cycles"], ctx),
            _promise(data["promise"] or {}, ctx, deadline),
            _overdue(data["overdue"], now, deadline, update_months),
        ],
    )


def _throughput(rows: list[list], ctx: Context) -> Chart:
    submitted = sum(r[1] for r in rows)
    delivered = sum(r[2] for r in rows)
    weeks = len(rows)
    summary = (
        f"Over {plural(weeks, 'week')}, {submitted:,} opportunities were submitted and "
        f"{delivered:,} delivered"
        + (f" (about {shown(Kind.DAYS, delivered / weeks)} delivered a week)." if weeks else ".")
    )
    return Chart(
        slug="throughput",
        title="Submitted and delivered each week",
        summary=summary,
        columns=[
            Column("week", "Week beginning", Kind.DATE),
            Column("submitted", "Submitted", Kind.COUNT),
            Column("delivered", "Delivered", Kind.COUNT),
        ],
        rows=[tuple(r) for r in rows],
        visual=Visual("line", "week", ("submitted", "delivered")),
        definition=[
            "Submitted: ddi.fact_opportunity rows by the week (dim_date.week_start_date, "
            "Monday) of submitted_date_key.",
            "Delivered: the same rows by the week of delivered_date_key (the first day the "
            "opportunity was delivered).",
            "Every week that overlaps the period is listed; the first and last may be part weeks.",
        ],
        filters_applied=f"Submitted or delivered {ctx.describe()}.",
    )


_LEAD_MEASURES = (
    ("Submission to first triage", "days_submitted_to_triage", "triaged_date_key"),
    ("Submission to delivery", "days_submitted_to_delivered", "delivered_date_key"),
    ("Backlog to delivery", "days_backlog_to_delivered", "delivered_date_key"),
)


def _lead_times(rows: list[list], ctx: Context) -> Chart:
    out = [
        (label, n, median, p85)
        for (label, _, _), (n, median, p85) in zip(_LEAD_MEASURES, rows, strict=True)
    ]
    _, n, median, p85 = out[1]
    summary = (
        f"Half of the {plural(n, 'opportunity', 'opportunities')} delivered in the period took "
        f"{shown(Kind.DAYS, median)} days or less from submission, and 85% took "
        f"{shown(Kind.DAYS, p85)} days or less."
        if n
        else "No opportunities were delivered in the period."
    )
    return Chart(
        slug="lead-times",
        title="Days from submission to first triage and to delivery",
        summary=summary,
        columns=[
            Column("measure", "Measure"),
            Column("count", "Opportunities", Kind.COUNT),
            Column("median", "Median (days)", Kind.DAYS),
            Column("p85", "85th percentile (days)", Kind.DAYS),
        ],
        rows=out,
        visual=Visual("bar", "measure", ("median", "p85"), horizontal=True),
        definition=[
            *(
                f"{label}: ddi.fact_opportunity.{column}, for opportunities whose {event} "
                "falls in the period."
                for label, column, event in _LEAD_MEASURES
            ),
            "Days are calendar days between UK dates. Median and 85th percentile: PostgreSQL's "
            "percentile_cont (interpolating between the two nearest values).",
        ],
        filters_applied=f"Triaged or delivered {ctx.describe()}.",
    )


def _ageing(rows: list[list], applied: str, as_of: date) -> Chart:
    out = [(label, *counts, sum(counts)) for label, *counts in rows]
    total = sum(r[-1] for r in out)
    old = sum(r[len(AGE_BUCKETS) - 1] + r[len(AGE_BUCKETS)] for r in out)
    summary = (
        f"{plural(total, 'opportunity is', 'opportunities are')} open; {old:,} of them "
        f"({shown(Kind.PERCENT, share(old, total))}) were submitted more than 3 months ago."
        if total
        else "No opportunities are open with these filters."
    )
    columns = [Column("state", "State")]
    columns += [Column(f"b{i}", label, Kind.COUNT) for i, (label, _, _) in enumerate(AGE_BUCKETS)]
    columns.append(Column("total", "Total", Kind.COUNT))
    return Chart(
        slug="ageing",
        title="Age of open opportunities by state",
        summary=summary,
        columns=columns,
        rows=out,
        visual=Visual(
            "bar",
            "state",
            tuple(f"b{i}" for i in range(len(AGE_BUCKETS))),
            stacked=True,
            horizontal=True,
        ),
        definition=[
            "Open: ddi.fact_opportunity rows whose current status_key has dim_status.is_open "
            "(submitted to in delivery).",
            f"Age: days from the submission day (submitted_date_key) to the batch's day "
            f"({as_of:%-d %b %Y}). Bands: "
            + "; ".join(
                f"{label} ({low}–{high} days)" if high else f"{label} ({low} days or more)"
                for label, low, high in AGE_BUCKETS
            )
            + ".",
        ],
        filters_applied=applied,
    )


_CYCLE_ROWS = (
    ("fits", "Fits a cycle (effort ≤ 4 days)"),
    ("larger", "Larger than a cycle"),
    ("unscored", "No current score"),
)


def _cycles(rows: list[list], ctx: Context) -> Chart:
    found = {row[0]: tuple(row[1:]) for row in rows}
    out = []
    for code, label in _CYCLE_ROWS:
        n, within, longer, planned, by_end = found.get(code, (0, 0, 0, 0, 0))
        out.append(
            (
                label,
                n,
                within,
                longer,
                n - within - longer,
                share(within, within + longer),
                planned,
                by_end,
                share(by_end, planned),
            )
        )
    n, within, longer, planned, by_end = found.get("fits", (0, 0, 0, 0, 0))
    all_planned = sum(row[6] for row in out)
    all_by_end = sum(row[7] for row in out)
    summary = (
        f"Of {plural(n, 'delivered opportunity', 'delivered opportunities')} sized for a "
        f"2-Speed cycle, {within:,} ({shown(Kind.PERCENT, share(within, within + longer))} "
        f"of those with a recorded time in delivery) were delivered within {CYCLE_DAYS} "
        "working days of entering delivery."
        if n
        else "No opportunities sized for a 2-Speed cycle were delivered in the period."
    ) + (
        f" Of {plural(all_planned, 'delivered opportunity', 'delivered opportunities')} "
        f"planned into a delivery cycle, {all_by_end:,} "
        f"({shown(Kind.PERCENT, share(all_by_end, all_planned))}) were delivered by the "
        "cycle's last day."
        if all_planned
        else " None of those delivered in the period was planned into a delivery cycle."
    )
    return Chart(
        slug="two-speed",
        title="2-Speed cycle outcomes",
        summary=summary,
        columns=[
            Column("sized", "Sizing"),
            Column("delivered", "Delivered", Kind.COUNT),
            Column("within", f"In delivery {CYCLE_DAYS} working days or fewer", Kind.COUNT),
            Column("longer", "Longer", Kind.COUNT),
            Column("unknown", "Not recorded", Kind.COUNT),
            Column("rate", "Within a cycle (%)", Kind.PERCENT),
            Column("planned", "Planned into a cycle", Kind.COUNT),
            Column("by_end", "Delivered by the cycle's last day", Kind.COUNT),
            Column("kept", "Cycle kept (%)", Kind.PERCENT),
        ],
        rows=out,
        visual=Visual(
            "bar", "sized", ("within", "longer", "unknown"), stacked=True, horizontal=True
        ),
        definition=[
            "Delivered: ddi.fact_opportunity rows whose delivered_date_key falls in the period.",
            "Sizing: fact_opportunity.fits_two_speed of the current score (effort_days ≤ 4).",
            f"Time in delivery: the latest ddi.fact_status_change from in delivery to "
            f"delivered; it entered delivery days_in_previous_status before changed_at. "
            f"Working days (Monday to Friday, less bank holidays) between the two UK dates; "
            f"within a cycle when {CYCLE_DAYS} or fewer.",
            "Planned into a cycle: fact_opportunity.delivery_cycle_key is set (the cycle in "
            "ddi.dim_delivery_cycle). Delivered by the cycle's last day: delivered_date_key ≤ "
            "dim_delivery_cycle.ends_date_key. Cycle kept = that count ÷ planned.",
        ],
        filters_applied=f"Delivered {ctx.describe()}.",
    )


_PROMISE_ROWS = (
    ("on_time", "Answered within the deadline"),
    ("late", "Answered after the deadline"),
    ("overdue", "Still waiting, past the deadline"),
    ("waiting", "Still waiting, within the deadline"),
    ("withdrawn", "Withdrawn before an answer"),
    ("unknown", "No status history"),
)


def _promise(found: dict[str, int], ctx: Context, deadline: int) -> Chart:
    due = sum(found.get(k, 0) for k in ("on_time", "late", "overdue"))
    on_time = found.get("on_time", 0)
    out = [(label, found.get(code, 0)) for code, label in _PROMISE_ROWS]
    out = [
        (label, n, share(n, due) if code in ("on_time", "late", "overdue") else None)
        for (code, _), (label, n) in zip(_PROMISE_ROWS, out, strict=True)
    ]
    summary = (
        f"{shown(Kind.PERCENT, share(on_time, due))} of submissions due an answer were "
        f"answered within {deadline} working days ({on_time:,} of {due:,})."
        if due
        else "No submissions in the period have reached their first-response deadline yet."
    )
    return Chart(
        slug="first-response",
        title=f"First response within {deadline} working days",
        summary=summary,
        columns=[
            Column("outcome", "Outcome"),
            Column("count", "Opportunities", Kind.COUNT),
            Column("share", "Share of those due (%)", Kind.PERCENT),
        ],
        rows=out,
        visual=Visual("bar", "outcome", ("count",), horizontal=True),
        definition=[
            "Opportunities: ddi.fact_opportunity rows whose submitted_date_key falls in the "
            "period.",
            "First response: the first day in triage (fact_opportunity.triaged_date_key) or, "
            "for an opportunity rejected or merged without triage, the day it was closed "
            "(closed_date_key). Withdrawn before triage: the submitter's own move, not an "
            "answer.",
            f"Deadline: {deadline} working days (Monday to Friday) after the submission day, "
            "the board's current setting (bank holidays are not counted, as on the board).",
            "Share of those due: answered on time ÷ (answered on time + answered late + still "
            "waiting past the deadline).",
        ],
        filters_applied=f"Submitted {ctx.describe()}.",
    )


def _overdue(rows: list[list], applied: str, deadline: int, update_months: int) -> Chart:
    names = person_names([key for key, _, _ in rows if key])
    out = sorted(
        (
            (names.get(key, "Another person") if key else NO_OWNER, first, update, first + update)
            for key, first, update in rows
        ),
        key=lambda r: (-r[3], r[0]),
    )
    merged: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for label, first, update, total in out:
        merged[label][0] += first
        merged[label][1] += update
        merged[label][2] += total
    out = sorted(((k, *v) for k, v in merged.items()), key=lambda r: (-r[3], r[0]))
    total = sum(r[3] for r in out)
    named = [r for r in out if r[0] != NO_OWNER]
    unowned = next((r[3] for r in out if r[0] == NO_OWNER), 0)
    summary = (
        f"{plural(total, 'open opportunity is', 'open opportunities are')} overdue a first "
        f"response or an update: {unowned:,} with no owner yet"
        + (f", and the most with one owner ({named[0][3]:,}) with {named[0][0]}." if named else ".")
        if total
        else "No open opportunities are overdue a first response or an update."
    )
    return Chart(
        slug="overdue-by-owner",
        title="Overdue items by owner",
        summary=summary,
        columns=[
            Column("owner", "Owner"),
            Column("first_response", "First response overdue", Kind.COUNT),
            Column("update", "Update overdue", Kind.COUNT),
            Column("total", "Total overdue", Kind.COUNT),
        ],
        rows=out,
        visual=Visual("bar", "owner", ("first_response", "update"), horizontal=True, stacked=True),
        definition=[
            "Open: ddi.fact_opportunity rows whose current status has dim_status.is_open; "
            "owner: owner_person_key (the CI team owner), named here when they are a member of "
            "the CI team or an administrator, otherwise shown as “Another person”.",
            f"First response overdue: still submitted more than {deadline} working days after "
            "the submission day.",
            f"Update overdue: in any other open state, and its latest status change "
            f"(fact_opportunity.status_since_date_key, the last ddi.fact_status_change) came "
            f"before the day {update_months} month{'s' if update_months != 1 else ''} before "
            "the batch's day (UK time).",
        ],
        notes=[
            "Comments to the submitter reset the portal's update clock but are not in the DDI "
            "schema, so this may count as overdue an item that had a comment but no status "
            "change."
        ],
        filters_applied=applied,
    )
