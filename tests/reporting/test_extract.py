"""The DDI extract: windows, merges, determinism, failure and concurrency."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import psycopg
import pytest
from django.db import connections
from django.utils import timezone

from journeys.models import Application
from opportunities.models import DeliveryCycle, Opportunity, Status, StatusChange, Support
from reporting.models import (
    BridgeOpportunityApplication,
    DimApplication,
    EtlBatch,
    FactOpportunity,
    FactOpportunityDaily,
    FactOpportunityStatusSpan,
    FactStatusChange,
    FactSupport,
)
from reporting.services import extract as extract_module
from reporting.services import load
from reporting.services.extract import ExtractBusyError, extract_run
from tests.reporting.factories import build_force, ddi_rows, run, walk
from tests.synergy_portal.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "reporting"])


def _change_everything(force) -> None:  # type: ignore[no-untyped-def]
    """One of each kind of change the incremental batch must carry."""
    opps = force.opportunities
    Opportunity.objects.filter(pk=opps["submitted"].pk).update(title="Retitled")
    Support.objects.filter(opportunity=opps["submitted"], user=force.users["ci"]).delete()
    Support.objects.create(opportunity=opps["backlog"], user=force.users["local"])
    StatusChange.objects.create(
        opportunity=opps["backlog"],
        from_status=Status.BACKLOG,
        to_status=Status.ASSESSING,
        actor=force.users["ci"],
    )
    # A new cycle, planned into: a reference-data change and an opportunity change.
    cycle = DeliveryCycle.objects.create(
        name="Cycle 8",
        starts_on=timezone.localdate() + timedelta(days=7),
        ends_on=timezone.localdate() + timedelta(days=10),
        capacity_days=Decimal("6.0"),
    )
    Opportunity.objects.filter(pk=opps["backlog"].pk).update(
        status=Status.ASSESSING, delivery_cycle=cycle
    )
    # A merge: the duplicate closes, its supports move to the target.
    Support.objects.filter(opportunity=opps["no_history"]).delete()
    moved = Support.objects.create(opportunity=opps["no_history"], user=force.users["submitter"])
    Opportunity.objects.filter(pk=opps["no_history"].pk).update(
        status=Status.DUPLICATE, merged_into=opps["submitted"]
    )
    Support.objects.filter(pk=moved.pk).update(opportunity=opps["submitted"])
    # A draft is submitted; reference data and a person change.
    walk(opps["draft"], [Status.SUBMITTED], start_days_ago=1, actor=force.users["submitter"])
    app = Application.objects.get(pk=force.apps[0].pk)
    app.debt_rating = 5
    app.save()
    force.users["local"].department = force.department
    force.users["local"].save()
    DeliveryCycle.objects.filter(pk=force.cycle.pk).update(name="Cycle 7 (renamed)")


def test_full_extract_loads_every_opportunity_that_left_draft() -> None:
    force = build_force()

    batch = run(full=True)

    assert batch.state == EtlBatch.State.SUCCEEDED
    assert batch.kind == EtlBatch.Kind.FULL
    expected = {o.pk for k, o in force.opportunities.items() if k != "draft"}
    assert set(FactOpportunity.objects.values_list("opportunity_id", flat=True)) == expected
    assert batch.rows["fact_opportunity"] == len(expected)
    assert set(FactOpportunity.objects.values_list("batch_id", flat=True)) == {batch.pk}
    delivered = FactOpportunity.objects.get(pk=force.opportunities["delivered"].pk)
    assert delivered.days_submitted_to_delivered == 40
    assert delivered.realised_cash_per_year == 2500
    assert delivered.estimated_cash_per_year is not None
    assert FactOpportunity.objects.get(pk=force.opportunities["restricted"].pk).title is None
    assert (
        FactOpportunityDaily.objects.filter(
            opportunity_id=force.opportunities["no_history"].pk
        ).count()
        == 5
    )


def test_full_then_incremental_equals_a_single_full() -> None:
    force = build_force()
    run(full=True)
    _change_everything(force)

    incremental = run()
    after_incremental = ddi_rows()
    run(full=True)

    assert incremental.kind == EtlBatch.Kind.INCREMENTAL
    assert incremental.rows["touched_opportunities"] == 4
    assert ddi_rows() == after_incremental
    assert FactOpportunity.objects.get(pk=force.opportunities["submitted"].pk).supporters == 2
    assert not FactSupport.objects.filter(
        opportunity_id=force.opportunities["no_history"].pk
    ).exists()


def test_rerunning_a_window_gives_identical_rows() -> None:
    force = build_force()
    run(full=True)
    _change_everything(force)
    first = run()
    rows = ddi_rows()

    again = run(since=first.batch_id)

    def facts(batch):  # type: ignore[no-untyped-def]
        return {k: v for k, v in batch.rows.items() if not k.startswith("dim_")}

    assert again.watermark_from == first.watermark_from
    # Facts of the window's opportunities are rewritten; dimensions had nothing left to change.
    assert facts(again) == facts(first)
    assert again.rows["dim_application"] == 0
    assert ddi_rows() == rows


def test_nothing_changed_writes_nothing() -> None:
    build_force()
    run(full=True)
    rows = ddi_rows()

    batch = run()

    assert batch.rows["touched_opportunities"] == 0
    assert not FactOpportunity.objects.filter(batch_id=batch.pk).exists()
    assert ddi_rows() == rows


def test_debt_rating_change_adds_a_version_of_the_application() -> None:
    force = build_force()
    run(full=True)
    app = Application.objects.get(pk=force.apps[0].pk)
    app.debt_rating = 5
    app.save()
    app.vendor = "New Vendor Ltd"  # type 1: rewrites every version, no new one
    app.save()
    later = force.opportunities["draft"]
    later.applications.set([app])
    walk(later, [Status.SUBMITTED], start_days_ago=-0.01, actor=force.users["submitter"])

    run()

    old, new = DimApplication.objects.filter(application_id=app.pk).order_by("valid_from")
    assert (old.debt_rating, old.is_current, new.debt_rating, new.is_current) == (2, False, 5, True)
    assert old.valid_to == new.valid_from
    assert old.valid_from.year == 1900 and new.valid_to.year == 9999
    assert {old.vendor, new.vendor} == {"New Vendor Ltd"}
    bridge = BridgeOpportunityApplication.objects.filter(application_id=app.pk)
    assert bridge.get(opportunity_id=force.opportunities["submitted"].pk).application_key == old.pk
    assert bridge.get(opportunity_id=later.pk).application_key == new.pk
    rows = ddi_rows()
    run(full=True)
    assert ddi_rows() == rows


def test_a_late_committing_transaction_is_picked_up_by_the_next_run() -> None:
    force = build_force()
    run(full=True)
    late_opp = force.opportunities["submitted"]
    settings_dict = connections["default"].settings_dict
    late = psycopg.connect(
        dbname=settings_dict["NAME"],
        user=settings_dict["USER"],
        host=settings_dict["HOST"],
        port=settings_dict["PORT"] or 5432,
    )
    try:
        # The late transaction writes first (its change-log row gets the lower id) ...
        late.execute(
            "UPDATE opportunities_opportunity SET title = 'Committed late' WHERE id = %s",
            [late_opp.pk],
        )
        late_txid = late.execute("SELECT pg_current_xact_id()::text::bigint").fetchone()[0]
        # ... another change commits, and a batch runs while the late one is still open.
        Opportunity.objects.filter(pk=force.opportunities["backlog"].pk).update(title="On time")
        during = extract_run()
        late.commit()
    finally:
        late.close()

    # The bound stops below the open transaction: its change (and any change after it) is
    # left for the next batch, not skipped.
    assert during.watermark_to <= late_txid
    assert FactOpportunity.objects.get(pk=late_opp.pk).title != "Committed late"
    after = run()
    assert after.watermark_from == during.watermark_to
    assert FactOpportunity.objects.get(pk=late_opp.pk).title == "Committed late"
    assert FactOpportunity.objects.get(pk=force.opportunities["backlog"].pk).title == "On time"


def test_a_failed_batch_leaves_the_previous_state_and_no_files(monkeypatch, extract_dir) -> None:  # type: ignore[no-untyped-def]
    force = build_force()
    good = run(full=True)
    rows = ddi_rows()
    _change_everything(force)

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(load, "spans_load", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        run()

    failed = EtlBatch.objects.first()
    assert failed.state == EtlBatch.State.FAILED
    assert failed.error == "RuntimeError: disk on fire"
    assert failed.finished_at is not None
    assert ddi_rows() == rows
    folders = {p.name for p in extract_dir.glob("*/*")}
    assert folders == {str(good.pk)}
    monkeypatch.undo()
    recovered = run()
    assert recovered.watermark_from == good.watermark_to
    assert FactOpportunity.objects.get(pk=force.opportunities["submitted"].pk).title == "Retitled"


def test_a_batch_killed_midway_is_marked_failed_by_the_next_run() -> None:
    build_force()
    orphan = EtlBatch.objects.create(kind="incremental", schema_version="1.0.0")

    run(full=True)

    orphan.refresh_from_db()
    assert orphan.state == EtlBatch.State.FAILED
    assert orphan.error == extract_module.MSG_INTERRUPTED


def test_two_runs_at_once_one_is_refused(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    build_force()
    inside, release = threading.Event(), threading.Event()
    real = load.facts_load

    def slow(*args, **kwargs):  # type: ignore[no-untyped-def]
        inside.set()
        release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(load, "facts_load", slow)
    outcome: dict[str, object] = {}

    def first() -> None:
        try:
            outcome["first"] = run(full=True)
        finally:
            connections.close_all()

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert inside.wait(30)
        with pytest.raises(ExtractBusyError, match="Another DDI extract is running"):
            extract_run(full=True)
    finally:
        release.set()
        thread.join(60)

    assert outcome["first"].state == EtlBatch.State.SUCCEEDED
    assert EtlBatch.objects.count() == 1


def test_daily_snapshot_counts_open_days_only() -> None:
    force = build_force()
    run(full=True)

    delivered = FactOpportunityDaily.objects.filter(
        opportunity_id=force.opportunities["delivered"].pk
    )
    # submitted, triage, backlog, in delivery: four statuses of ten days each.
    assert delivered.count() == 40
    ages = sorted(delivered.values_list("age_days", flat=True))
    assert ages == list(range(40))
    rejected = FactOpportunityDaily.objects.filter(
        opportunity_id=force.opportunities["rejected"].pk
    )
    assert rejected.count() == 6
    today = int(timezone.localdate().strftime("%Y%m%d"))
    open_today = FactOpportunityDaily.objects.filter(date_key=today)
    assert set(open_today.values_list("opportunity_id", flat=True)) == {
        force.opportunities[k].pk for k in ("submitted", "backlog", "restricted", "no_history")
    }


def test_status_spans_hold_the_snapshot_compactly() -> None:
    force = build_force()
    batch = run(full=True)

    delivered = force.opportunities["delivered"]
    spans = list(
        FactOpportunityStatusSpan.objects.filter(opportunity_id=delivered.pk)
        .order_by("from_date_key")
        .values_list("from_date_key", "to_date_key", "submitted_date_key")
    )
    # submitted, triage, backlog, in delivery: four closed spans of ten days each.
    assert len(spans) == 4
    first = timezone.localdate(delivered.submitted_at)

    def key(day):  # type: ignore[no-untyped-def]
        return int(day.strftime("%Y%m%d"))

    assert spans == [
        (key(first + timedelta(days=10 * i)), key(first + timedelta(days=10 * i + 9)), key(first))
        for i in range(4)
    ]
    open_spans = FactOpportunityStatusSpan.objects.filter(to_date_key__isnull=True)
    assert set(open_spans.values_list("opportunity_id", flat=True)) == {
        force.opportunities[k].pk for k in ("submitted", "backlog", "restricted", "no_history")
    }
    assert batch.rows["fact_opportunity_status_span"] == FactOpportunityStatusSpan.objects.count()


def test_days_passing_rewrite_no_spans() -> None:
    """The snapshot of a new day costs nothing: untouched opportunities' spans stay as they
    were (an open span has no end), and only the view reaches the new day."""
    build_force()
    today = timezone.localdate()
    full = run(full=True, as_of=today - timedelta(days=3))
    before = FactOpportunityDaily.objects.count()

    later = run(as_of=today)

    assert later.rows.get("fact_opportunity_status_span", 0) == 0
    assert set(FactOpportunityStatusSpan.objects.values_list("batch_id", flat=True)) == {full.pk}
    today_key = int(today.strftime("%Y%m%d"))
    new_days = FactOpportunityDaily.objects.filter(date_key__gt=full.as_of.strftime("%Y%m%d"))
    assert FactOpportunityDaily.objects.count() == before + new_days.count()
    open_now = FactOpportunityStatusSpan.objects.filter(to_date_key__isnull=True)
    assert set(
        FactOpportunityDaily.objects.filter(date_key=today_key).values_list(
            "opportunity_id", flat=True
        )
    ) == set(open_now.values_list("opportunity_id", flat=True))


def test_the_migration_creates_the_documented_view() -> None:
    import importlib

    from reporting.services.transforms import DAILY_VIEW

    migration = importlib.import_module("reporting.migrations.0003_status_spans")
    assert migration.DAILY_VIEW == DAILY_VIEW
    with connections["reporting"].cursor() as cursor:
        cursor.execute(
            "SELECT table_type FROM information_schema.tables "
            "WHERE table_name = 'fact_opportunity_daily'"
        )
        assert cursor.fetchone() == ("VIEW",)


def test_daily_snapshot_moves_with_as_of_like_a_full_rebuild() -> None:
    build_force()
    today = timezone.localdate()
    run(full=True, as_of=today - timedelta(days=3))

    run(as_of=today)
    rows = ddi_rows()
    run(full=True, as_of=today)

    assert ddi_rows() == rows


def test_status_change_fact_keeps_reasons_and_intervals() -> None:
    force = build_force()
    run(full=True)

    changes = FactStatusChange.objects.filter(opportunity_id=force.opportunities["rejected"].pk)
    assert changes.count() == 4
    last = changes.order_by("-changed_at").first()
    assert last.reason == 'Line one,\nline two — “ü”\r\nand a "quoted" end'
    assert last.days_in_previous_status == 3
    assert changes.order_by("changed_at").first().from_status_key is None
    hidden = FactStatusChange.objects.filter(opportunity_id=force.opportunities["restricted"].pk)
    assert set(hidden.values_list("reason", flat=True)) == {None}


def test_refresh_has_no_files_and_the_next_incremental_covers_it(extract_dir) -> None:  # type: ignore[no-untyped-def]
    force = build_force()
    full = run(full=True)
    Opportunity.objects.filter(pk=force.opportunities["submitted"].pk).update(title="Refreshed")
    refresh = run(files=False)
    nightly = run()

    assert refresh.kind == EtlBatch.Kind.REFRESH and refresh.files_path == ""
    assert nightly.watermark_from == full.watermark_to
    assert nightly.rows["touched_opportunities"] == 1
    package = (extract_dir / nightly.files_path / "datapackage.json").read_text()
    assert str(refresh.pk) in package


def test_new_person_keys_need_no_new_users() -> None:
    build_force()
    UserFactory()
    batch = run(full=True)
    assert batch.rows["dim_person"] >= 4


def test_a_new_schema_version_rebuilds_everything() -> None:
    """After an upgrade that changes the schema, the next batch is a full one: the rows an
    incremental batch would leave alone were written by the old code."""
    build_force()
    first = run(full=True)
    EtlBatch.objects.filter(pk=first.pk).update(schema_version="1.0.0")

    upgraded = run()

    assert upgraded.kind == EtlBatch.Kind.FULL
    assert upgraded.rows["fact_opportunity"] == FactOpportunity.objects.count()
    assert run().kind == EtlBatch.Kind.INCREMENTAL


def test_an_attribute_edit_rewrites_only_the_opportunity_row() -> None:
    """A title, owner or score change reaches fact_opportunity; the opportunity's status
    changes, spans, supports and bridges keep the rows (and batch) they had."""
    force = build_force()
    full = run(full=True)
    opp = force.opportunities["submitted"]
    Opportunity.objects.filter(pk=opp.pk).update(title="Retitled", owner=force.users["ci"])

    batch = run()
    rows = ddi_rows()

    assert batch.rows["touched_opportunities"] == 1
    assert batch.rows["touched_with_children"] == 0
    assert FactOpportunity.objects.get(pk=opp.pk).batch_id == batch.pk
    for model in (FactStatusChange, FactSupport, FactOpportunityStatusSpan):
        batches = set(
            model.objects.filter(opportunity_id=opp.pk).values_list("batch_id", flat=True)
        )
        assert batches == {full.pk}, model
    run(full=True)
    assert ddi_rows() == rows


def test_restricting_an_opportunity_rewrites_its_status_changes() -> None:
    """is_restricted hides status-change reasons: changing it is not an attribute-only edit."""
    force = build_force()
    run(full=True)
    rejected = force.opportunities["rejected"]
    assert FactStatusChange.objects.filter(opportunity_id=rejected.pk).exclude(reason=None).exists()
    Opportunity.objects.filter(pk=rejected.pk).update(is_restricted=True)

    batch = run()

    assert batch.rows["touched_with_children"] == 1
    assert (
        not FactStatusChange.objects.filter(opportunity_id=rejected.pk)
        .exclude(reason=None)
        .exists()
    )
    rows = ddi_rows()
    run(full=True)
    assert ddi_rows() == rows


def test_after_a_rebuild_without_files_the_next_package_is_full(extract_dir) -> None:  # type: ignore[no-untyped-def]
    """An upgrade's first batch is often the 15-minute refresh: it rebuilds everything without
    files. DDI's next package must then be a full one, not an "incremental" holding every row
    with only the touched opportunities listed as replaced."""
    build_force()
    nightly = run(full=True)
    EtlBatch.objects.filter(pk=nightly.pk).update(schema_version="1.0.0")

    refresh = run(files=False)
    package = run()

    assert refresh.kind == EtlBatch.Kind.FULL and refresh.files_path == ""
    assert package.kind == EtlBatch.Kind.FULL and package.files_path
    assert run().kind == EtlBatch.Kind.INCREMENTAL
