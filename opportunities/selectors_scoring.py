"""Reads for scores: the "why this score" rows, score history and the assessors' panel."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError
from django.db.models import Q

from opportunities.models import Opportunity, RescoreRun, Score, ScoringModel
from opportunities.scoring import ScoreResult
from opportunities.services.scoring import assessment_round, disagreement_ratio, may_see_panel

# Which input each term of the breakdown comes from (opportunities.scoring.score's terms).
TERM_INPUTS: dict[str, str | None] = {
    "people": "people",
    "frequency": "frequency_per_week",
    "hours_per_occurrence": "minutes",
    "working_weeks": None,
    "hourly_cost": "hourly_cost",
    "risk": "risk_class",
    "severity": "severity",
    "themes": "themes",
    "supporters": "supporters",
    "confidence": "confidence",
    "per_delivery_day": "effort_days",
}
JUDGEMENTS = {"severity", "risk_class", "effort_days", "confidence"}
NOT_RECORDED = "not recorded"


@dataclass(frozen=True)
class TermRow:
    key: str
    label: str
    value: float
    formula: str
    source: str


def _source(
    key: str,
    sources: Mapping[str, str],
    *,
    model_version: int | None,
    override_reason: str,
) -> str:
    name = TERM_INPUTS.get(key)
    if name is None:
        return f"scoring model v{model_version}" if model_version else "scoring model"
    given = sources.get(name)
    if not given:
        return NOT_RECORDED
    if given == "assessor":
        if name in JUDGEMENTS:
            return "assessor's judgement"
        return f"assessor's override: {override_reason}" if override_reason else "assessor"
    return given


def term_rows(
    breakdown: Iterable[Mapping[str, Any]],
    inputs: Mapping[str, Any],
    *,
    model_version: int | None,
) -> list[TermRow]:
    """Every term of a stored or previewed breakdown with the source of its input."""
    sources = inputs.get("sources") or {}
    reason = str(inputs.get("override_reason") or "")
    return [
        TermRow(
            key=str(term.get("key", "")),
            label=str(term.get("label", "")),
            value=float(term.get("value", 0.0)),
            formula=str(term.get("formula", "")),
            source=_source(
                str(term.get("key", "")),
                sources,
                model_version=model_version,
                override_reason=reason,
            ),
        )
        for term in breakdown
    ]


def score_rows(score: Score) -> list[TermRow]:
    return term_rows(score.breakdown, score.inputs, model_version=score.model.version)


def result_rows(
    result: ScoreResult, inputs: Mapping[str, Any], model: ScoringModel
) -> list[TermRow]:
    return term_rows(result.breakdown(), inputs, model_version=model.version)


def breakdown_product(rows: Iterable[TermRow]) -> float:
    return math.prod(row.value for row in rows)


def score_history(*, opportunity_id: int, limit: int = 50) -> list[Score]:
    """Scores that were the opportunity's score at some time (agreed and re-scores), newest
    first. Individual assessments are left out: they are blind until the panel agrees."""
    return list(
        Score.objects.filter(opportunity_id=opportunity_id)
        .filter(Q(kind=Score.Kind.AGREED) | Q(kind=Score.Kind.RESCORE))
        .select_related("model", "scored_by")
        .order_by("-created_at", "-id")[:limit]
    )


logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScoreCalibration:
    """The calibration factor to read a score by (never applied to it): the Value dashboard's
    own :class:`~reporting.dashboards.selectors.calibration.Calibration` (factor, count,
    scope), and this score's cost of time at that rate."""

    basis: Any
    calibrated_cost: float


def score_calibration(*, opportunity: Opportunity, score: Score | None) -> ScoreCalibration | None:
    """From the latest DDI batch (the Value dashboard's "estimate accuracy"). None when
    nothing delivered has realised benefits yet, or the reporting database cannot be read:
    the score is shown either way."""
    if score is None:
        return None
    from reporting.dashboards.selectors.calibration import calibration_for

    try:
        found = calibration_for(journey_key=opportunity.journey_id)
    except DatabaseError:
        logger.warning("Calibration factor unavailable", exc_info=True)
        return None
    if found is None:
        return None
    return ScoreCalibration(
        basis=found, calibrated_cost=float(score.cost_per_year) * float(found.factor)
    )


def score_explain_context(*, opportunity: Opportunity) -> dict[str, Any]:
    """Context for ``opportunities/partials/score_explain.html``: two queries (and the
    calibration factor, read from the reporting schema, cached per batch)."""
    history = score_history(opportunity_id=opportunity.pk)
    current = next((s for s in history if s.pk == opportunity.current_score_id), None)
    if current is None and opportunity.current_score_id:
        current = (
            Score.objects.select_related("model", "scored_by")
            .filter(pk=opportunity.current_score_id)
            .first()
        )
    return {
        "score": current,
        "score_history": history,
        "calibration": score_calibration(opportunity=opportunity, score=current),
    }


@dataclass
class Panel:
    """The current round of individual assessments, as the user may see it."""

    assessments: list[Score]
    visible: bool
    own: Score | None
    threshold: float
    lowest: float | None = None
    highest: float | None = None
    ratio: float | None = None
    disagreement: bool = False
    rows: list[Score] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.assessments)

    @property
    def spread(self) -> float | None:
        if self.lowest is None or self.highest is None:
            return None
        return self.highest - self.lowest


def score_panel(*, opportunity: Opportunity, user: Any, model: ScoringModel | None) -> Panel:
    """Each assessment, the spread of their priorities and whether it passes the model's
    disagreement threshold; hidden from an assessor until they submit their own."""
    assessments = assessment_round(opportunity_id=opportunity.pk)
    visible = may_see_panel(user=user, opportunity=opportunity, assessments=assessments)
    own = next((a for a in assessments if a.scored_by_id == user.pk), None)
    threshold = disagreement_ratio(model) if model is not None else 2.0
    panel = Panel(assessments=assessments, visible=visible, own=own, threshold=threshold)
    if visible:
        panel.rows = assessments
    if len(assessments) >= 2:
        priorities = [a.priority for a in assessments]
        panel.lowest, panel.highest = min(priorities), max(priorities)
        if panel.lowest > 0:
            panel.ratio = panel.highest / panel.lowest
            panel.disagreement = panel.ratio > threshold
        else:
            panel.disagreement = panel.highest > 0
    return panel


def rescore_latest(*, model: ScoringModel | None = None) -> RescoreRun | None:
    qs = RescoreRun.objects.select_related("model", "started_by")
    if model is not None:
        qs = qs.filter(model=model)
    return qs.order_by("-started_at", "-id").first()
