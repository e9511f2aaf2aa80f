"""2-Speed delivery cycles: four working days, capacity, planning backlog items, outcome."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from opportunities.errors import ApplicationError
from opportunities.models import DeliveryCycle, Opportunity, Status
from opportunities.services import cycles
from synergy_portal.models import Role
from tests.opportunities.factories import OpportunityFactory
from tests.opportunities.test_board import score
from tests.synergy_portal.factories import UserFactory

pytestmark = pytest.mark.django_db
MONDAY = date(2026, 12, 7)


@pytest.fixture
def ci(db):  # type: ignore[no-untyped-def]
    return UserFactory(roles={Role.CI_TEAM})


def test_a_cycle_is_four_working_days_and_starts_on_a_working_day(ci) -> None:
    cycle = cycles.cycle_create(actor=ci, name="", starts_on=MONDAY, capacity_days=Decimal("8"))
    assert (cycle.starts_on, cycle.ends_on, cycle.name) == (
        MONDAY,
        date(2026, 12, 10),
        "Cycle 7 Dec 2026",
    )
    thursday = cycles.cycle_create(
        actor=ci, name="T", starts_on=date(2026, 12, 10), capacity_days=Decimal("4")
    )
    assert thursday.ends_on == date(2026, 12, 15)  # over the weekend
    with pytest.raises(ApplicationError) as caught:
        cycles.cycle_create(
            actor=ci, name="W", starts_on=date(2026, 12, 12), capacity_days=Decimal("4")
        )
    assert caught.value.message == cycles.MSG_WEEKEND_START
    with pytest.raises(ApplicationError) as caught:
        cycles.cycle_create(actor=ci, name="T", starts_on=MONDAY, capacity_days=Decimal("4"))
    assert caught.value.message == cycles.MSG_NAME_TAKEN.format(name="T")


def test_planning_fills_capacity_and_warns_before_going_over(ci) -> None:
    cycle = cycles.cycle_create(actor=ci, name="C", starts_on=MONDAY, capacity_days=Decimal("3"))
    first, second = (
        OpportunityFactory(status=Status.BACKLOG),
        OpportunityFactory(status=Status.BACKLOG),
    )
    score(first), score(second)  # 2 days each
    cycles.cycle_plan(actor=ci, cycle_id=cycle.pk, opportunity_id=first.pk)
    assert cycles.cycle_load(cycle_id=cycle.pk).planned_days == Decimal("2")
    with pytest.raises(ApplicationError) as caught:
        cycles.cycle_plan(actor=ci, cycle_id=cycle.pk, opportunity_id=second.pk)
    assert caught.value.extra["over_capacity"] is True
    assert "4 delivery days of work against a capacity of 3" in caught.value.message
    assert Opportunity.objects.get(pk=second.pk).delivery_cycle_id is None
    cycles.cycle_plan(
        actor=ci, cycle_id=cycle.pk, opportunity_id=second.pk, confirm_over_capacity=True
    )
    assert cycles.cycle_load(cycle_id=cycle.pk).over(cycle.capacity_days)


def test_only_backlog_items_are_planned_and_closed_cycles_take_nothing(ci) -> None:
    cycle = cycles.cycle_create(actor=ci, name="C", starts_on=MONDAY, capacity_days=Decimal("8"))
    triage = OpportunityFactory(status=Status.TRIAGE)
    with pytest.raises(ApplicationError):
        cycles.cycle_plan(actor=ci, cycle_id=cycle.pk, opportunity_id=triage.pk)
    with pytest.raises(ApplicationError) as caught:
        cycles.cycle_update(
            actor=ci, cycle_id=cycle.pk, state="closed", outcome=" ", capacity_days=Decimal("8")
        )
    assert caught.value.message == cycles.MSG_CLOSE_NEEDS_OUTCOME
    cycles.cycle_update(
        actor=ci,
        cycle_id=cycle.pk,
        state="closed",
        outcome="Two fixes shipped.",
        capacity_days=Decimal("8"),
    )
    backlog = OpportunityFactory(status=Status.BACKLOG)
    with pytest.raises(ApplicationError) as caught:
        cycles.cycle_plan(actor=ci, cycle_id=cycle.pk, opportunity_id=backlog.pk)
    assert caught.value.message == cycles.MSG_CLOSED.format(name="C")


def test_an_item_in_delivery_cannot_leave_its_cycle(ci) -> None:
    cycle = DeliveryCycle.objects.create(
        name="C", starts_on=MONDAY, ends_on=date(2026, 12, 10), capacity_days=8
    )
    opp = OpportunityFactory(status=Status.IN_DELIVERY, delivery_cycle=cycle)
    with pytest.raises(ApplicationError):
        cycles.cycle_unplan(actor=ci, opportunity_id=opp.pk)
    backlog = OpportunityFactory(status=Status.BACKLOG, delivery_cycle=cycle)
    cycles.cycle_unplan(actor=ci, opportunity_id=backlog.pk)
    assert Opportunity.objects.get(pk=backlog.pk).delivery_cycle_id is None


def test_staff_cannot_plan(ci) -> None:
    with pytest.raises(ApplicationError) as caught:
        cycles.cycle_create(
            actor=UserFactory(), name="", starts_on=MONDAY, capacity_days=Decimal("8")
        )
    assert caught.value.extra == {"forbidden": True}


def test_cycle_pages(client, ci) -> None:
    client.force_login(ci)
    assert client.get("/cycles/").status_code == 200
    created = client.post(
        "/cycles/", {"starts_on": MONDAY.isoformat(), "capacity": "2", "name": "Sprint A"}
    )
    assert created.status_code == 302
    cycle = DeliveryCycle.objects.get(name="Sprint A")
    opp = OpportunityFactory(status=Status.BACKLOG, title="Upload times out")
    score(opp)
    page = client.get(f"/cycles/{cycle.pk}/").content.decode()
    assert "0 of 2 delivery days planned" in page and opp.reference in page and "<meter" in page
    assert client.post(f"/cycles/{cycle.pk}/plan/", {"reference": opp.reference}).status_code == 302
    page = client.get(f"/cycles/{cycle.pk}/").content.decode()
    assert "2 of 2 delivery days planned" in page
    other = OpportunityFactory(status=Status.BACKLOG)
    score(other)
    over = client.post(f"/cycles/{cycle.pk}/plan/", {"reference": other.reference})
    assert over.status_code == 409 and f"Plan {other.reference} anyway" in over.content.decode()
    bad = client.post("/cycles/", {"starts_on": "2026-12-12", "capacity": "x"})
    assert bad.status_code == 400
    client.force_login(UserFactory(roles={Role.MANAGER}))
    assert client.get("/cycles/").status_code == 403
