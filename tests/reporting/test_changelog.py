"""The change log: triggers write it in the same transaction as each change; append-only."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import DatabaseError, connection, transaction

from opportunities.models import DeliveryCycle, Support
from synergy_portal.models import ChangeLog
from tests.journeys.factories import DepartmentFactory
from tests.opportunities.factories import OpportunityFactory
from tests.synergy_portal.factories import UserFactory

pytestmark = pytest.mark.django_db


def _current_txid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id()::text::bigint")
        return cursor.fetchone()[0]


def test_every_write_is_logged_in_its_own_transaction() -> None:
    opp = OpportunityFactory()
    user = UserFactory()
    before = ChangeLog.objects.count()

    support = Support.objects.create(opportunity=opp, user=user)
    Support.objects.filter(pk=support.pk).delete()

    rows = list(ChangeLog.objects.order_by("id")[before:])
    assert [(r.table_name, r.op, r.row_id, r.opportunity_id) for r in rows] == [
        ("opportunities_support", "I", support.pk, opp.pk),
        ("opportunities_support", "D", support.pk, opp.pk),
    ]
    assert {r.txid for r in rows} == {_current_txid()}


def test_moving_a_row_to_another_opportunity_touches_both() -> None:
    source, target = OpportunityFactory(), OpportunityFactory()
    support = Support.objects.create(opportunity=source, user=UserFactory())
    before = ChangeLog.objects.count()

    Support.objects.filter(pk=support.pk).update(opportunity=target)

    touched = {r.opportunity_id for r in ChangeLog.objects.order_by("id")[before:]}
    assert touched == {source.pk, target.pk}


def test_reference_data_is_logged_without_an_opportunity() -> None:
    department = DepartmentFactory()
    row = ChangeLog.objects.filter(table_name="journeys_department").latest("id")
    assert (row.row_id, row.opportunity_id, row.op) == (department.pk, None, "I")


def test_bulk_writes_log_one_row_per_changed_row() -> None:
    opps = [OpportunityFactory() for _ in range(3)]
    before = ChangeLog.objects.count()

    from opportunities.models import Opportunity

    Opportunity.objects.filter(pk__in=[o.pk for o in opps]).update(title="Bulk")

    assert ChangeLog.objects.count() - before == 3


def test_the_log_is_append_only() -> None:
    OpportunityFactory()
    row = ChangeLog.objects.latest("id")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ChangeLog.objects.filter(pk=row.pk).update(op="D")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ChangeLog.objects.filter(pk=row.pk).delete()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synergy.changelog_prune = 'on'")
        cursor.execute("DELETE FROM synergy_portal_changelog WHERE id = %s", [row.pk])
    assert not ChangeLog.objects.filter(pk=row.pk).exists()


def test_delivery_cycles_are_logged_as_reference_data() -> None:
    cycle = DeliveryCycle.objects.create(
        name="Cycle 99", starts_on=date(2026, 5, 4), ends_on=date(2026, 5, 7), capacity_days=8
    )
    DeliveryCycle.objects.filter(pk=cycle.pk).update(name="Cycle 99b")
    DeliveryCycle.objects.filter(pk=cycle.pk).delete()

    rows = ChangeLog.objects.filter(table_name="opportunities_deliverycycle").order_by("id")
    assert [(r.row_id, r.opportunity_id, r.op) for r in rows] == [
        (cycle.pk, None, "I"),
        (cycle.pk, None, "U"),
        (cycle.pk, None, "D"),
    ]


def test_an_opportunitys_attribute_edits_are_told_apart_from_structural_ones() -> None:
    """Op "A": none of status, is_restricted, submitted_at changed, so the extract rewrites
    only the opportunity's own row; any of them changing is a plain update ("U")."""
    from opportunities.models import Opportunity

    opp = OpportunityFactory()
    others = OpportunityFactory()
    before = ChangeLog.objects.count()

    Opportunity.objects.filter(pk=opp.pk).update(title="New title")
    Opportunity.objects.filter(pk=opp.pk).update(is_restricted=True)
    Opportunity.objects.filter(pk__in=[opp.pk, others.pk]).update(status="triage", title="Both")

    rows = list(ChangeLog.objects.order_by("id")[before:])
    assert [(r.op, r.opportunity_id) for r in rows[:2]] == [("A", opp.pk), ("U", opp.pk)]
    assert sorted((r.op, r.opportunity_id) for r in rows[2:]) == sorted(
        [("U", opp.pk), ("U", others.pk)]
    )
