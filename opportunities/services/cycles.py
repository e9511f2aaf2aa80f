"""Writes for 2-Speed delivery cycles: four working days with a capacity in delivery days,
and the backlog items planned into them.

A cycle's load is the effort (delivery days, from each item's current score) of its items.
Planning past the capacity is allowed only when the planner confirms it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from opportunities.errors import ApplicationError
from opportunities.models import DeliveryCycle, Opportunity, Status
from opportunities.services.workflow import MSG_STALE
from synergy_portal.permissions import Action, can
from synergy_portal.working_days import add_working_days

CYCLE_WORKING_DAYS = 4
PLANNABLE = (Status.BACKLOG, Status.IN_DELIVERY)

MSG_FORBIDDEN = "Only the CI team can plan delivery cycles."
MSG_WEEKEND_START = "A cycle starts on a working day (Monday to Friday)."
MSG_NAME_TAKEN = "There is already a cycle called “{name}”."
MSG_CLOSED = "{name} is closed, so nothing more can be planned into it."
MSG_NOT_PLANNABLE = (
    "{reference} is “{status}”. Only backlog items (or ones already in delivery) can be "
    "planned into a cycle."
)
MSG_OVER_CAPACITY = (
    "{name} would hold {load} delivery days of work against a capacity of {capacity}. "
    "Plan it anyway?"
)
MSG_IN_DELIVERY_NEEDS_CYCLE = (
    "{reference} is in delivery, so it must stay in a cycle: move it back to the backlog first."
)
MSG_CLOSE_NEEDS_OUTCOME = "Say what the cycle delivered before closing it."


@dataclass(frozen=True)
class CycleLoad:
    planned_days: Decimal
    unscored: int

    def over(self, capacity: Decimal) -> bool:
        return self.planned_days > capacity


def _days(value: Decimal) -> str:
    return f"{Decimal(value).normalize():f}"


def _require(actor: Any) -> None:
    if not can(actor, Action.PLAN_CYCLE):
        raise ApplicationError(MSG_FORBIDDEN, {"forbidden": True})


def cycle_end(starts_on: date) -> date:
    """The last of the cycle's four working days."""
    return add_working_days(starts_on, CYCLE_WORKING_DAYS - 1)


def cycle_load(*, cycle_id: int, extra_opportunity_id: int | None = None) -> CycleLoad:
    items = Opportunity.objects.filter(delivery_cycle_id=cycle_id)
    if extra_opportunity_id is not None:
        items = items | Opportunity.objects.filter(pk=extra_opportunity_id)
    totals = items.aggregate(days=Sum("current_score__effort_days"))
    unscored = items.filter(current_score__isnull=True).count()
    return CycleLoad(Decimal(str(round(totals["days"] or 0, 1))), unscored)


@transaction.atomic
def cycle_create(
    *, actor: Any, name: str, starts_on: date, capacity_days: Decimal
) -> DeliveryCycle:
    _require(actor)
    if starts_on.weekday() >= 5:
        raise ApplicationError(MSG_WEEKEND_START, {"field": "starts_on"})
    name = name.strip() or f"Cycle {starts_on:%-d %b %Y}"
    cycle = DeliveryCycle(
        name=name, starts_on=starts_on, ends_on=cycle_end(starts_on), capacity_days=capacity_days
    )
    try:
        cycle.full_clean()
    except ValidationError as problem:
        if "name" in problem.message_dict:
            raise ApplicationError(MSG_NAME_TAKEN.format(name=name), {"field": "name"}) from None
        raise
    try:
        with transaction.atomic():
            cycle.save()
    except IntegrityError:
        raise ApplicationError(MSG_NAME_TAKEN.format(name=name), {"field": "name"}) from None
    return cycle


@transaction.atomic
def cycle_plan(
    *,
    actor: Any,
    cycle_id: int,
    opportunity_id: int,
    expected_version: int | None = None,
    confirm_over_capacity: bool = False,
) -> Opportunity:
    """Plan a backlog item into a cycle (moving it from another cycle if it was in one)."""
    _require(actor)
    cycle = DeliveryCycle.objects.select_for_update().get(pk=cycle_id)
    opp = Opportunity.objects.select_for_update().get(pk=opportunity_id)
    if expected_version is not None and opp.version != expected_version:
        raise ApplicationError(
            MSG_STALE.format(current=opp.get_status_display(), version=opp.version),
            {"stale": True},
        )
    if cycle.state == DeliveryCycle.State.CLOSED:
        raise ApplicationError(MSG_CLOSED.format(name=cycle.name))
    if opp.status not in PLANNABLE:
        raise ApplicationError(
            MSG_NOT_PLANNABLE.format(reference=opp.reference, status=opp.get_status_display())
        )
    if opp.delivery_cycle_id == cycle.pk:
        return opp
    load = cycle_load(cycle_id=cycle.pk, extra_opportunity_id=opp.pk)
    if load.over(cycle.capacity_days) and not confirm_over_capacity:
        raise ApplicationError(
            MSG_OVER_CAPACITY.format(
                name=cycle.name, load=_days(load.planned_days), capacity=_days(cycle.capacity_days)
            ),
            {"over_capacity": True, "load": str(load.planned_days)},
        )
    opp.delivery_cycle = cycle
    opp.version += 1
    opp.updated_at = timezone.now()
    opp.save(update_fields=["delivery_cycle", "version", "updated_at"])
    return opp


@transaction.atomic
def cycle_unplan(
    *, actor: Any, opportunity_id: int, expected_version: int | None = None
) -> Opportunity:
    _require(actor)
    opp = Opportunity.objects.select_for_update().get(pk=opportunity_id)
    if expected_version is not None and opp.version != expected_version:
        raise ApplicationError(
            MSG_STALE.format(current=opp.get_status_display(), version=opp.version),
            {"stale": True},
        )
    if opp.status == Status.IN_DELIVERY:
        raise ApplicationError(MSG_IN_DELIVERY_NEEDS_CYCLE.format(reference=opp.reference))
    if opp.delivery_cycle_id is None:
        return opp
    opp.delivery_cycle = None
    opp.version += 1
    opp.updated_at = timezone.now()
    opp.save(update_fields=["delivery_cycle", "version", "updated_at"])
    return opp


@transaction.atomic
def cycle_update(
    *,
    actor: Any,
    cycle_id: int,
    state: str,
    outcome: str,
    capacity_days: Decimal,
) -> DeliveryCycle:
    """Start or close a cycle, record its outcome, or change its capacity."""
    _require(actor)
    cycle = DeliveryCycle.objects.select_for_update().get(pk=cycle_id)
    state = DeliveryCycle.State(state)
    if state == DeliveryCycle.State.CLOSED and not outcome.strip():
        raise ApplicationError(MSG_CLOSE_NEEDS_OUTCOME, {"field": "outcome"})
    cycle.state = state
    cycle.outcome = outcome.strip()
    cycle.capacity_days = capacity_days
    cycle.full_clean()
    cycle.save(update_fields=["state", "outcome", "capacity_days"])
    return cycle
