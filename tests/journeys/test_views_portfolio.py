"""The application portfolio: ranked by the impact of open opportunities, decommission list."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from journeys.models import Application
from opportunities.models import Classification, Status
from tests.journeys.factories import ApplicationFactory, JourneyFactory, JourneyStepFactory
from tests.opportunities.factories import OpportunityFactory

pytestmark = pytest.mark.django_db


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def portfolio(score):  # type: ignore[no-untyped-def]
    journey = JourneyFactory(name="Crime recording", slug="crime")
    retired_journey = JourneyFactory(name="Old journey", slug="old", is_active=False)
    heavy = ApplicationFactory(name="Heavy RMS", debt_rating=2)
    light = ApplicationFactory(name="Light Forms", debt_rating=5)
    sunset = ApplicationFactory(name="Old Spreadsheet", lifecycle=Application.Lifecycle.SUNSET)
    planned = ApplicationFactory(
        name="Legacy Tracker", lifecycle=Application.Lifecycle.DECOMMISSION_PLANNED
    )
    unused_sunset = ApplicationFactory(name="Gone Soon", lifecycle=Application.Lifecycle.SUNSET)
    record = JourneyStepFactory(journey=journey, position=1, name="Record the crime")
    allocate = JourneyStepFactory(journey=journey, position=2, name="Allocate")
    retired = JourneyStepFactory(
        journey=journey, position=3, name="Fax it", retired_at=timezone.now()
    )
    old_step = JourneyStepFactory(journey=retired_journey, position=1, name="Old step")
    record.applications.add(heavy, sunset)
    allocate.applications.add(heavy, light, planned)
    retired.applications.add(unused_sunset)
    old_step.applications.add(unused_sunset)

    big = OpportunityFactory(journey=journey, step=record, people_affected=900)
    small = OpportunityFactory(journey=journey, step=allocate, people_affected=20)
    third = OpportunityFactory(journey=journey, step=allocate, people_affected=10)
    closed = OpportunityFactory(journey=journey, status=Status.WITHDRAWN, people_affected=900)
    secret = OpportunityFactory(
        journey=journey, is_restricted=True, classification=Classification.OFFICIAL_SENSITIVE
    )
    big.applications.add(heavy)
    small.applications.add(light)
    third.applications.add(light)
    closed.applications.add(light)
    secret.applications.add(light)
    scores = {o.pk: score(o) for o in (big, small, third, closed, secret)}
    return {
        "heavy": heavy,
        "light": light,
        "scores": scores,
        "big": big,
        "small": small,
        "third": third,
    }


def test_portfolio_ranks_applications_by_the_impact_of_their_open_opportunities(
    portfolio, staff
) -> None:
    response = _client(staff).get(reverse("journeys:applications"))
    rows = [app for app, _ in response.context["rows"]]
    assert [a.name for a in rows[:2]] == ["Heavy RMS", "Light Forms"]
    heavy, light = rows[0], rows[1]
    scores = portfolio["scores"]
    assert heavy.open_count == 1
    assert heavy.open_impact == pytest.approx(scores[portfolio["big"].pk].impact)
    assert light.open_count == 2  # not the withdrawn one, nor the restricted one for staff
    assert light.open_impact == pytest.approx(
        scores[portfolio["small"].pk].impact + scores[portfolio["third"].pk].impact
    )
    body = response.content.decode()
    assert f"£{heavy.open_impact:,.0f}" in body
    assert 'aria-sort="descending"' in body


def test_portfolio_shows_the_journeys_and_active_steps_that_use_each_application(
    portfolio, staff
) -> None:
    response = _client(staff).get(reverse("journeys:applications"))
    uses = {
        app.name: [(j.name, [s.name for s in steps]) for j, steps in journeys]
        for app, journeys in response.context["rows"]
    }
    assert uses["Heavy RMS"] == [("Crime recording", ["Record the crime", "Allocate"])]
    assert uses["Gone Soon"] == []  # only a retired step and an inactive journey use it


def test_portfolio_sorts_by_other_columns_and_ignores_unknown_sorts(portfolio, staff) -> None:
    client = _client(staff)
    by_debt = client.get(reverse("journeys:applications"), {"sort": "debt"})
    assert [a.name for a, _ in by_debt.context["rows"]][0] == "Light Forms"
    by_name = client.get(reverse("journeys:applications"), {"sort": "name"})
    names = [a.name for a, _ in by_name.context["rows"]]
    assert names == sorted(names)
    odd = client.get(reverse("journeys:applications"), {"sort": "drop table"})
    assert odd.context["sort"] == "impact"


def test_decommission_candidates_are_sunset_apps_still_used_by_active_steps(
    portfolio, staff
) -> None:
    response = _client(staff).get(reverse("journeys:applications"))
    candidates = [app.name for app, _ in response.context["candidates"]]
    assert sorted(candidates) == ["Legacy Tracker", "Old Spreadsheet"]
    assert "Decommission candidates" in response.content.decode()


def test_portfolio_queries_stay_constant_as_data_grows(portfolio, staff, score) -> None:
    client = _client(staff)
    url = reverse("journeys:applications")
    client.get(url)  # the first request also loads the session

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    before = count()
    journey = JourneyFactory()
    for position in range(1, 6):
        step = JourneyStepFactory(journey=journey, position=position)
        for _ in range(3):
            app = ApplicationFactory()
            step.applications.add(app)
            opp = OpportunityFactory(journey=journey, step=step)
            opp.applications.add(app)
            score(opp)
    assert count() == before <= 8
