from __future__ import annotations

import math

import pytest

from journeys.models import JourneyRole
from opportunities.errors import ApplicationError
from opportunities.models import Score, ScoringModel
from opportunities.scoring import DEFAULT_PARAMETERS, DEFAULT_WEIGHTS
from opportunities.services.scoring import (
    MSG_FORBIDDEN,
    MSG_NO_ACTIVE_MODEL,
    opportunity_score,
    score_defaults,
)
from synergy_portal.models import Role
from tests.journeys.factories import JourneyFactory, RoleFactory
from tests.opportunities.factories import OpportunityFactory
from tests.synergy_portal.factories import UserFactory

pytestmark = pytest.mark.django_db
JUDGEMENT = {"severity": 3, "risk_class": "operational", "effort_days": 2, "confidence": "medium"}


@pytest.fixture
def model() -> ScoringModel:
    return ScoringModel.objects.create(
        version=1, name="v1", weights=DEFAULT_WEIGHTS, parameters=DEFAULT_PARAMETERS, is_active=True
    )


def test_defaults_come_from_the_submission_and_the_journeys_roles(model) -> None:
    journey = JourneyFactory()
    JourneyRole.objects.create(
        journey=journey, role=RoleFactory(headcount=300, hourly_cost=30), times_per_week=2
    )
    JourneyRole.objects.create(
        journey=journey, role=RoleFactory(headcount=100, hourly_cost=50), times_per_week=1
    )
    opp = OpportunityFactory(
        journey=journey, people_affected=200, frequency_per_week=5, minutes_per_occurrence=6
    )
    defaults = score_defaults(opportunity=opp, model=model)
    assert defaults["people"].value == 200
    assert defaults["hourly_cost"].value == 35.0  # (300×30 + 100×50) ÷ 400
    assert "headcount-weighted" in defaults["hourly_cost"].source


def test_agreed_score_becomes_current_and_history_is_kept(model) -> None:
    ci = UserFactory(roles={Role.CI_TEAM})
    opp = OpportunityFactory(people_affected=200, frequency_per_week=5, minutes_per_occurrence=6)
    first = opportunity_score(actor=ci, opportunity_id=opp.pk, values=JUDGEMENT)
    second = opportunity_score(
        actor=ci, opportunity_id=opp.pk, values={**JUDGEMENT, "effort_days": 4}
    )
    opp.refresh_from_db()
    assert opp.current_score == second and opp.current_priority == second.priority
    assert Score.objects.filter(opportunity=opp).count() == 2
    first.refresh_from_db()
    assert not first.is_current
    assert math.prod(t["value"] for t in second.breakdown) == second.priority
    assert second.inputs["sources"]["people"] == "submission: people affected"


def test_overriding_a_submitted_figure_needs_a_reason(model) -> None:
    ci = UserFactory(roles={Role.CI_TEAM})
    opp = OpportunityFactory(people_affected=200)
    with pytest.raises(ApplicationError, match="Say why you changed people"):
        opportunity_score(actor=ci, opportunity_id=opp.pk, values={**JUDGEMENT, "people": 900})
    score = opportunity_score(
        actor=ci,
        opportunity_id=opp.pk,
        values={**JUDGEMENT, "people": 900},
        override_reason="All response officers use it, not only one team",
    )
    assert score.inputs["people"] == 900 and score.inputs["sources"]["people"] == "assessor"


def test_staff_cannot_score_and_a_missing_model_is_explained(model) -> None:
    opp = OpportunityFactory()
    with pytest.raises(ApplicationError, match=MSG_FORBIDDEN):
        opportunity_score(actor=UserFactory(), opportunity_id=opp.pk, values=JUDGEMENT)
    ScoringModel.objects.update(is_active=False)
    with pytest.raises(ApplicationError, match=MSG_NO_ACTIVE_MODEL):
        opportunity_score(
            actor=UserFactory(roles={Role.CI_TEAM}), opportunity_id=opp.pk, values=JUDGEMENT
        )
