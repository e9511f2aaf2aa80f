"""Writes for submitting an opportunity: drafts (saved, autosaved, resumed) and submission.

One submission form has one token. Autosaves, "save draft" and "submit" from that form all
land on the row keyed by (submitter, token): a double-clicked submit finds the opportunity the
first click submitted and returns it, so it never makes a second one. The unique constraint
``opp_form_token_once`` makes that hold under races too: the loser of two concurrent inserts
waits for the winner's commit, then finds its row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from opportunities.errors import ApplicationError
from opportunities.models import Classification, Opportunity, Status, StatusChange
from opportunities.services.references import reference_allocate
from opportunities.services.workflow import opportunity_transition
from synergy_portal.outbox import outbox_enqueue
from synergy_portal.permissions import Action, can

MSG_FORBIDDEN_SUBMIT = "You do not have permission to submit opportunities."
MSG_NOT_YOUR_DRAFT = "This draft belongs to someone else. You can only change your own drafts."
MSG_NOT_A_DRAFT = "{reference} has already been submitted, so it can no longer be changed here."
MSG_MISSING = "{label} is needed before you can submit."
MSG_STEP_JOURNEY = "That step is not part of the journey you chose."

# Triage aims to give a first response within this many working days of submission.
TRIAGE_WORKING_DAYS = 10  # the default first-response deadline (BoardSettings)

# Fields the form may set; everything else on the row belongs to the workflow or the CI team.
SCALAR_FIELDS = (
    "title",
    "problem",
    "better",
    "journey_id",
    "step_id",
    "department_id",
    "people_affected",
    "frequency_per_week",
    "minutes_per_occurrence",
    "classification",
    "show_submitter_name",
)
M2M_FIELDS = ("application_ids", "theme_ids")
REQUIRED_TO_SUBMIT = {
    "title": "A title",
    "problem": "What gets in your way",
    "people_affected": "How many people it affects",
    "frequency_per_week": "How often it happens",
    "minutes_per_occurrence": "How long it takes each time",
}


@dataclass(frozen=True)
class DraftResult:
    opportunity: Opportunity
    created: bool
    changed: bool


@dataclass(frozen=True)
class SubmitResult:
    opportunity: Opportunity
    already_submitted: bool


def _locked_draft(
    *, actor: Any, form_token: uuid.UUID | None, opportunity_id: int | None
) -> tuple[Opportunity, bool]:
    """The actor's row for this form, locked; created as a draft when there is none yet."""
    if opportunity_id is not None:
        opp = Opportunity.objects.select_for_update().get(pk=opportunity_id)
        if opp.submitter_id != actor.pk:
            raise ApplicationError(MSG_NOT_YOUR_DRAFT, {"forbidden": True})
        return opp, False
    if form_token is None:
        raise ValueError("a form token or an opportunity id is needed")
    existing = (
        Opportunity.objects.select_for_update()
        .filter(submitter_id=actor.pk, form_token=form_token)
        .first()
    )
    if existing is not None:
        return existing, False
    now = timezone.now()
    opp = Opportunity(
        reference=reference_allocate(year=timezone.localdate().year)[0],
        title="",
        problem="",
        status=Status.DRAFT,
        submitter=actor,
        department_id=getattr(actor, "department_id", None),
        form_token=form_token,
        created_at=now,
        updated_at=now,
        status_changed_at=now,
    )
    try:
        with transaction.atomic():
            opp.save()
    except IntegrityError:
        # A concurrent request with the same form token inserted first; now it has committed.
        return (
            Opportunity.objects.select_for_update().get(
                submitter_id=actor.pk, form_token=form_token
            ),
            False,
        )
    StatusChange.objects.create(
        opportunity=opp, from_status="", to_status=Status.DRAFT, actor=actor, created_at=now
    )
    return opp, True


def _apply(opp: Opportunity, values: dict[str, Any]) -> bool:
    """Copy the given values onto the row; True when anything changed."""
    changed = False
    for name in SCALAR_FIELDS:
        if name in values and getattr(opp, name) != values[name]:
            setattr(opp, name, values[name])
            changed = True
    if opp.step_id is not None and opp.journey_id is None:
        raise ValidationError({"step": MSG_STEP_JOURNEY})
    restricted = opp.classification == Classification.OFFICIAL_SENSITIVE
    if opp.is_restricted != restricted:
        opp.is_restricted = restricted
        changed = True
    return changed


def _apply_m2m(opp: Opportunity, values: dict[str, Any]) -> bool:
    changed = False
    for name, relation in (("application_ids", opp.applications), ("theme_ids", opp.dna_themes)):
        if name not in values:
            continue
        wanted = set(values[name])
        current = set(relation.values_list("pk", flat=True))
        if wanted != current:
            relation.set(wanted)
            changed = True
    return changed


def _check_step(values: dict[str, Any]) -> None:
    step_id, journey_id = values.get("step_id"), values.get("journey_id")
    if step_id is None:
        return
    from journeys.models import JourneyStep

    if not JourneyStep.objects.filter(pk=step_id, journey_id=journey_id).exists():
        raise ValidationError({"step": MSG_STEP_JOURNEY})


def _save(opp: Opportunity, *, strict: bool) -> None:
    blank_allowed = [] if strict else [n for n in ("title", "problem") if not getattr(opp, n)]
    opp.updated_at = timezone.now()
    opp.full_clean(exclude=blank_allowed)
    opp.save()


@transaction.atomic
def opportunity_draft_save(
    *,
    actor: Any,
    values: dict[str, Any],
    form_token: uuid.UUID | None = None,
    opportunity_id: int | None = None,
) -> DraftResult:
    """Save what the person has typed so far as their draft (created on first save).

    ``values`` holds only the fields that passed validation; others keep their saved value.
    """
    if not can(actor, Action.SUBMIT):
        raise ApplicationError(MSG_FORBIDDEN_SUBMIT, {"forbidden": True})
    opp, created = _locked_draft(actor=actor, form_token=form_token, opportunity_id=opportunity_id)
    if opp.status != Status.DRAFT:
        raise ApplicationError(
            MSG_NOT_A_DRAFT.format(reference=opp.reference),
            {"already_submitted": True, "reference": opp.reference},
        )
    if "step_id" in values and "journey_id" not in values:
        values = {**values, "journey_id": opp.journey_id}
    _check_step(values)
    changed = _apply(opp, values)
    if changed or created:
        _save(opp, strict=False)
    changed = _apply_m2m(opp, values) or changed
    return DraftResult(opportunity=opp, created=created, changed=changed)


@transaction.atomic
def opportunity_submit(
    *,
    actor: Any,
    values: dict[str, Any],
    form_token: uuid.UUID | None = None,
    opportunity_id: int | None = None,
) -> SubmitResult:
    """Save the final answers and submit. Submitting the same form twice returns the first."""
    if not can(actor, Action.SUBMIT):
        raise ApplicationError(MSG_FORBIDDEN_SUBMIT, {"forbidden": True})
    opp, _ = _locked_draft(actor=actor, form_token=form_token, opportunity_id=opportunity_id)
    if opp.status != Status.DRAFT:
        return SubmitResult(opportunity=opp, already_submitted=True)
    _check_step(values)
    _apply(opp, values)
    missing = {
        name.removesuffix("_id"): MSG_MISSING.format(label=label)
        for name, label in REQUIRED_TO_SUBMIT.items()
        if getattr(opp, name) in (None, "")
    }
    if missing:
        raise ValidationError(missing)
    from opportunities.services.deadlines import first_response_due_from

    # The configured first-response deadline (board settings; 10 working days by default).
    opp.first_response_due = first_response_due_from(timezone.localdate())
    _save(opp, strict=True)
    _apply_m2m(opp, values)
    result = opportunity_transition(
        actor=actor, opportunity_id=opp.pk, to_status=Status.SUBMITTED, expected_version=opp.version
    )
    opp = result.opportunity
    outbox_enqueue(topic="opportunity.submitted", payload={"opportunity_id": opp.pk})
    if getattr(settings, "TEAMS_WEBHOOK_URL", "") and not opp.is_restricted:
        outbox_enqueue(topic="teams.post", payload={"opportunity_id": opp.pk, "event": "submitted"})
    return SubmitResult(opportunity=opp, already_submitted=False)


@transaction.atomic
def opportunity_draft_delete(*, actor: Any, opportunity_id: int) -> str:
    """Delete the actor's own draft and its files. Returns the draft's reference."""
    opp = Opportunity.objects.select_for_update().get(pk=opportunity_id)
    if not can(actor, Action.EDIT_DRAFT, opp):
        raise ApplicationError(MSG_NOT_YOUR_DRAFT, {"forbidden": True})
    files = [(a.file.storage, a.file.name) for a in opp.attachments.all()]
    reference = opp.reference
    opp.delete()
    transaction.on_commit(lambda: [storage.delete(path) for storage, path in files])
    return reference
