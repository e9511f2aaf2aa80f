"""The dashboards' aggregate tables (schema ``dash``), rebuilt from ``ddi`` after each batch.

A cold section over a million opportunities took seconds: every figure scanned
``fact_opportunity``. These tables hold the same figures already counted and summed by
*slice* (department, journey, DNA theme, each also rolled up to "every", stored as key 0) and
by the day the figure is dated by, so a section reads a few thousand rows whatever the
filters. Each table's rows are defined here from the ``ddi`` rows; the sections keep their
original statements over ``ddi`` (the figures' definitions, used when the aggregates are not
built for the batch on show) and the tests run every hand-computed figure both ways.

One transaction deletes the previous rows and writes the new ones, so a reader's snapshot sees
exactly one generation, and ``dash.built`` says which batch (and which board settings) it came
from. A transaction-level advisory lock keeps two builds from running at once.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connections, transaction

from reporting.dashboards.selectors.base import key_to_date, working_days_sql
from synergy_portal.db.routers import REPORTING_ALIAS

logger = logging.getLogger(__name__)

# pg_advisory_xact_lock key: "dash" in ASCII.
LOCK_KEY = 0x64617368
TABLES = ("submitted", "delivered", "lags", "open", "overdue", "applications")
AGE_BUCKETS = (
    (0, 7),
    (8, 28),
    (29, 91),
    (92, 182),
    (183, None),
)
CYCLE_DAYS = 4


@dataclass(frozen=True)
class Built:
    batch_id: str
    seconds: float
    rows: dict[str, int]


def board_clock() -> tuple[int, int]:
    """The first-response deadline (working days) and update interval (months) the board uses."""
    from opportunities.services.deadlines import board_settings

    config = board_settings()
    return config.first_response_working_days, config.update_every_months


def clock_settings() -> dict[str, int]:
    deadline, update_months = board_clock()
    return {"deadline": deadline, "update_months": update_months}


def _age_bucket() -> str:
    whens = " ".join(
        f"WHEN %(as_of)s::date - {key_to_date('f.submitted_date_key')} >= {low}"
        + (
            f" AND %(as_of)s::date - {key_to_date('f.submitted_date_key')} <= {high}"
            if high is not None
            else ""
        )
        + f" THEN {index}"
        for index, (low, high) in enumerate(AGE_BUCKETS)
    )
    return f"CASE WHEN s.is_open THEN CASE {whens} END END"


def _base_sql() -> str:
    """One row per opportunity and slice theme (0, then each of its DNA themes), with every
    value a figure is computed from, worked out once."""
    local = "AT TIME ZONE %(tz)s"
    submitted_day = key_to_date("f.submitted_date_key")
    wd_triaged = working_days_sql(submitted_day, key_to_date("f.triaged_date_key"))
    wd_closed = working_days_sql(submitted_day, key_to_date("f.closed_date_key"))
    wd_waiting = working_days_sql(submitted_day, "%(as_of)s::date")
    wd_cycle = working_days_sql(
        f"((c.changed_at - c.days_in_previous_status * interval '1 day') {local})::date",
        f"(c.changed_at {local})::date",
    )
    return f"""
CREATE TEMP TABLE dash_base ON COMMIT DROP AS
WITH pos AS (
    SELECT max(workflow_position) FILTER (WHERE status_code = 'triage') AS triage,
           max(workflow_position) FILTER (WHERE status_code = 'assessing') AS assessing,
           max(workflow_position) FILTER (WHERE status_code = 'backlog') AS backlog,
           max(workflow_position) FILTER (WHERE status_code = 'in_delivery') AS in_delivery,
           max(workflow_position) FILTER (WHERE status_code = 'delivered') AS delivered,
           max(workflow_position) FILTER (WHERE status_code = 'benefits_realised') AS benefits
    FROM dim_status
), cycles AS (
    SELECT DISTINCT ON (c.opportunity_id) c.opportunity_id, {wd_cycle} AS working_days
    FROM fact_status_change c
    WHERE c.to_status_key = (SELECT status_key FROM dim_status WHERE status_code = 'delivered')
      AND c.from_status_key = (
          SELECT status_key FROM dim_status WHERE status_code = 'in_delivery')
      AND c.days_in_previous_status IS NOT NULL
    ORDER BY c.opportunity_id, c.changed_at DESC, c.status_change_id DESC
), rejections AS (
    SELECT DISTINCT ON (c.opportunity_id) c.opportunity_id, c.reason
    FROM fact_status_change c
    JOIN fact_opportunity f ON f.opportunity_id = c.opportunity_id
     AND f.status_key = c.to_status_key
    WHERE c.to_status_key = (SELECT status_key FROM dim_status WHERE status_code = 'rejected')
    ORDER BY c.opportunity_id, c.changed_at DESC, c.status_change_id DESC
), o AS (
    SELECT f.opportunity_id, f.department_key, f.journey_key, f.step_key, f.status_key,
           s.is_open, f.submitted_date_key, f.triaged_date_key, f.delivered_date_key,
           f.days_submitted_to_triage, f.days_submitted_to_delivered,
           f.days_backlog_to_delivered, f.estimated_cash_per_year, f.realised_cash_per_year,
           f.realised_hours_per_year, f.impact, f.owner_person_key,
           coalesce(greatest(
               s.workflow_position,
               CASE WHEN f.triaged_date_key IS NOT NULL THEN pos.triage END,
               CASE WHEN f.assessing_date_key IS NOT NULL THEN pos.assessing END,
               CASE WHEN f.backlog_date_key IS NOT NULL THEN pos.backlog END,
               CASE WHEN f.in_delivery_date_key IS NOT NULL THEN pos.in_delivery END,
               CASE WHEN f.delivered_date_key IS NOT NULL THEN pos.delivered END,
               CASE WHEN f.benefits_date_key IS NOT NULL THEN pos.benefits END), 1) AS position,
           CASE WHEN r.opportunity_id IS NOT NULL
                THEN coalesce(nullif(btrim(r.reason), ''), '') END AS reason,
           CASE
               WHEN f.triaged_date_key IS NOT NULL THEN
                   CASE WHEN {wd_triaged} <= %(deadline)s THEN 'on_time' ELSE 'late' END
               WHEN s.status_code = 'withdrawn' THEN 'withdrawn'
               WHEN s.status_code IN ('rejected', 'duplicate') AND f.closed_date_key IS NOT NULL
               THEN CASE WHEN {wd_closed} <= %(deadline)s THEN 'on_time' ELSE 'late' END
               WHEN s.status_code = 'submitted' THEN
                   CASE WHEN {wd_waiting} <= %(deadline)s THEN 'waiting' ELSE 'overdue' END
               ELSE 'unknown'
           END AS outcome,
           {_age_bucket()} AS age_bucket,
           s.is_open AND s.status_code = 'submitted' AND {wd_waiting} > %(deadline)s
               AS first_response_overdue,
           s.is_open AND s.status_code <> 'submitted' AND NOT coalesce(
               f.status_since_date_key >= to_char(
                   %(as_of)s::date - make_interval(months => %(update_months)s), 'YYYYMMDD'
               )::int, false) AS update_overdue,
           CASE WHEN f.fits_two_speed THEN 'fits' WHEN NOT f.fits_two_speed THEN 'larger'
                ELSE 'unscored' END AS sized,
           CASE WHEN c.working_days <= {CYCLE_DAYS} THEN 'within'
                WHEN c.working_days > {CYCLE_DAYS} THEN 'longer' ELSE 'unknown' END AS cycle,
           dc.delivery_cycle_key IS NOT NULL AS planned,
           coalesce(f.delivered_date_key <= dc.ends_date_key, false) AS by_end
    FROM fact_opportunity f
    CROSS JOIN pos
    JOIN dim_status s ON s.status_key = f.status_key
    LEFT JOIN cycles c ON c.opportunity_id = f.opportunity_id
    LEFT JOIN rejections r ON r.opportunity_id = f.opportunity_id
    LEFT JOIN dim_delivery_cycle dc ON dc.delivery_cycle_key = f.delivery_cycle_key
)
SELECT 0::bigint AS theme_key, o.* FROM o
UNION ALL
SELECT b.dna_theme_key, o.*
FROM o JOIN bridge_opportunity_dna_theme b ON b.opportunity_id = o.opportunity_id
"""


# Every slice: department and journey, each alone, and neither (theme is always a column).
_SETS = "GROUPING SETS ((department_key, journey_key), (department_key), (journey_key), ())"
_SLICE = (
    "theme_key, "
    "CASE WHEN grouping(department_key) = 1 THEN 0 ELSE department_key END, "
    "CASE WHEN grouping(journey_key) = 1 THEN 0 ELSE journey_key END"
)


def _insert(
    table: str,
    columns: str,
    select: str,
    group: str,
    where: str = "TRUE",
    *,
    source: str = "dash_base",
) -> str:
    return (
        f"INSERT INTO dash.{table} (theme_key, department_key, journey_key, {columns}) "
        f"SELECT {_SLICE}, {select} FROM {source} WHERE {where} "
        f"GROUP BY theme_key, {group}, {_SETS}"
    )


INSERTS: dict[str, str] = {
    "submitted": _insert(
        "submitted",
        "date_key, status_key, position, outcome, reason, n",
        "submitted_date_key, status_key, position, outcome, reason, count(*)",
        "submitted_date_key, status_key, position, outcome, reason",
    ),
    "delivered": _insert(
        "delivered",
        "date_key, sized, cycle, planned, by_end, n, estimated_cash, realised_cash, realised_hours",
        "delivered_date_key, sized, cycle, planned, by_end, count(*), "
        "sum(estimated_cash_per_year), sum(realised_cash_per_year), "
        "sum(realised_hours_per_year)",
        "delivered_date_key, sized, cycle, planned, by_end",
        "delivered_date_key IS NOT NULL",
    ),
    "lags": _insert(
        "lags",
        "measure, date_key, days, n",
        "m.measure, m.date_key, m.days, count(*)",
        "m.measure, m.date_key, m.days",
        source="dash_base CROSS JOIN LATERAL (VALUES "
        "('st', triaged_date_key, days_submitted_to_triage), "
        "('sd', delivered_date_key, days_submitted_to_delivered), "
        "('bd', delivered_date_key, days_backlog_to_delivered)) AS m (measure, date_key, days)",
        where="m.date_key IS NOT NULL AND m.days IS NOT NULL",
    ),
    "open": _insert(
        "open",
        "status_key, age_bucket, step_key, n, impact, scored",
        "status_key, age_bucket, step_key, count(*), sum(impact), count(impact)",
        "status_key, age_bucket, step_key",
        "is_open",
    ),
    "overdue": _insert(
        "overdue",
        "owner_person_key, first_response, update_due",
        "owner_person_key, count(*) FILTER (WHERE first_response_overdue), "
        "count(*) FILTER (WHERE update_overdue)",
        "owner_person_key",
        "first_response_overdue OR update_overdue",
    ),
    "applications": (
        "INSERT INTO dash.applications (theme_key, department_key, journey_key, application_id, "
        "name, debt, lifecycle, n, impact) "
        f"SELECT {_SLICE}, b.application_id, coalesce(cur.name, v.name), "
        "coalesce(cur.debt_rating, v.debt_rating), coalesce(cur.lifecycle, 'deleted'), "
        "count(*), coalesce(sum(o.impact * b.weight), 0) "
        "FROM dash_base o "
        "JOIN bridge_opportunity_application b ON b.opportunity_id = o.opportunity_id "
        "JOIN dim_application v ON v.application_key = b.application_key "
        "LEFT JOIN dim_application cur ON cur.application_id = b.application_id "
        "AND cur.is_current "
        "WHERE o.is_open "
        "GROUP BY theme_key, b.application_id, coalesce(cur.name, v.name), "
        "coalesce(cur.debt_rating, v.debt_rating), coalesce(cur.lifecycle, 'deleted'), "
        f"{_SETS}"
    ),
}


def _latest(cursor: Any) -> tuple[str, Any] | None:
    cursor.execute(
        """SELECT batch_id::text, as_of FROM etl_batch WHERE state = 'succeeded'
           ORDER BY finished_at DESC LIMIT 1"""
    )
    row = cursor.fetchone()
    return (row[0], row[1]) if row else None


def aggregates_build(*, force: bool = False) -> Built | None:
    """Rebuild the aggregates from the latest successful batch; None when there is no batch,
    they are already built for it (unless ``force``), or another build holds the lock."""
    started = time.perf_counter()
    clock = clock_settings()
    connection = connections[REPORTING_ALIAS]
    with transaction.atomic(using=REPORTING_ALIAS), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK_KEY])
        if not cursor.fetchone()[0]:
            logger.info("Dashboard aggregates: another build is running")
            return None
        latest = _latest(cursor)
        if latest is None:
            return None
        batch_id, as_of = latest
        cursor.execute("SELECT settings FROM dash.built WHERE batch_id = %s", [batch_id])
        found = cursor.fetchone()
        built = json.loads(found[0]) if found and isinstance(found[0], str) else found and found[0]
        if found is not None and built == clock and not force:
            return None
        cursor.execute(
            "SELECT set_config('jit', 'off', true), set_config('work_mem', %s, true), "
            "set_config('temp_buffers', '64MB', true)",
            [getattr(settings, "REPORTING_EXTRACT_WORK_MEM", "128MB")],
        )
        params = {**clock, "as_of": as_of, "tz": settings.TIME_ZONE}
        cursor.execute("DROP TABLE IF EXISTS pg_temp.dash_base")
        cursor.execute(_base_sql(), params)
        cursor.execute("ANALYZE dash_base")
        rows: dict[str, int] = {}
        for table in TABLES:
            cursor.execute(f"DELETE FROM dash.{table}")
            cursor.execute(INSERTS[table])
            rows[table] = cursor.rowcount
        cursor.execute("DELETE FROM dash.built")
        seconds = time.perf_counter() - started
        cursor.execute(
            "INSERT INTO dash.built (batch_id, built_at, seconds, settings, row_counts) "
            "VALUES (%s, now(), %s, %s, %s)",
            [batch_id, seconds, json.dumps(clock), json.dumps(rows)],
        )
        cursor.execute("DROP TABLE dash_base")
        for table in TABLES:
            cursor.execute(f"ANALYZE dash.{table}")
    seconds = time.perf_counter() - started
    logger.info("Dashboard aggregates built for batch %s in %.1f s: %s", batch_id, seconds, rows)
    return Built(batch_id, seconds, rows)
