"""The dashboards' aggregates (schema dash): every section reads the same figures from them as
from the ddi tables, for every combination of filters, and they are only used for the batch
(and the board settings) they were built from."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connections
from django.http import QueryDict

from reporting.dashboards.aggregates import TABLES, aggregates_build, clock_settings
from reporting.dashboards.filters import DashboardFilterForm
from reporting.dashboards.selectors import SECTIONS
from reporting.dashboards.selectors.base import (
    Context,
    batch_latest,
    filter_options,
    reporting_snapshot,
)
from reporting.models import SCHEMA_VERSION, EtlBatch, FactOpportunity
from tests.reporting.test_dashboards_dataset import (
    AS_OF,
    CI_STANDARD,
    CRIME,
    CUSTODY,
    CUSTODY_JOURNEY,
    DATA_FIRST,
    PERIOD,
    RESPONSE,
    build_dataset,
)

pytestmark = pytest.mark.django_db(databases=["default", "reporting"])

PERIODS = [
    PERIOD,
    {"period": "all"},
    {"period": "fq"},
    {"period": "lfq"},
    {"period": "lfy"},
    {"period": "custom", "from": "2026-06-01"},
    {"period": "custom", "to": "2026-03-31"},
    {"period": "custom", "from": "2026-02-01", "to": "2026-04-30"},
]
DEPARTMENTS = [None, RESPONSE, CUSTODY]
JOURNEYS = [None, CRIME, CUSTODY_JOURNEY]
THEMES = [None, DATA_FIRST, CI_STANDARD]


def _figures(ctx: Context, slug: str) -> list[tuple[str, list[tuple[Any, ...]]]]:
    section = SECTIONS[slug].build(ctx)
    return [(chart.slug, chart.rows) for chart in section.charts]


@pytest.fixture
def dataset(settings: Any) -> Any:
    settings.DASHBOARD_CACHE_SECONDS = 0
    data = build_dataset()
    # Opportunities with no department and no journey, which the slices keep apart from the
    # rolled-up "every" rows.
    FactOpportunity.objects.filter(opportunity_id=data.opportunities["O8"]).update(
        department_key=None
    )
    FactOpportunity.objects.filter(opportunity_id=data.opportunities["O7"]).update(
        journey_key=None, department_key=None
    )
    return data


def test_every_filter_combination_reads_the_same_figures_from_the_aggregates(
    dataset: Any,
) -> None:
    built = aggregates_build()
    assert built is not None and all(built.rows[table] > 0 for table in TABLES)
    compared = 0
    with reporting_snapshot() as cursor:
        batch = batch_latest(cursor)
        assert batch is not None and batch.aggregated is not None
        options = filter_options(cursor)
        for period, department, journey, theme in itertools.product(
            PERIODS, DEPARTMENTS, JOURNEYS, THEMES
        ):
            query = QueryDict(mutable=True)
            query.update(period)
            for name, value in (("department", department), ("journey", journey)):
                if value is not None:
                    query[name] = str(value)
            if theme is not None:
                query["theme"] = str(theme)
            filters = DashboardFilterForm(query, options=options, as_of=batch.as_of).filters()
            fast = Context(cursor, filters, options, batch)
            slow = Context(cursor, filters, options, replace(batch, aggregated=None))
            assert fast.aggregated() and not slow.aggregated()
            for slug in SECTIONS:
                assert _figures(fast, slug) == _figures(slow, slug), (slug, dict(query))
                compared += 1
    assert compared == len(PERIODS) * 27 * len(SECTIONS)


def _batch(minute: int | datetime, **fields: Any) -> EtlBatch:
    """A succeeded refresh batch that finished at ``minute`` past 06:00 on the dataset's day
    (or at a given time), after a minute's run."""
    finished = (
        minute if isinstance(minute, datetime) else datetime(2026, 6, 15, 6, minute, tzinfo=UTC)
    )
    return EtlBatch.objects.create(
        batch_id=uuid.uuid4(),
        kind=EtlBatch.Kind.REFRESH,
        state=EtlBatch.State.SUCCEEDED,
        as_of=fields.pop("as_of", AS_OF),
        schema_version=SCHEMA_VERSION,
        started_at=finished - timedelta(minutes=1),
        finished_at=finished,
        **fields,
    )


def _shown() -> Any:
    with reporting_snapshot() as cursor:
        return batch_latest(cursor)


def _count(table: str) -> int:
    with connections["reporting"].cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM dash.{table}")
        return cursor.fetchone()[0]


def test_the_aggregates_are_used_only_for_the_batch_they_were_built_from(dataset: Any) -> None:
    assert aggregates_build() is not None
    first = _shown().generation
    assert first in (0, 1) and _count(f"submitted_{first}") > 0
    # Built already for this batch and these board settings: nothing to do.
    assert aggregates_build() is None

    changed = _batch(15, rows={"fact_opportunity": 1, "touched_opportunities": 1})
    batch = _shown()
    assert batch.batch_id == str(changed.batch_id) and batch.aggregated is None
    built = aggregates_build()
    assert built is not None and built.batch_id == str(changed.batch_id) and not built.carried
    assert _shown().aggregated == clock_settings()
    # The new generation is on show; the one shown before is kept until the next build.
    assert _shown().generation == 1 - first
    assert _count("submitted_1") == _count("submitted_0") > 0
    with connections["reporting"].cursor() as cursor:
        cursor.execute("SELECT batch_id::text FROM dash.built")
        assert cursor.fetchall() == [(str(changed.batch_id),)]

    # A refresh that wrote nothing, on the same day: the aggregates are relabelled.
    quiet = _batch(30, rows={"dim_date": 0, "touched_opportunities": 0})
    built = aggregates_build()
    assert built is not None and built.carried and built.batch_id == str(quiet.batch_id)
    assert _shown().aggregated == clock_settings() and _shown().generation == 1 - first

    # The next day nothing changed either, but ages and deadlines moved on: rebuilt.
    tomorrow = _batch(45, rows={"touched_opportunities": 0}, as_of=AS_OF + timedelta(days=1))
    built = aggregates_build()
    assert built is not None and not built.carried and built.batch_id == str(tomorrow.batch_id)
    assert _shown().generation == first


def test_new_board_settings_rebuild_what_depends_on_them(dataset: Any) -> None:
    from opportunities.models import BoardSettings

    assert aggregates_build() is not None
    before = clock_settings()
    BoardSettings.objects.create(first_response_working_days=1)
    after = clock_settings()
    assert after == {**before, "deadline": 1}
    with reporting_snapshot() as cursor:
        batch = batch_latest(cursor)
        options = filter_options(cursor)
        filters = DashboardFilterForm(
            QueryDict("period=all"), options=options, as_of=batch.as_of
        ).filters()
        ctx = Context(cursor, filters, options, batch)
        # Flow's promise depends on the deadline: until the rebuild it reads the ddi tables.
        assert ctx.aggregated() and ctx.aggregated(before) and not ctx.aggregated(after)
    built = aggregates_build()
    assert built is not None
    with reporting_snapshot() as cursor:
        assert batch_latest(cursor).aggregated == after


def test_a_second_build_waits_for_the_first(dataset: Any) -> None:
    import psycopg

    from reporting.dashboards.aggregates import AggregatesBusyError

    params = connections["reporting"].get_connection_params()
    with psycopg.connect(**params) as other:
        # What a build running in another worker holds until it commits.
        other.execute("SET search_path TO ddi")
        other.execute("LOCK TABLE dash.built IN EXCLUSIVE MODE")
        with pytest.raises(AggregatesBusyError):
            aggregates_build()
        # Readers are not held up meanwhile.
        assert _shown() is not None
        other.rollback()
    assert aggregates_build() is not None


@pytest.mark.django_db(transaction=True, databases=["default", "reporting"])
def test_an_extract_run_by_hand_builds_the_aggregates_after_its_batch(settings: Any) -> None:
    from io import StringIO

    from django.core.management import call_command

    from tests.reporting.factories import build_force

    settings.DASHBOARD_CACHE_SECONDS = 0
    build_force()
    out = StringIO()
    call_command("run_extract", "--no-files", "--no-aggregates", stdout=out)
    assert "Dashboard aggregates" not in out.getvalue()
    assert _shown().aggregated is None

    call_command("run_extract", "--no-files", stdout=out)
    assert "Dashboard aggregates built in" in out.getvalue()
    shown = _shown()
    assert shown.aggregated == clock_settings()
    with connections["reporting"].cursor() as cursor:
        cursor.execute("SELECT batch_id::text FROM dash.built")
        assert cursor.fetchone()[0] == shown.batch_id


def test_a_batch_just_landed_shows_the_one_before_until_its_aggregates_are_built(
    dataset: Any,
) -> None:
    from django.test import Client
    from django.utils import timezone

    from reporting.dashboards.selectors.base import BUILD_GRACE_MINUTES
    from synergy_portal.models import Role
    from tests.synergy_portal.factories import UserFactory

    assert aggregates_build() is not None
    before = _shown()
    now = timezone.now()
    # The aggregates were built for a batch that finished five minutes before the new one.
    EtlBatch.objects.filter(batch_id=before.batch_id).update(finished_at=now - timedelta(minutes=6))
    newer = _batch(now - timedelta(minutes=1), rows={"touched_opportunities": 3})
    shown = _shown()
    assert shown.batch_id == before.batch_id and shown.stand_in and shown.aggregated
    client = Client()
    client.force_login(UserFactory(roles={Role.MANAGER}))
    page = client.get("/dashboards/flow/?period=all").content.decode()
    assert "a newer batch has just landed" in page and before.batch_id[:8] in page

    # Once the new batch's aggregates are built, it is shown.
    assert aggregates_build() is not None
    shown = _shown()
    assert shown.batch_id == str(newer.batch_id) and not shown.stand_in

    # Builds that keep failing are not hidden behind an old batch: once the latest batch is
    # older than the grace period, it is shown (from the ddi tables).
    EtlBatch.objects.filter(batch_id=before.batch_id).update(
        finished_at=now - timedelta(minutes=40)
    )
    EtlBatch.objects.filter(batch_id=newer.batch_id).update(finished_at=now - timedelta(minutes=30))
    latest = _batch(
        now - timedelta(minutes=BUILD_GRACE_MINUTES + 2), rows={"touched_opportunities": 1}
    )
    shown = _shown()
    assert shown.batch_id == str(latest.batch_id) and shown.aggregated is None


def test_the_warm_up_task_retries_a_busy_build_and_survives_a_failed_one(
    dataset: Any, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    import psycopg

    from reporting.dashboards import tasks

    settings.DASHBOARD_CACHE_SECONDS = 60
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    params = connections["reporting"].get_connection_params()
    with psycopg.connect(**params) as other:
        other.execute("LOCK TABLE dash.built IN EXCLUSIVE MODE")
        # Another build holds the lock: the task runs again after it (at once here, run
        # eagerly), and when its retries are spent it still computes the usual views.
        with caplog.at_level(logging.INFO):
            result = tasks.dashboards_warm_task.apply()
        retries = [r for r in caplog.records if "Retry in 30s" in r.getMessage()]
        assert len(retries) == tasks.BUSY_RETRIES
        assert result.get() == 2 * len(SECTIONS)
        other.rollback()
    assert _shown().aggregated is None

    # A build that fails outright (here: a reader still on the generation it must empty,
    # and a lock timeout) is logged; the usual views are still computed, from ddi.
    with psycopg.connect(**params) as other:
        other.execute("LOCK TABLE dash.submitted_0 IN ACCESS SHARE MODE")
        with connections["reporting"].cursor() as cursor:
            cursor.execute("SET lock_timeout = '200ms'")
        caplog.clear()
        with caplog.at_level(logging.ERROR):
            result = tasks.dashboards_warm_task.apply()
        assert result.state == "SUCCESS" and result.get() == 2 * len(SECTIONS)
        assert any("could not be built" in r.getMessage() for r in caplog.records)
        other.rollback()
    assert _shown().aggregated is None
