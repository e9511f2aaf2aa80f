"""Writes for scores: score an opportunity with the active model, keep every score in history.

Defaults come from the submission (people, frequency, minutes), the opportunity (supporters,
DNA themes) and the journey (the headcount-weighted hourly cost of the roles that perform it);
an assessor may override a default, but only with a reason, which is kept with the inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from journeys.models import JourneyRole, Role
from opportunities import scoring
from opportunities.errors import ApplicationError
from opportunities.models import Opportunity, Score, ScoringModel
from synergy_portal.permissions import Action, can

MSG_NO_ACTIVE_MODEL = "No scoring model is active. An admin must activate one first."
MSG_FORBIDDEN = "Only the CI team can score opportunities."
MSG_OVERRIDE_NEEDS_REASON = "Say why you changed {fields} from the submitted figures."
MSG_ABOVE_HEADCOUNT = (
    "People affected ({people:,}) is more than everyone in the force ({headcount:,}). "
    "Check the figure."
)
MSG_ALREADY_ASSESSED = (
    "You have already assessed this opportunity in this round. The lead records the agreed score."
)
MSG_AGREE_NEEDS_PANEL = (
    "Other assessors have scored this opportunity. Submit your own assessment first, or ask "
    "the lead (its owner) to record the agreed score."
)
MSG_AGREE_NEEDS_NOTE = "Say how the panel reached the agreed score."

# How far apart assessors' priorities may be (highest ÷ lowest) before the panel is flagged;
# a model may set its own in ``parameters["disagreement_ratio"]``.
DEFAULT_DISAGREEMENT_RATIO = 2.0

SOURCE_NOT_SUBMITTED = "assessor (the submission did not give it)"

# Assessor judgements: no default from the submission, always given by the assessor.
JUDGEMENT_FIELDS = ("severity", "risk_class", "effort_days", "confidence")
# Figures with defaults from the submission or the journey; overriding one needs a reason.
DEFAULTED_FIELDS = (
    "people",
    "frequency_per_week",
    "minutes",
    "hourly_cost",
    "supporters",
    "themes",
)


@dataclass(frozen=True)
class InputDefault:
    value: float | int | None
    source: str


def active_model() -> ScoringModel:
    model = ScoringModel.objects.filter(is_active=True).first()
    if model is None:
        raise ApplicationError(MSG_NO_ACTIVE_MODEL)
    return model


def journey_hourly_cost(*, journey_id: int | None, fallback: float) -> InputDefault:
    """Headcount-weighted loaded hourly cost of the roles that perform the journey."""
    if journey_id is None:
        return InputDefault(fallback, "the scoring model's default hourly cost (no journey given)")
    totals = JourneyRole.objects.filter(journey_id=journey_id).aggregate(
        cost=Sum(F("role__hourly_cost") * F("role__headcount")), people=Sum("role__headcount")
    )
    if not totals["people"]:
        return InputDefault(
            fallback, "the scoring model's default hourly cost (journey has no roles)"
        )
    value = float(Decimal(totals["cost"]) / Decimal(totals["people"]))
    return InputDefault(round(value, 2), "headcount-weighted cost of the journey's roles")


def force_headcount() -> int:
    """Everyone in the force: the headcounts of all job roles (0 when none are recorded)."""
    return int(Role.objects.aggregate(total=Sum("headcount"))["total"] or 0)


def disagreement_ratio(model: ScoringModel) -> float:
    try:
        ratio = float(model.parameters.get("disagreement_ratio", DEFAULT_DISAGREEMENT_RATIO))
    except (TypeError, ValueError):
        return DEFAULT_DISAGREEMENT_RATIO
    return ratio if ratio > 1 else DEFAULT_DISAGREEMENT_RATIO


def score_defaults(*, opportunity: Opportunity, model: ScoringModel) -> dict[str, InputDefault]:
    parameters = {**scoring.DEFAULT_PARAMETERS, **model.parameters}
    return {
        "people": InputDefault(opportunity.people_affected, "submission: people affected"),
        "frequency_per_week": InputDefault(
            float(opportunity.frequency_per_week)
            if opportunity.frequency_per_week is not None
            else None,
            "submission: how often",
        ),
        "minutes": InputDefault(
            float(opportunity.minutes_per_occurrence)
            if opportunity.minutes_per_occurrence is not None
            else None,
            "submission: minutes each time",
        ),
        "hourly_cost": journey_hourly_cost(
            journey_id=opportunity.journey_id, fallback=float(parameters["default_hourly_cost"])
        ),
        "supporters": InputDefault(opportunity.supporters_count, "supporters on the portal"),
        "themes": InputDefault(opportunity.dna_themes.count(), "DNA themes ticked"),
    }


def score_preview(
    *, opportunity: Opportunity, values: dict[str, Any], model: ScoringModel | None = None
) -> tuple[scoring.ScoreResult, dict[str, Any], dict[str, str]]:
    """Compute (without saving) the score for ``values`` over the defaults.

    Returns the result, the full inputs used and where each input came from.
    Raises scoring.ScoringError naming the field when an input is unusable.
    """
    model = model or active_model()
    defaults = score_defaults(opportunity=opportunity, model=model)
    inputs: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name in DEFAULTED_FIELDS:
        given = values.get(name)
        if given not in (None, ""):
            inputs[name] = given
            if defaults[name].value is None:
                # Filling a figure the submission left out is not overriding it.
                sources[name] = SOURCE_NOT_SUBMITTED
            else:
                sources[name] = (
                    "assessor" if given != defaults[name].value else defaults[name].source
                )
        else:
            inputs[name] = defaults[name].value
            sources[name] = defaults[name].source
    for name in JUDGEMENT_FIELDS:
        inputs[name] = values.get(name)
        sources[name] = "assessor"
    for name in ("people", "frequency_per_week", "minutes"):
        if inputs[name] is None:
            raise scoring.ScoringError(name, f"{name} is needed: the submission did not give it.")
    try:
        typed = scoring.ScoreInputs(
            people=int(inputs["people"]),
            frequency_per_week=float(inputs["frequency_per_week"]),
            minutes=float(inputs["minutes"]),
            severity=int(inputs["severity"]),
            risk_class=str(inputs["risk_class"]),
            themes=int(inputs["themes"]),
            supporters=int(inputs["supporters"]),
            effort_days=float(inputs["effort_days"]),
            confidence=str(inputs["confidence"]),
            hourly_cost=float(inputs["hourly_cost"]),
        )
    except (TypeError, ValueError) as exc:
        missing = next((n for n in JUDGEMENT_FIELDS if inputs.get(n) in (None, "")), "inputs")
        raise scoring.ScoringError(
            missing, f"{missing} must be given as a number or a choice."
        ) from exc
    result = scoring.score(typed, model.weights or None, model.parameters or None)
    headcount = force_headcount()
    if headcount and typed.people > headcount:
        raise scoring.ScoringError(
            "people", MSG_ABOVE_HEADCOUNT.format(people=typed.people, headcount=headcount)
        )
    return result, {**typed.__dict__}, sources


def assessment_round(*, opportunity_id: int) -> list[Score]:
    """The individual assessments since the last agreed score (the current round), oldest
    first, with their assessors."""
    last_agreed = (
        Score.objects.filter(opportunity_id=opportunity_id, kind=Score.Kind.AGREED)
        .order_by("-created_at", "-id")
        .values_list("created_at", flat=True)
        .first()
    )
    qs = Score.objects.filter(opportunity_id=opportunity_id, kind=Score.Kind.ASSESSMENT)
    if last_agreed is not None:
        qs = qs.filter(created_at__gt=last_agreed)
    return list(qs.select_related("scored_by", "model").order_by("created_at", "id"))


def may_see_panel(*, user: Any, opportunity: Opportunity, assessments: list[Score]) -> bool:
    """Assessments are blind: an assessor sees the others' once they have submitted their
    own. The lead (the opportunity's owner) and admins see them throughout."""
    if not can(user, Action.SCORE):
        return False
    if opportunity.owner_id == user.pk or can(user, Action.ADMIN):
        return True
    return any(a.scored_by_id == user.pk for a in assessments)


def _check_round(*, actor: Any, opp: Opportunity, kind: str, note: str) -> None:
    if kind not in (Score.Kind.ASSESSMENT, Score.Kind.AGREED):
        return
    assessments = assessment_round(opportunity_id=opp.pk)
    if kind == Score.Kind.ASSESSMENT:
        if any(a.scored_by_id == actor.pk for a in assessments):
            raise ApplicationError(MSG_ALREADY_ASSESSED, {"already_assessed": True})
        return
    if not assessments:
        return
    if not may_see_panel(user=actor, opportunity=opp, assessments=assessments):
        raise ApplicationError(MSG_AGREE_NEEDS_PANEL, {"forbidden": True})
    if not note.strip():
        raise ApplicationError(MSG_AGREE_NEEDS_NOTE, {"field": "note"})


@transaction.atomic
def opportunity_score(
    *,
    actor: Any,
    opportunity_id: int,
    values: dict[str, Any],
    override_reason: str = "",
    note: str = "",
    kind: str = Score.Kind.AGREED,
    model: ScoringModel | None = None,
) -> Score:
    """Score an opportunity and keep the score. An agreed (or re-)score becomes the current one."""
    if kind != Score.Kind.RESCORE and not can(actor, Action.SCORE):
        raise ApplicationError(MSG_FORBIDDEN, {"forbidden": True})
    opp = Opportunity.objects.select_for_update().get(pk=opportunity_id)
    model = model or active_model()
    _check_round(actor=actor, opp=opp, kind=kind, note=note)
    result, inputs, sources = score_preview(opportunity=opp, values=values, model=model)
    overridden = [
        name
        for name, source in sources.items()
        if source == "assessor" and name in DEFAULTED_FIELDS
    ]
    if overridden and kind != Score.Kind.RESCORE and not override_reason.strip():
        raise ApplicationError(
            MSG_OVERRIDE_NEEDS_REASON.format(fields=", ".join(overridden)),
            {"field": "override_reason"},
        )
    current = kind in (Score.Kind.AGREED, Score.Kind.RESCORE)
    if current:
        Score.objects.filter(opportunity=opp, is_current=True).update(is_current=False)
    score = Score(
        opportunity=opp,
        model=model,
        kind=kind,
        inputs={**inputs, "sources": sources, "override_reason": override_reason.strip()},
        breakdown=result.breakdown(),
        hours_per_year=result.hours_per_year,
        cost_per_year=result.cost_per_year,
        impact=result.impact,
        priority=result.priority,
        effort_days=result.effort_days,
        fits_two_speed=result.fits_two_speed,
        is_current=current,
        scored_by=actor if kind != Score.Kind.RESCORE else None,
        note=note.strip(),
        created_at=timezone.now(),
    )
    score.full_clean()
    score.save()
    if current:
        opp.current_score = score
        opp.current_priority = result.priority
        opp.updated_at = score.created_at
        opp.save(update_fields=["current_score", "current_priority", "updated_at"])
    return score
