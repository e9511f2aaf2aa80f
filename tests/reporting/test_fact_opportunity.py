"""The accumulating snapshot's milestones, deadlines, scorer and delivery cycle, and the
delivery-cycle dimension."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from opportunities.models import DeliveryCycle, Opportunity, Status, StatusChange
from reporting.models import (
    DimDeliveryCycle,
    DimPerson,
    EtlBatch,
    FactOpportunity,
    FactStatusChange,
)
from reporting.services.pseudonyms import person_key
from reporting.services.tables import Table
from reporting.services.transforms import OPPORTUNITY_COLUMNS, fact_inserts
from tests.opportunities.factories import OpportunityFactory
from tests.reporting.factories import CYCLE_OUTCOME, Force, build_force, ddi_rows, run, score

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "reporting"])

S = Status


def _key(day: date) -> int:
    return int(day.strftime("%Y%m%d"))


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _dated_opportunity(force: Force) -> Opportunity:
    """An opportunity through assessing (twice) and delivery, at fixed moments (UTC)."""
    opp = OpportunityFactory(
        submitter=force.users["submitter"],
        department=force.department,
        delivery_note="Done.",
        first_response_due=date(2026, 4, 7),
        next_update_due=date(2026, 6, 19),
    )
    moves = [
        ("draft", "2026-03-20T09:00+00:00"),
        (S.SUBMITTED, "2026-03-23T10:00+00:00"),
        (S.TRIAGE, "2026-03-25T12:00+00:00"),
        # British Summer Time began at 01:00 UTC that day: 23:30 UTC is 00:30 on the 30th.
        (S.ASSESSING, "2026-03-29T23:30+00:00"),
        (S.BACKLOG, "2026-04-02T10:00+00:00"),
        # Back for a second look: not its first day in assessing.
        (S.ASSESSING, "2026-04-07T10:00+00:00"),
        (S.BACKLOG, "2026-04-08T10:00+00:00"),
        # 00:15 on 14 April in London.
        (S.IN_DELIVERY, "2026-04-13T23:15+00:00"),
        (S.DELIVERED, "2026-04-20T15:00+00:00"),
    ]
    previous = ""
    for status, at in moves:
        StatusChange.objects.create(
            opportunity=opp,
            from_status=previous,
            to_status=status,
            actor=force.users["ci"],
            created_at=_utc(at),
        )
        previous = status
    Opportunity.objects.filter(pk=opp.pk).update(
        status=S.DELIVERED, submitted_at=_utc("2026-03-23T10:00+00:00")
    )
    return opp


@pytest.mark.django_db(databases=[])
def test_the_stage_the_insert_and_the_model_are_in_step() -> None:
    insert = dict(fact_inserts())["fact_opportunity"]
    listed = re.search(r"INSERT INTO fact_opportunity \((.*?)\)", insert, re.S)
    assert listed is not None
    targets = [name.strip() for name in listed.group(1).split(",")]

    assert len(targets) == len(OPPORTUNITY_COLUMNS) + 1
    assert sorted(targets) == sorted(Table(FactOpportunity).column_names)


def test_assessing_and_in_delivery_date_keys_are_the_first_uk_days_there() -> None:
    force = build_force()
    opp = _dated_opportunity(force)

    run(full=True)

    fact = FactOpportunity.objects.get(pk=opp.pk)
    assert (
        fact.submitted_date_key,
        fact.triaged_date_key,
        fact.assessing_date_key,
        fact.backlog_date_key,
        fact.in_delivery_date_key,
        fact.delivered_date_key,
    ) == (20260323, 20260325, 20260330, 20260402, 20260414, 20260420)
    # The build's own opportunities: one went through assessing only, one delivery only.
    today = timezone.localdate()
    backlog = FactOpportunity.objects.get(pk=force.opportunities["backlog"].pk)
    assert backlog.assessing_date_key == _key(today - timedelta(days=31))
    assert backlog.in_delivery_date_key is None
    delivered = FactOpportunity.objects.get(pk=force.opportunities["delivered"].pk)
    assert delivered.assessing_date_key is None
    assert delivered.in_delivery_date_key == _key(today - timedelta(days=50))


def test_due_dates_come_through_as_date_keys() -> None:
    force = build_force()
    opp = _dated_opportunity(force)

    run(full=True)

    fact = FactOpportunity.objects.get(pk=opp.pk)
    assert (fact.first_response_due_date_key, fact.next_update_due_date_key) == (
        20260407,
        20260619,
    )
    today = timezone.localdate()
    submitted = FactOpportunity.objects.get(pk=force.opportunities["submitted"].pk)
    assert submitted.first_response_due_date_key == _key(today + timedelta(days=8))
    assert submitted.next_update_due_date_key == _key(today + timedelta(days=55))
    rejected = FactOpportunity.objects.get(pk=force.opportunities["rejected"].pk)
    assert (rejected.first_response_due_date_key, rejected.next_update_due_date_key) == (
        None,
        None,
    )


def test_scorer_is_the_pseudonymous_key_of_who_made_the_current_score() -> None:
    force = build_force()
    ci, local, submitter = force.users["ci"], force.users["local"], force.users["submitter"]
    opps = force.opportunities

    run(full=True)

    def scorer(key: str) -> str | None:
        return FactOpportunity.objects.get(pk=opps[key].pk).scorer_person_key

    assert scorer("backlog") == person_key(user_id=ci.pk, tid=ci.tid, oid=ci.oid)
    # An account with no Entra ID is keyed by its portal id, but only inside the HMAC.
    assert scorer("delivered") == person_key(user_id=local.pk, tid="", oid="")
    assert scorer("submitted") is None
    scorers = set(
        FactOpportunity.objects.exclude(scorer_person_key=None).values_list(
            "scorer_person_key", flat=True
        )
    )
    user_ids = {str(user.pk) for user in force.users.values()}
    assert not scorers & user_ids
    assert all(re.fullmatch(r"[0-9a-f]{64}", key) for key in scorers)
    assert scorers <= set(DimPerson.objects.values_list("person_key", flat=True))

    # A new current score (by someone else) is a change of the opportunity.
    score(force, opps["backlog"], scored_by=submitter)
    incremental = run()

    assert incremental.kind == EtlBatch.Kind.INCREMENTAL
    assert scorer("backlog") == person_key(
        user_id=submitter.pk, tid=submitter.tid, oid=submitter.oid
    )


def test_delivery_cycle_is_a_dimension_keyed_on_the_fact() -> None:
    force = build_force()

    run(full=True)

    cycle = force.cycle
    assert cycle is not None
    today = timezone.localdate()
    assert list(
        DimDeliveryCycle.objects.values_list(
            "delivery_cycle_key",
            "name",
            "starts_date_key",
            "ends_date_key",
            "capacity_days",
            "state",
        )
    ) == [
        (
            cycle.pk,
            "Cycle 7",
            _key(today - timedelta(days=51)),
            _key(today - timedelta(days=48)),
            Decimal("12.5"),
            "closed",
        )
    ]
    planned = FactOpportunity.objects.exclude(delivery_cycle_key=None)
    assert dict(planned.values_list("opportunity_id", "delivery_cycle_key")) == {
        force.opportunities["delivered"].pk: cycle.pk
    }


def test_renaming_a_delivery_cycle_is_picked_up_by_the_next_incremental_batch() -> None:
    force = build_force()
    run(full=True)
    cycle = DeliveryCycle.objects.get(pk=force.cycle.pk)
    cycle.name = "Cycle 7: custody"
    cycle.state = DeliveryCycle.State.ACTIVE
    cycle.save()

    incremental = run()

    assert incremental.kind == EtlBatch.Kind.INCREMENTAL
    # Reference data only: no opportunity is touched, the dimension is rewritten.
    assert incremental.rows["touched_opportunities"] == 0
    assert incremental.rows["dim_delivery_cycle"] == 1
    row = DimDeliveryCycle.objects.get(pk=cycle.pk)
    assert (row.name, row.state, row.batch_id) == ("Cycle 7: custody", "active", incremental.pk)
    rows = ddi_rows()
    run(full=True)
    assert ddi_rows() == rows


def test_removing_a_delivery_cycle_unplans_its_opportunities() -> None:
    force = build_force()
    run(full=True)

    DeliveryCycle.objects.filter(pk=force.cycle.pk).delete()
    incremental = run()

    assert incremental.rows["touched_opportunities"] == 1
    assert not DimDeliveryCycle.objects.exists()
    assert not FactOpportunity.objects.exclude(delivery_cycle_key=None).exists()


def test_a_cycles_outcome_is_not_exported(extract_dir) -> None:  # type: ignore[no-untyped-def]
    build_force()

    batch = run(full=True)

    columns = {field.column for field in DimDeliveryCycle._meta.concrete_fields}
    assert "outcome" not in columns
    assert not [row for row in ddi_rows()["dim_delivery_cycle"] if CYCLE_OUTCOME in map(str, row)]
    folder = extract_dir / batch.files_path
    csv = (folder / "dim_delivery_cycle.csv").read_text(encoding="utf-8")
    assert "Cycle 7" in csv
    for path in folder.glob("*.csv"):
        assert "rota fix" not in path.read_text(encoding="utf-8"), path.name


def test_status_since_is_the_day_of_the_latest_status_change() -> None:
    build_force()
    run(full=True)

    latest: dict[int, int] = {}
    for opp_id, day in FactStatusChange.objects.values_list("opportunity_id", "date_key"):
        latest[opp_id] = max(day, latest.get(opp_id, day))
    facts = dict(FactOpportunity.objects.values_list("opportunity_id", "status_since_date_key"))
    assert facts == {opp_id: latest.get(opp_id) for opp_id in facts}
    assert any(value is None for value in facts.values())  # the one with no history
