"""Writes from the triage panel: journey, step, applications and owner; a comment that counts
as an update to the submitter; rejecting with a reason the submitter reads.

Moves, merges, scores, cycles and benefits have their own services; the panel calls those.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from journeys.models import Application, Journey, JourneyStep
from opportunities.errors import ApplicationError
from opportunities.models import Comment, Opportunity, Status
from opportunities.services import deadlines
from opportunities.services.engagement import comment_add
from opportunities.services.workflow import (
    MSG_STALE,
    TransitionResult,
    opportunity_transition,
)
from synergy_portal.models import Role
from synergy_portal.permissions import Action, can, roles_of

MSG_TRIAGE_FORBIDDEN = "Only the CI team can triage opportunities."
MSG_STEP_NOT_IN_JOURNEY = "That step is not part of the journey chosen."
MSG_OWNER_NOT_CI = "The owner must be a member of the CI team."
MSG_UNKNOWN_APPLICATION = "One of the applications chosen no longer exists."
MSG_CLOSED = "{reference} is “{status}”, so its triage details can no longer be changed."


def _locked(opportunity_id: int, expected_version: int | None) -> Opportunity:
    opp = Opportunity.objects.select_for_update().get(pk=opportunity_id)
    if expected_version is not None and opp.version != expected_version:
        raise ApplicationError(
            MSG_STALE.format(current=opp.get_status_display(), version=opp.version),
            {"current_status": opp.status, "current_version": opp.version, "stale": True},
        )
    return opp


@transaction.atomic
def opportunity_triage_update(
    *,
    actor: Any,
    opportunity_id: int,
    expected_version: int | None,
    journey_id: int | None,
    step_id: int | None,
    application_ids: list[int],
    owner_id: int | None,
) -> Opportunity:
    """Set where the opportunity sits in the force's journeys and who in the CI team owns it."""
    if not can(actor, Action.TRIAGE):
        raise ApplicationError(MSG_TRIAGE_FORBIDDEN, {"forbidden": True})
    opp = _locked(opportunity_id, expected_version)
    if opp.status in (Status.DRAFT, Status.DUPLICATE, Status.WITHDRAWN):
        raise ApplicationError(
            MSG_CLOSED.format(reference=opp.reference, status=opp.get_status_display())
        )
    if step_id is not None:
        step = JourneyStep.objects.filter(pk=step_id).only("journey_id").first()
        if step is None or (journey_id is not None and step.journey_id != journey_id):
            raise ApplicationError(MSG_STEP_NOT_IN_JOURNEY, {"field": "step"})
        journey_id = step.journey_id
    if journey_id is not None and not Journey.objects.filter(pk=journey_id).exists():
        raise ApplicationError(MSG_STEP_NOT_IN_JOURNEY, {"field": "step"})
    if owner_id is not None and owner_id != opp.owner_id:
        from synergy_portal.models import User

        owner = User.objects.filter(pk=owner_id, is_active=True).first()
        if owner is None or Role.CI_TEAM not in roles_of(owner):
            raise ApplicationError(MSG_OWNER_NOT_CI, {"field": "owner"})
    wanted = set(application_ids)
    if len(Application.objects.filter(pk__in=wanted)) != len(wanted):
        raise ApplicationError(MSG_UNKNOWN_APPLICATION, {"field": "applications"})

    opp.journey_id, opp.step_id, opp.owner_id = journey_id, step_id, owner_id
    opp.version += 1
    opp.updated_at = timezone.now()
    opp.save(update_fields=["journey", "step", "owner", "version", "updated_at"])
    if wanted != set(opp.applications.values_list("pk", flat=True)):
        opp.applications.set(wanted)
    return opp


@transaction.atomic
def opportunity_comment_update(*, actor: Any, opportunity_id: int, body: str) -> Comment:
    """A comment from the panel. From the CI team it is an update to the submitter, so the
    update-by clock starts again."""
    comment = comment_add(actor=actor, opportunity_id=opportunity_id, body=body)
    if can(actor, Action.TRIAGE):
        deadlines.deadline_update_given(opportunity_id=opportunity_id)
    return comment


def opportunity_reject(
    *, actor: Any, opportunity_id: int, expected_version: int | None, reason: str
) -> TransitionResult:
    """Not taken forward: the reason is shown to the submitter on their opportunity's page."""
    return opportunity_transition(
        actor=actor,
        opportunity_id=opportunity_id,
        to_status=Status.REJECTED,
        expected_version=expected_version,
        reason=reason,
    )
