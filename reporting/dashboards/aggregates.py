"""The dashboards' aggregate tables (schema ``dash``), rebuilt from ``ddi`` after each batch.

A cold section over a million opportunities took seconds: every figure scanned
``fact_opportunity``. These tables hold the same figures already counted and summed by
*slice* (department, journey, DNA theme, each also rolled up to "every", stored as key 0) and
by the day the figure is dated by, so a section reads a few thousand rows whatever the
filters. Each table's rows are defined here from the ``ddi`` rows; the sections keep their
original statements over ``ddi`` (the figures' definitions, used when the aggregates are not
built for the batch on show) and the tests run every hand-computed figure both ways.

Each table has two generations (``dash.submitted_0`` and ``_1``, …). One transaction empties
the generation not on show, loads and indexes it, and points ``dash.built`` at it; a reader's
snapshot sees one ``dash.built`` row, so it reads one whole generation, and ``dash.built`` says
which batch (and which board settings) it came from. An EXCLUSIVE lock on ``dash.built``
(readers' ACCESS SHARE is not blocked) keeps two builds from running at once.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import OperationalError, connections, transaction

from reporting.dashboards.selectors.base import key_to_date, working_days_sql
from reporting.dashboards.selectors.flow import (
    AGE_BUCKETS,
    CYCLE_DAYS,
    promise_outcome_sql,
    recent_change_sql,
    time_in_delivery_sql,
)
from reporting.dashboards.selectors.pipeline import POSITIONS_CTE, furthest_sql, rejections_sql
from reporting.dashboards.selectors.value import assessors_sql
from reporting.services.transforms import FACT_TABLES
from synergy_portal.db.routers import REPORTING_ALIAS

logger = logging.getLogger(__name__)

# Bumped when the aggregates' definitions change, so a deploy rebuilds them instead of
# carrying the old ones over to a batch that changed nothing.
VERSION = 1
# The indexes each table gets after loading: the slice columns in the orders the sections'
# statements ask for them (equal on two, every value of the third, or equal on all three).
BY_JOURNEY = ("theme_key", "department_key", "journey_key")
BY_DEPARTMENT = ("theme_key", "journey_key", "department_key")
BY_THEME = ("department_key", "journey_key", "theme_key")
INDEXES: dict[str, tuple[tuple[str, ...], ...]] = {
    "submitted": ((*BY_JOURNEY, "date_key"), BY_DEPARTMENT, BY_THEME),
    "delivered": ((*BY_JOURNEY, "date_key"), BY_THEME),
    "lags": ((*BY_JOURNEY, "measure", "date_key"),),
    "open": (BY_JOURNEY, BY_DEPARTMENT, BY_THEME),
    "overdue": (BY_JOURNEY,),
    "applications": (BY_JOURNEY,),
    "calibrated": (BY_JOURNEY,),
    "benefits": ((*BY_JOURNEY, "date_key"),),
    "engaged": (BY_JOURNEY,),
    "supported": (BY_JOURNEY,),
}
TABLES = (
    "submitted",
    "delivered",
    "lags",
    "open",
    "overdue",
    "applications",
    "calibrated",
    "benefits",
    "engaged",
    "supported",
)


class AggregatesBusyError(RuntimeError):
    """Another build holds the lock; try again when it is done (it may be for an older
    batch)."""


@dataclass(frozen=True)
class Built:
    batch_id: str
    seconds: float
    rows: dict[str, int]
    # Relabelled for a batch that changed nothing, not rebuilt.
    carried: bool = False


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
        for index, (_, low, high) in enumerate(AGE_BUCKETS)
    )
    return f"CASE WHEN s.is_open THEN CASE {whens} END END"


def _base_sql() -> str:
    """One row per opportunity and slice theme (0, then each of its DNA themes), with every
    value a figure is computed from, worked out once."""
    submitted_day = key_to_date("f.submitted_date_key")
    wd_waiting = working_days_sql(submitted_day, "%(as_of)s::date")
    calibrated = (
        "(SELECT opportunity_id FROM fact_opportunity WHERE delivered_date_key IS NOT NULL "
        "AND realised_cash_per_year IS NOT NULL AND estimated_cash_per_year > 0)"
    )
    return f"""
CREATE TEMP TABLE dash_base ON COMMIT DROP AS
WITH {POSITIONS_CTE}, cycles AS (
    {time_in_delivery_sql()}
), rejections AS (
    {rejections_sql("fact_opportunity")}
), assessors AS (
    {assessors_sql(calibrated)}
), o AS (
    SELECT f.opportunity_id, f.department_key, f.journey_key, f.step_key, f.status_key,
           s.is_open, f.submitted_date_key, f.triaged_date_key, f.delivered_date_key,
           f.days_submitted_to_triage, f.days_submitted_to_delivered,
           f.days_backlog_to_delivered, f.estimated_cash_per_year, f.realised_cash_per_year,
           f.realised_hours_per_year, f.impact, f.owner_person_key, f.hours_per_year,
           f.submitter_person_key, f.supporters, f.reference, f.title, f.is_restricted,
           f.realised_cash_per_year IS NOT NULL AND f.estimated_cash_per_year > 0
               AS calibrated,
           a.actor_person_key AS assessor_person_key,
           {furthest_sql("s")} AS position,
           CASE WHEN r.opportunity_id IS NOT NULL
                THEN coalesce(nullif(btrim(r.reason), ''), '') END AS reason,
           {promise_outcome_sql()} AS outcome,
           {_age_bucket()} AS age_bucket,
           s.is_open AND s.status_code = 'submitted' AND {wd_waiting} > %(deadline)s
               AS first_response_overdue,
           s.is_open AND s.status_code <> 'submitted' AND NOT {recent_change_sql()} AS update_overdue,
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
    LEFT JOIN assessors a ON a.opportunity_id = f.opportunity_id
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


@dataclass(frozen=True)
class Aggregate:
    """One ``dash`` table: its columns (each with the expression it is grouped by) and its
    measures (each with its expression and how partial results combine: sum or max)."""

    table: str
    dims: tuple[tuple[str, str], ...]
    measures: tuple[tuple[str, str, str], ...]
    source: str = "dash_base"
    where: str = "TRUE"
    # Count by theme, department and journey first, then roll those rows up into every slice
    # (a count or a sum adds up, a latest day takes the max): quicker when the first stage
    # has far fewer rows than the source (people, applications), slower when it has not.
    two_stage: bool = False

    def sql(self) -> str:
        dims = ", ".join(f"{expr} AS {column}" for column, expr in self.dims)
        names = ", ".join(column for column, _ in self.dims)
        columns = ", ".join(column for column, _, _ in self.measures)
        insert = (
            f"INSERT INTO dash.{self.table}_{{generation}} (theme_key, department_key, journey_key, {names}, "
            f"{columns}) "
        )
        if not self.two_stage:
            measures = ", ".join(expr for _, expr, _ in self.measures)
            group = ", ".join(expr for _, expr in self.dims)
            return (
                f"{insert}SELECT {_SLICE}, {dims}, {measures} FROM {self.source} "
                f"WHERE {self.where} GROUP BY theme_key, {group}, {_SETS}"
            )
        measures = ", ".join(f"{expr} AS {column}" for column, expr, _ in self.measures)
        positions = ", ".join(str(i) for i in range(1, 4 + len(self.dims)))
        combined = ", ".join(f"{how}({column})" for column, _, how in self.measures)
        return (
            f"{insert}SELECT {_SLICE}, {names}, {combined} FROM ("
            f"SELECT theme_key, department_key, journey_key, {dims}, {measures} "
            f"FROM {self.source} WHERE {self.where} GROUP BY {positions}) g "
            f"GROUP BY theme_key, {names}, {_SETS}"
        )


AGGREGATES: tuple[Aggregate, ...] = (
    Aggregate(
        "submitted",
        (
            ("date_key", "submitted_date_key"),
            ("status_key", "status_key"),
            ("position", "position"),
            ("outcome", "outcome"),
            ("reason", "reason"),
        ),
        (("n", "count(*)", "sum"),),
    ),
    Aggregate(
        "delivered",
        (
            ("date_key", "delivered_date_key"),
            ("sized", "sized"),
            ("cycle", "cycle"),
            ("planned", "planned"),
            ("by_end", "by_end"),
        ),
        (
            ("n", "count(*)", "sum"),
            ("recorded", "count(realised_cash_per_year)", "sum"),
            ("estimated_hours", "sum(hours_per_year)", "sum"),
            ("estimated_cash", "sum(estimated_cash_per_year)", "sum"),
            ("realised_cash", "sum(realised_cash_per_year)", "sum"),
            ("realised_hours", "sum(realised_hours_per_year)", "sum"),
        ),
        where="delivered_date_key IS NOT NULL",
    ),
    Aggregate(
        "lags",
        (("measure", "m.measure"), ("date_key", "m.date_key"), ("days", "m.days")),
        (("n", "count(*)", "sum"),),
        source="dash_base CROSS JOIN LATERAL (VALUES "
        "('st', triaged_date_key, days_submitted_to_triage), "
        "('sd', delivered_date_key, days_submitted_to_delivered), "
        "('bd', delivered_date_key, days_backlog_to_delivered)) AS m (measure, date_key, days)",
        where="m.date_key IS NOT NULL AND m.days IS NOT NULL",
    ),
    Aggregate(
        "open",
        (("status_key", "status_key"), ("age_bucket", "age_bucket"), ("step_key", "step_key")),
        (
            ("n", "count(*)", "sum"),
            ("impact", "sum(impact)", "sum"),
            ("scored", "count(impact)", "sum"),
        ),
        where="is_open",
        two_stage=True,
    ),
    Aggregate(
        "overdue",
        (("owner_person_key", "owner_person_key"),),
        (
            ("first_response", "count(*) FILTER (WHERE first_response_overdue)", "sum"),
            ("update_due", "count(*) FILTER (WHERE update_overdue)", "sum"),
        ),
        where="first_response_overdue OR update_overdue",
        two_stage=True,
    ),
    Aggregate(
        "applications",
        (
            ("application_id", "b.application_id"),
            ("name", "coalesce(cur.name, v.name)"),
            ("debt", "coalesce(cur.debt_rating, v.debt_rating)"),
            ("lifecycle", "coalesce(cur.lifecycle, 'deleted')"),
        ),
        (
            ("n", "count(*)", "sum"),
            ("impact", "coalesce(sum(o.impact * b.weight), 0)", "sum"),
        ),
        source="dash_base o "
        "JOIN bridge_opportunity_application b ON b.opportunity_id = o.opportunity_id "
        "JOIN dim_application v ON v.application_key = b.application_key "
        "LEFT JOIN dim_application cur ON cur.application_id = b.application_id "
        "AND cur.is_current",
        where="o.is_open",
        two_stage=True,
    ),
    Aggregate(
        "calibrated",
        (
            ("date_key", "delivered_date_key"),
            ("assessor_person_key", "assessor_person_key"),
            ("row_theme_key", "t.row_theme_key"),
        ),
        (
            ("n", "count(*)", "sum"),
            ("estimated_cash", "sum(estimated_cash_per_year)", "sum"),
            ("realised_cash", "sum(realised_cash_per_year)", "sum"),
        ),
        source="dash_base o CROSS JOIN LATERAL ("
        "SELECT 0::bigint AS row_theme_key UNION ALL SELECT b.dna_theme_key "
        "FROM bridge_opportunity_dna_theme b WHERE b.opportunity_id = o.opportunity_id) t",
        where="delivered_date_key IS NOT NULL AND calibrated",
    ),
    Aggregate(
        "benefits",
        (("date_key", "b.realised_date_key"),),
        (
            ("n", "count(*)", "sum"),
            ("cash", "sum(b.cash_per_year)", "sum"),
            ("hours", "sum(b.hours_per_year)", "sum"),
        ),
        source="dash_base o JOIN fact_benefit b ON b.opportunity_id = o.opportunity_id",
    ),
)
# Each table's statement, with {generation} to fill in.
INSERTS: dict[str, str] = {
    **{aggregate.table: aggregate.sql() for aggregate in AGGREGATES},
    # Each person's days of submitting and of supporting, by theme, department and journey:
    # whether they took part in any period is two binary searches (width_bucket); not rolled
    # up, as a person counts once however many slices they appear in.
    "engaged": (
        "INSERT INTO dash.engaged_{generation} (theme_key, department_key, journey_key, "
        "person_key, submitted, days) "
        "SELECT theme_key, department_key, journey_key, person, submitted, "
        "array_agg(DISTINCT day ORDER BY day) FROM ("
        "SELECT theme_key, department_key, journey_key, submitter_person_key AS person, "
        "submitted_date_key AS day, true AS submitted FROM dash_base "
        "WHERE submitter_person_key IS NOT NULL AND submitted_date_key IS NOT NULL "
        "UNION ALL SELECT o.theme_key, o.department_key, o.journey_key, s.person_key, "
        "s.date_key, false FROM dash_base o "
        "JOIN fact_support s ON s.opportunity_id = o.opportunity_id "
        "WHERE s.person_key IS NOT NULL) e "
        "GROUP BY 1, 2, 3, 4, 5"
    ),
    # The most supported open opportunities of each department, journey and theme: those of
    # any wider slice are among them.
    "supported": (
        "INSERT INTO dash.supported_{generation} (theme_key, department_key, journey_key, opportunity_id, "
        "reference, title, status_key, supporters, impact, is_restricted) "
        "SELECT theme_key, department_key, journey_key, opportunity_id, reference, title, "
        "status_key, supporters, impact, is_restricted FROM ("
        "SELECT o.*, row_number() OVER (PARTITION BY theme_key, department_key, journey_key "
        "ORDER BY supporters DESC, reference) AS rank "
        "FROM dash_base o WHERE is_open AND supporters > 0) t "
        "WHERE rank <= %(top_supported)s"
    ),
}


def _top_supported() -> dict[str, Any]:
    from reporting.dashboards.selectors.engagement import TOP_SUPPORTED

    return {"top_supported": TOP_SUPPORTED}


def _latest(cursor: Any) -> tuple[str, Any] | None:
    # The batch's day as the dashboards read it (base.batch_latest).
    cursor.execute(
        """SELECT batch_id::text, coalesce(as_of, (finished_at AT TIME ZONE 'UTC')::date)
           FROM etl_batch WHERE state = 'succeeded' ORDER BY finished_at DESC LIMIT 1"""
    )
    row = cursor.fetchone()
    return (row[0], row[1]) if row else None


# The dimension attributes the aggregates copy (or compute with): a batch can change them
# without counting a row (a dimension row deleted), so carrying over also needs them unchanged.
FINGERPRINT_SQL = f"""
SELECT md5(concat_ws('|', {VERSION},
    (SELECT string_agg(concat_ws(',', application_key, application_id, name, debt_rating,
                                 lifecycle, is_current), ';' ORDER BY application_key)
     FROM dim_application),
    (SELECT string_agg(concat_ws(',', delivery_cycle_key, ends_date_key), ';'
                       ORDER BY delivery_cycle_key) FROM dim_delivery_cycle),
    (SELECT string_agg(concat_ws(',', status_key, status_code, workflow_position, is_open), ';'
                       ORDER BY status_key) FROM dim_status)))"""


def _carry_over(cursor: Any, batch_id: str, clock: dict[str, int], fingerprint: str) -> bool:
    """Relabel the aggregates for ``batch_id`` when they were built by this code, with the
    same board settings and dimensions, and every batch since wrote nothing (a 15-minute
    refresh when nobody changed anything) for the same day: their figures are then those of
    ``batch_id``."""
    cursor.execute(
        """UPDATE dash.built d SET batch_id = %s, built_at = now()
           FROM etl_batch p
           WHERE p.batch_id = d.batch_id AND d.settings = %s::jsonb AND d.fingerprint = %s
             AND NOT EXISTS (
                 SELECT 1 FROM etl_batch b
                 WHERE b.state = 'succeeded' AND b.finished_at > p.finished_at
                   AND (b.as_of IS DISTINCT FROM p.as_of OR EXISTS (
                        SELECT 1 FROM jsonb_each_text(b.rows) r WHERE r.value <> '0')))""",
        [batch_id, json.dumps(clock), fingerprint],
    )
    return cursor.rowcount == 1


def aggregates_build(*, force: bool = False) -> Built | None:
    """Rebuild the aggregates from the latest successful batch; None when there is no batch
    or they are already built for it (unless ``force``). Raises AggregatesBusyError when
    another build holds the lock."""
    started = time.perf_counter()
    clock = clock_settings()
    connection = connections[REPORTING_ALIAS]
    nested = connection.in_atomic_block
    with transaction.atomic(using=REPORTING_ALIAS), connection.cursor() as cursor:
        # One snapshot for the whole build, so an incremental batch committing meanwhile
        # cannot mix two batches' rows. Before it is taken, share-lock every fact table at
        # once, in the order a full extract truncates them: a full extract running now is
        # waited for (its TRUNCATE would empty the tables under an older snapshot), and one
        # starting mid-build waits for the build, neither holding a table the other needs.
        # The builds' own mutex comes first, also before the snapshot: a build that got it
        # after another committed sees that build's dash.built.
        if not nested:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        try:
            cursor.execute("LOCK TABLE dash.built IN EXCLUSIVE MODE NOWAIT")
        except OperationalError as exc:
            raise AggregatesBusyError(
                "Another build of the dashboards' aggregates is running"
            ) from exc
        cursor.execute(f"LOCK TABLE {', '.join(FACT_TABLES)} IN ACCESS SHARE MODE")
        latest = _latest(cursor)
        if latest is None:
            return None
        batch_id, as_of = latest
        cursor.execute("SELECT settings FROM dash.built WHERE batch_id = %s", [batch_id])
        found = cursor.fetchone()
        built = json.loads(found[0]) if found and isinstance(found[0], str) else found and found[0]
        if found is not None and built == clock and not force:
            return None
        cursor.execute(FINGERPRINT_SQL)
        fingerprint = cursor.fetchone()[0]
        if not force and _carry_over(cursor, batch_id, clock, fingerprint):
            seconds = time.perf_counter() - started
            logger.info("Dashboard aggregates carried over to batch %s (nothing changed)", batch_id)
            return Built(batch_id, seconds, {}, carried=True)
        cursor.execute(
            "SELECT set_config('jit', 'off', true), set_config('work_mem', %s, true)",
            [getattr(settings, "REPORTING_EXTRACT_WORK_MEM", "128MB")],
        )
        params = {**clock, "as_of": as_of, "tz": settings.TIME_ZONE, **_top_supported()}
        cursor.execute("DROP TABLE IF EXISTS pg_temp.dash_base")
        step = time.perf_counter()
        cursor.execute(_base_sql(), params)
        cursor.execute("ANALYZE dash_base")
        steps = {"base": round(time.perf_counter() - step, 2)}
        cursor.execute("SELECT generation FROM dash.built")
        current = cursor.fetchone()
        generation = 1 - current[0] if current else 0
        rows: dict[str, int] = {}
        for table in TABLES:
            step = time.perf_counter()
            name = f"dash.{table}_{generation}"
            # Not on show (dash.built names the other generation): emptied, loaded, indexed.
            cursor.execute(f"TRUNCATE {name}")
            for index in range(len(INDEXES[table])):
                cursor.execute(f"DROP INDEX IF EXISTS {name}_{index}")
            cursor.execute(INSERTS[table].format(generation=generation), params)
            rows[table] = cursor.rowcount
            for index, columns in enumerate(INDEXES[table]):
                cursor.execute(
                    f"CREATE INDEX {table}_{generation}_{index} ON {name} ({', '.join(columns)})"
                )
            cursor.execute(f"ANALYZE {name}")
            steps[table] = round(time.perf_counter() - step, 2)
        logger.info("Dashboard aggregates: seconds per step %s", steps)
        cursor.execute("DROP TABLE dash_base")
        cursor.execute("DELETE FROM dash.built")
        seconds = time.perf_counter() - started
        # The first day any benefit was realised: where the cumulative benefit chart starts
        # when the period is all time.
        cursor.execute(
            "INSERT INTO dash.built (batch_id, built_at, seconds, settings, row_counts, "
            "generation, fingerprint, first_benefit_date_key) "
            "SELECT %s, now(), %s, %s, %s, %s, %s, (SELECT min(d.date_key) FROM fact_benefit b "
            "JOIN dim_date d ON d.date_key = b.realised_date_key)",
            [batch_id, seconds, json.dumps(clock), json.dumps(rows), generation, fingerprint],
        )
    seconds = time.perf_counter() - started
    logger.info("Dashboard aggregates built for batch %s in %.1f s: %s", batch_id, seconds, rows)
    return Built(batch_id, seconds, rows)
