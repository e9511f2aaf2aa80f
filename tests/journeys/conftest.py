"""Fixtures for the journey screens: people in each role, an active scoring model, and a
helper that gives an opportunity a real current score through the scoring service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from opportunities.models import Opportunity, Score, ScoringModel
from opportunities.scoring import DEFAULT_PARAMETERS, DEFAULT_WEIGHTS
from opportunities.services.scoring import opportunity_score
from synergy_portal.models import Role, User
from tests.synergy_portal.factories import UserFactory

JUDGEMENT = {"severity": 3, "risk_class": "operational", "effort_days": 2, "confidence": "medium"}


@pytest.fixture
def scoring_model(db: Any) -> ScoringModel:
    return ScoringModel.objects.create(
        version=1,
        name="v1",
        weights=DEFAULT_WEIGHTS,
        parameters=DEFAULT_PARAMETERS,
        is_active=True,
    )


@pytest.fixture
def ci(db: Any) -> User:
    return UserFactory(roles={Role.CI_TEAM})


@pytest.fixture
def staff(db: Any) -> User:
    return UserFactory()


@pytest.fixture
def owner(db: Any) -> User:
    return UserFactory(roles={Role.JOURNEY_OWNER})


@pytest.fixture
def admin_user(db: Any) -> User:
    return UserFactory(roles={Role.ADMIN})


@pytest.fixture
def score(scoring_model: ScoringModel, ci: User) -> Callable[..., Score]:
    """``score(opportunity, **judgement)``: an agreed, current score made by the service."""

    def make(opportunity: Opportunity, **values: Any) -> Score:
        return opportunity_score(
            actor=ci, opportunity_id=opportunity.pk, values={**JUDGEMENT, **values}
        )

    return make
