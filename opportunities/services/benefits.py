"""Writes for delivery and benefits: the delivery note that makes an item "delivered", and the
realised benefits recorded later (hours and £ a year, non-cash benefits, evidence)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from opportunities.errors import ApplicationError
from opportunities.models import Benefit, Opportunity, Status
from opportunities.services.workflow import TransitionResult, opportunity_transition
from synergy_portal.permissions import Action, can

MSG_FORBIDDEN = "Only the CI team can record benefits."
MSG_NOT_DELIVERED = "{reference} is “{status}”: record benefits once it has been delivered."
MSG_EMPTY = "Give hours saved, money saved or a non-cash benefit."
MSG_NEEDS_EVIDENCE = "Say how the benefit was measured (the evidence)."


@dataclass(frozen=True)
class BenefitResult:
    benefit: Benefit
    transition: TransitionResult | None


def opportunity_deliver(
    *, actor: Any, opportunity_id: int, expected_version: int | None, delivery_note: str
) -> TransitionResult:
    """Mark an item delivered with the note of what was delivered (the workflow's guard)."""
    return opportunity_transition(
        actor=actor,
        opportunity_id=opportunity_id,
        to_status=Status.DELIVERED,
        expected_version=expected_version,
        delivery_note=delivery_note,
    )


@transaction.atomic
def benefit_record(
    *,
    actor: Any,
    opportunity_id: int,
    hours_per_year: Decimal,
    cash_per_year: Decimal,
    non_cash: str = "",
    evidence: str,
    realised_on: date | None = None,
    mark_realised: bool = True,
) -> BenefitResult:
    """Record a realised benefit; the first one moves the item to "benefits realised"."""
    if not can(actor, Action.RECORD_BENEFIT):
        raise ApplicationError(MSG_FORBIDDEN, {"forbidden": True})
    opp = Opportunity.objects.select_for_update().get(pk=opportunity_id)
    if opp.status not in (Status.DELIVERED, Status.BENEFITS_REALISED):
        raise ApplicationError(
            MSG_NOT_DELIVERED.format(reference=opp.reference, status=opp.get_status_display())
        )
    if not hours_per_year and not cash_per_year and not non_cash.strip():
        raise ApplicationError(MSG_EMPTY, {"field": "hours_per_year"})
    if not evidence.strip():
        raise ApplicationError(MSG_NEEDS_EVIDENCE, {"field": "evidence"})
    benefit = Benefit(
        opportunity=opp,
        hours_per_year=hours_per_year,
        cash_per_year=cash_per_year,
        non_cash=non_cash.strip(),
        evidence=evidence.strip(),
        realised_on=realised_on or timezone.localdate(),
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    benefit.full_clean()
    benefit.save()
    transition = None
    if mark_realised and opp.status == Status.DELIVERED:
        transition = opportunity_transition(
            actor=actor, opportunity_id=opp.pk, to_status=Status.BENEFITS_REALISED
        )
    return BenefitResult(benefit=benefit, transition=transition)
