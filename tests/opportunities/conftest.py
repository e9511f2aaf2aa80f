"""Fixtures for the submission, opportunity page, browse and "my opportunities" tests.

Nothing here is autouse: modules ask for what they need (``pytestmark`` with usefixtures).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from journeys.models import DnaTheme, Journey, JourneyStep
from opportunities.models import Score, ScoringModel
from opportunities.scoring import DEFAULT_PARAMETERS, DEFAULT_WEIGHTS
from synergy_portal.models import Role, User
from tests.journeys.factories import JourneyFactory, JourneyStepFactory
from tests.synergy_portal.factories import UserFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def no_ratelimit(settings: Any) -> None:
    """Rate limits count in the shared Redis; tests that post a lot switch them off."""
    settings.RATELIMIT_ENABLE = False


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def staff(db: Any) -> User:
    return UserFactory(display_name="Sam Staff")


@pytest.fixture
def other_staff(db: Any) -> User:
    return UserFactory(display_name="Olly Other")


@pytest.fixture
def ci(db: Any) -> User:
    return UserFactory(display_name="Casey CI", roles={Role.CI_TEAM})


@pytest.fixture
def client_for() -> Any:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def dna_themes(db: Any) -> list[DnaTheme]:
    """The seven themes. A data migration makes them, but transactional tests flush tables."""
    import importlib

    themes = importlib.import_module("journeys.migrations.0003_dna_themes").DNA_THEMES
    for position, (code, name, hint) in enumerate(themes, start=1):
        DnaTheme.objects.update_or_create(
            code=code, defaults={"name": name, "hint": hint, "position": position}
        )
    return list(DnaTheme.objects.order_by("position"))


@pytest.fixture
def journey(db: Any) -> Journey:
    journey = JourneyFactory(name="Custody intake")
    for position, name in enumerate(["Book in", "Search", "Risk assessment"], start=1):
        JourneyStepFactory(journey=journey, position=position, name=name)
    return journey


@pytest.fixture
def other_journey(db: Any) -> Journey:
    journey = JourneyFactory(name="Missing person report")
    JourneyStepFactory(journey=journey, position=1, name="Take the report")
    return journey


def first_step(journey: Journey) -> JourneyStep:
    return journey.steps.order_by("position").first()


@pytest.fixture
def scoring_model(db: Any) -> ScoringModel:
    return ScoringModel.objects.create(
        version=1, name="v1", weights=DEFAULT_WEIGHTS, parameters=DEFAULT_PARAMETERS, is_active=True
    )


@pytest.fixture
def scored(scoring_model: ScoringModel, ci: User) -> Any:
    """``scored(opportunity)``: give it a current score through the scoring service."""
    from opportunities.services.scoring import opportunity_score

    def score(opportunity: Any) -> Score:
        return opportunity_score(
            actor=ci,
            opportunity_id=opportunity.pk,
            values={
                "severity": 3,
                "risk_class": "operational",
                "effort_days": 2,
                "confidence": "medium",
            },
        )

    return score
