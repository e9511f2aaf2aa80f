"""Writes for journeys: the journey owner and the CI team curate a journey's steps.

Every write locks the journey row first, so two people editing the same journey take turns
and never interleave a reorder. Positions are unique per journey with a deferred constraint,
so swapping two steps is two plain UPDATEs in one transaction. The audit trail is written by
the database triggers on ``JourneyStep`` (django-pghistory), with this service named in the
context of every event.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import pghistory
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from journeys.models import Journey, JourneyStep
from opportunities.errors import ApplicationError
from synergy_portal.permissions import Action, can

MSG_FORBIDDEN = "Only this journey's owner or the CI team can change its steps."
MSG_NAME_REQUIRED = "Enter the step's name."
MSG_MINUTES_INVALID = "Typical duration must be a whole number of minutes from 0 to 1,440."
MSG_STEP_HAS_OPPORTUNITIES = (
    "“{name}” cannot be deleted: {count} {noun} linked to it. Retire the step instead; it "
    "leaves the map and keeps its opportunities."
)
MSG_ALREADY_FIRST = "“{name}” is already the first step."
MSG_ALREADY_LAST = "“{name}” is already the last step."
MSG_RETIRED_CANNOT_MOVE = "“{name}” is retired. Restore it before moving it."
MSG_ALREADY_RETIRED = "“{name}” is already retired."
MSG_NOT_RETIRED = "“{name}” is not retired."
MSG_STALE_ORDER = (
    "The steps changed while you were reordering them, so nothing was moved. Check the order "
    "and try again."
)
MAX_MINUTES = 1440
UP, DOWN = "up", "down"

F = TypeVar("F", bound=Callable[..., Any])


def _in_audit_context(service: str) -> Callable[[F], F]:
    """Name the service in the audit context of every row it changes (a fresh context per
    call: one ``pghistory.context`` instance shared by every call would not be thread-safe)."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            with pghistory.context(service=service):
                return func(*args, **kwargs)

        return run  # type: ignore[return-value]

    return decorate


def _locked_journey(*, actor: Any, journey_id: int) -> Journey:
    journey = Journey.objects.select_for_update().get(pk=journey_id)
    if not can(actor, Action.EDIT_JOURNEY, journey):
        raise ApplicationError(MSG_FORBIDDEN, {"forbidden": True})
    return journey


def _locked_step(*, actor: Any, step_id: int) -> tuple[Journey, JourneyStep]:
    journey_id = JourneyStep.objects.values_list("journey_id", flat=True).get(pk=step_id)
    journey = _locked_journey(actor=actor, journey_id=journey_id)
    return journey, JourneyStep.objects.get(pk=step_id, journey=journey)


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ApplicationError(MSG_NAME_REQUIRED, {"field": "name"})
    return name[:120]


def _clean_minutes(minutes: Any) -> int:
    try:
        value = int(str(minutes).strip() or 0)
    except (TypeError, ValueError):
        raise ApplicationError(MSG_MINUTES_INVALID, {"field": "typical_minutes"}) from None
    if not 0 <= value <= MAX_MINUTES:
        raise ApplicationError(MSG_MINUTES_INVALID, {"field": "typical_minutes"})
    return value


def _active_steps(journey: Journey) -> list[JourneyStep]:
    return list(
        JourneyStep.objects.filter(journey=journey, retired_at__isnull=True).order_by("position")
    )


def _touch(journey: Journey) -> None:
    journey.updated_at = timezone.now()
    journey.save(update_fields=["updated_at"])


@transaction.atomic
@_in_audit_context("journey_step_add")
def journey_step_add(
    *, actor: Any, journey_id: int, name: str, typical_minutes: Any = 0, description: str = ""
) -> JourneyStep:
    """Add a step at the end of the journey."""
    journey = _locked_journey(actor=actor, journey_id=journey_id)
    last = JourneyStep.objects.filter(journey=journey).aggregate(m=Max("position"))["m"] or 0
    step = JourneyStep(
        journey=journey,
        position=last + 1,
        name=_clean_name(name),
        typical_minutes=_clean_minutes(typical_minutes),
        description=description.strip(),
    )
    step.full_clean(validate_unique=False)
    step.save()
    _touch(journey)
    return step


@transaction.atomic
@_in_audit_context("journey_step_update")
def journey_step_update(
    *, actor: Any, step_id: int, name: str, typical_minutes: Any = None
) -> JourneyStep:
    """Rename a step (and change its typical duration); its opportunities stay linked."""
    journey, step = _locked_step(actor=actor, step_id=step_id)
    step.name = _clean_name(name)
    fields = ["name"]
    if typical_minutes is not None:
        step.typical_minutes = _clean_minutes(typical_minutes)
        fields.append("typical_minutes")
    step.full_clean(validate_unique=False)
    step.save(update_fields=fields)
    _touch(journey)
    return step


@transaction.atomic
@_in_audit_context("journey_step_move")
def journey_step_move(*, actor: Any, step_id: int, direction: str) -> JourneyStep:
    """Swap a step with its active neighbour before (``up``) or after (``down``) it."""
    journey, step = _locked_step(actor=actor, step_id=step_id)
    if step.retired_at is not None:
        raise ApplicationError(MSG_RETIRED_CANNOT_MOVE.format(name=step.name))
    steps = _active_steps(journey)
    index = next(i for i, s in enumerate(steps) if s.pk == step.pk)
    if direction == UP:
        if index == 0:
            raise ApplicationError(MSG_ALREADY_FIRST.format(name=step.name))
        other = steps[index - 1]
    elif direction == DOWN:
        if index == len(steps) - 1:
            raise ApplicationError(MSG_ALREADY_LAST.format(name=step.name))
        other = steps[index + 1]
    else:
        raise ApplicationError(f"Unknown direction {direction!r}.")
    step.position, other.position = other.position, step.position
    # The constraint is deferred to commit, so the moment both rows hold one position is fine.
    step.save(update_fields=["position"])
    other.save(update_fields=["position"])
    _touch(journey)
    return step


@transaction.atomic
@_in_audit_context("journey_steps_reorder")
def journey_steps_reorder(*, actor: Any, journey_id: int, step_ids: list[int]) -> list[JourneyStep]:
    """Put the active steps in the order given (drag and drop). Retired steps keep their
    positions; the active ones share out the positions they held before, in the new order."""
    journey = _locked_journey(actor=actor, journey_id=journey_id)
    steps = _active_steps(journey)
    if len(step_ids) != len(set(step_ids)) or set(step_ids) != {s.pk for s in steps}:
        raise ApplicationError(MSG_STALE_ORDER, {"stale": True})
    by_id = {s.pk: s for s in steps}
    positions = [s.position for s in steps]
    changed = []
    for step_id, position in zip(step_ids, positions, strict=True):
        step = by_id[step_id]
        if step.position != position:
            step.position = position
            changed.append(step)
    if changed:
        JourneyStep.objects.bulk_update(changed, ["position"])
        _touch(journey)
    return [by_id[i] for i in step_ids]


@transaction.atomic
@_in_audit_context("journey_step_retire")
def journey_step_retire(*, actor: Any, step_id: int) -> JourneyStep:
    """Take a step off the map, keeping it (and the opportunities linked to it)."""
    journey, step = _locked_step(actor=actor, step_id=step_id)
    if step.retired_at is not None:
        raise ApplicationError(MSG_ALREADY_RETIRED.format(name=step.name))
    step.retired_at = timezone.now()
    step.save(update_fields=["retired_at"])
    _touch(journey)
    return step


@transaction.atomic
@_in_audit_context("journey_step_restore")
def journey_step_restore(*, actor: Any, step_id: int) -> JourneyStep:
    """Put a retired step back on the map at the position it kept."""
    journey, step = _locked_step(actor=actor, step_id=step_id)
    if step.retired_at is None:
        raise ApplicationError(MSG_NOT_RETIRED.format(name=step.name))
    step.retired_at = None
    step.save(update_fields=["retired_at"])
    _touch(journey)
    return step


@transaction.atomic
@_in_audit_context("journey_step_delete")
def journey_step_delete(*, actor: Any, step_id: int) -> str:
    """Delete a step that no opportunity points at (any status, drafts included)."""
    journey, step = _locked_step(actor=actor, step_id=step_id)
    linked = step.opportunities.count()
    if linked:
        noun = "opportunity is" if linked == 1 else "opportunities are"
        raise ApplicationError(
            MSG_STEP_HAS_OPPORTUNITIES.format(name=step.name, count=linked, noun=noun),
            {"has_opportunities": True},
        )
    name = step.name
    step.delete()
    _touch(journey)
    return name
