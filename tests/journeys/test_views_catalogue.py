"""The journey catalogue and journey map: figures, visibility, the step list, query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from journeys.selectors import heat_bucket
from opportunities.models import Classification, Status
from synergy_portal.models import Role
from tests.journeys.factories import (
    ApplicationFactory,
    JourneyFactory,
    JourneyRoleFactory,
    JourneyStepFactory,
)
from tests.opportunities.factories import OpportunityFactory
from tests.synergy_portal.factories import UserFactory

pytestmark = pytest.mark.django_db


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def _grow(score, *, journeys: int, steps: int, per_step: int) -> None:  # type: ignore[no-untyped-def]
    """More journeys, roles, steps, applications and scored opportunities."""
    for _ in range(journeys):
        journey = JourneyFactory(owner=UserFactory(roles={Role.JOURNEY_OWNER}))
        JourneyRoleFactory(journey=journey)
        JourneyRoleFactory(journey=journey)
        shared = ApplicationFactory()
        for position in range(1, steps + 1):
            step = JourneyStepFactory(journey=journey, position=position)
            step.applications.add(shared, ApplicationFactory())
            for _ in range(per_step):
                opp = OpportunityFactory(journey=journey, step=step)
                opp.applications.add(shared)
                score(opp)


def _queries(client: Client, url: str, **extra: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **extra)
    assert response.status_code == 200
    return len(captured)


@pytest.fixture
def custody(score, owner):  # type: ignore[no-untyped-def]
    """A journey of three steps: the second hurts most, the third has nothing open."""
    journey = JourneyFactory(name="Custody booking-in", slug="custody", owner=owner)
    JourneyRoleFactory(journey=journey, role__name="Custody Sergeant", role__headcount=900)
    app = ApplicationFactory(name="CustodyPoint")
    arrive = JourneyStepFactory(journey=journey, position=1, name="Arrive")
    book_in = JourneyStepFactory(journey=journey, position=2, name="Book in")
    cell = JourneyStepFactory(journey=journey, position=3, name="Cell")
    for step in (arrive, book_in, cell):
        step.applications.add(app)
    small = OpportunityFactory(journey=journey, step=arrive, title="Queue at the door")
    big = OpportunityFactory(
        journey=journey, step=book_in, title="Typing it three times", people_affected=600
    )
    also = OpportunityFactory(journey=journey, step=book_in, title="Printer jams")
    unscored = OpportunityFactory(journey=journey, step=book_in, title="Not yet scored")
    closed = OpportunityFactory(
        journey=journey,
        step=book_in,
        title="Closed one",
        status=Status.REJECTED,
        rejection_reason="No",
    )
    draft = OpportunityFactory(journey=journey, step=book_in, title="A draft", status=Status.DRAFT)
    restricted = OpportunityFactory(
        journey=journey,
        step=book_in,
        title="Restricted one",
        is_restricted=True,
        classification=Classification.OFFICIAL_SENSITIVE,
    )
    scores = {opp.pk: score(opp) for opp in (small, big, also, closed, restricted)}
    return {
        "journey": journey,
        "arrive": arrive,
        "book_in": book_in,
        "cell": cell,
        "scores": scores,
        "small": small,
        "big": big,
        "also": also,
        "unscored": unscored,
        "closed": closed,
        "draft": draft,
        "restricted": restricted,
    }


def test_map_heat_is_the_sum_of_the_open_opportunities_the_user_may_see(custody, staff, ci) -> None:
    scores = custody["scores"]
    url = reverse("journeys:map", args=["custody"])

    heat = {s.step.name: s.heat for s in _client(staff).get(url).context["map"].steps}
    visible = [scores[custody[k].pk] for k in ("big", "also")]
    assert (
        heat["Book in"].count == 3
    )  # big, also and the unscored one: not closed, draft, restricted
    assert heat["Book in"].scored == 2 and heat["Book in"].unscored == 1
    assert heat["Book in"].hours == pytest.approx(sum(s.hours_per_year for s in visible))
    assert heat["Book in"].impact == pytest.approx(sum(s.impact for s in visible))
    assert heat["Arrive"].impact == pytest.approx(scores[custody["small"].pk].impact)
    assert (heat["Book in"].bucket, heat["Cell"].bucket) == (5, 0)
    assert 1 <= heat["Arrive"].bucket < 5

    ci_heat = {s.step.name: s.heat for s in _client(ci).get(url).context["map"].steps}
    assert ci_heat["Book in"].count == 4  # the CI team also sees the restricted one


def test_map_writes_the_heat_as_numbers_and_in_a_table(custody, staff) -> None:
    response = _client(staff).get(reverse("journeys:map", args=["custody"]))
    body = response.content.decode()
    step = response.context["map"].steps[1]
    assert f"£{step.heat.impact:,.0f} a year" in body
    assert f"{step.heat.hours:,.0f} hours a year" in body
    assert 'class="app-heat app-heat--5"' in body
    assert "Impact by step" in body and "Worst step" in body
    assert "CustodyPoint" in body and "Custody Sergeant" in body


def test_a_step_lists_its_open_opportunities_with_a_real_link_and_as_an_htmx_fragment(
    custody, staff
) -> None:
    client = _client(staff)
    book_in = custody["book_in"]
    url = reverse("journeys:map", args=["custody"])
    page = client.get(url).content.decode()
    assert f'href="?step={book_in.pk}#step-opportunities"' in page
    assert f'hx-get="?step={book_in.pk}"' in page

    full = client.get(url, {"step": book_in.pk})
    assert full.context["map"].selected == book_in
    fragment = client.get(url, {"step": book_in.pk}, HTTP_HX_REQUEST="true")
    text = fragment.content.decode()
    assert not text.lstrip().startswith("<!DOCTYPE")
    assert 'id="step-opportunities"' in text
    positions = [text.index(t) for t in ("Typing it three times", "Printer jams", "Not yet scored")]
    assert positions == sorted(positions)  # highest priority first, the unscored one last
    for hidden in ("Closed one", "A draft", "Restricted one"):
        assert hidden not in text


def test_an_unknown_step_or_a_step_of_another_journey_is_not_found(custody, staff) -> None:
    other = JourneyStepFactory(journey=JourneyFactory(), position=1)
    client = _client(staff)
    url = reverse("journeys:map", args=["custody"])
    assert client.get(url, {"step": other.pk}).status_code == 404
    assert client.get(url, {"step": "x"}, HTTP_HX_REQUEST="true").status_code == 404
    assert client.get(reverse("journeys:map", args=["no-such"])).status_code == 404


def test_catalogue_lists_journeys_with_roles_steps_and_open_figures(custody, staff) -> None:
    response = _client(staff).get(reverse("journeys:list"))
    body = response.content.decode()
    (journey,) = response.context["journeys"]
    assert journey.open_count == 4  # small, big, also, unscored
    assert [s.name for s in journey.active_steps] == ["Arrive", "Book in", "Cell"]
    assert "Custody Sergeant" in body and "£32.50" in body
    assert reverse("journeys:map", args=["custody"]) in body
    assert reverse("journeys:edit", args=["custody"]) not in body  # staff may not edit


def test_catalogue_offers_editing_to_the_journeys_owner(custody, owner) -> None:
    body = _client(owner).get(reverse("journeys:list")).content.decode()
    assert reverse("journeys:edit", args=["custody"]) in body


def test_catalogue_and_map_queries_stay_constant_as_data_grows(score, staff) -> None:
    client = _client(staff)
    _grow(score, journeys=1, steps=2, per_step=1)
    slug = JourneyFactory._meta.model.objects.first().slug
    client.get(reverse("journeys:list"))  # the first request also loads the session
    small = (
        _queries(client, reverse("journeys:list")),
        _queries(client, reverse("journeys:map", args=[slug])),
    )
    _grow(score, journeys=3, steps=5, per_step=3)
    large = (
        _queries(client, reverse("journeys:list")),
        _queries(client, reverse("journeys:map", args=[slug])),
    )
    assert small == large
    assert large[0] <= 10 and large[1] <= 10


def test_pages_need_a_person_signed_in(custody) -> None:
    anonymous = Client()
    response = anonymous.get(reverse("journeys:map", args=["custody"]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    ddi = UserFactory(roles={Role.DDI_SERVICE})
    assert _client(ddi).get(reverse("journeys:list")).status_code == 403


@pytest.mark.parametrize(
    ("impact", "count", "worst", "bucket"),
    [
        (0, 0, 100, 0),
        (0, 3, 100, 1),
        (100, 1, 100, 5),
        (10, 1, 100, 4),
        (1, 1, 100, 2),
        (0.01, 1, 100, 1),
        (5, 1, 0, 1),
    ],
)
def test_heat_buckets_are_a_log_scale_of_the_worst_step(impact, count, worst, bucket) -> None:
    assert heat_bucket(impact, count, worst) == bucket


def test_the_back_button_gets_the_whole_map_not_the_fragment(custody, staff) -> None:
    url = reverse("journeys:map", args=["custody"])
    response = _client(staff).get(
        url,
        {"step": custody["book_in"].pk},
        HTTP_HX_REQUEST="true",
        HTTP_HX_HISTORY_RESTORE_REQUEST="true",
    )
    assert "<html" in response.content.decode()
