"""The step editor: permissions, plain-form POSTs that redirect, htmx swaps that keep focus."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from journeys.models import JourneyStep
from opportunities.models import Status
from synergy_portal.models import Role
from tests.journeys.factories import JourneyFactory, JourneyStepFactory
from tests.opportunities.factories import OpportunityFactory
from tests.synergy_portal.factories import UserFactory

pytestmark = pytest.mark.django_db


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def journey(owner):  # type: ignore[no-untyped-def]
    journey = JourneyFactory(slug="missing", name="Missing person report", owner=owner)
    for position, name in enumerate(["Take the report", "Grade the risk", "Search"], start=1):
        JourneyStepFactory(journey=journey, position=position, name=name)
    return journey


def _names(journey) -> list[str]:  # type: ignore[no-untyped-def]
    return list(
        JourneyStep.objects.filter(journey=journey, retired_at__isnull=True)
        .order_by("position")
        .values_list("name", flat=True)
    )


def _step(journey, name: str) -> JourneyStep:  # type: ignore[no-untyped-def]
    return JourneyStep.objects.get(journey=journey, name=name)


def _move(client: Client, journey, name: str, direction: str, **extra: str):  # type: ignore[no-untyped-def]
    url = reverse("journeys:step_move", args=[journey.slug, _step(journey, name).pk])
    return client.post(url, {"direction": direction}, **extra)


@pytest.mark.parametrize(
    ("who", "status"),
    [("staff", 403), ("other_owner", 403), ("owner", 200), ("ci", 200), ("admin_user", 200)],
)
def test_who_may_open_the_editor_and_move_steps(request, journey, who, status) -> None:
    if who == "other_owner":
        user = UserFactory(roles={Role.JOURNEY_OWNER})
        JourneyFactory(owner=user)
    else:
        user = request.getfixturevalue(who)
    client = _client(user)
    assert client.get(reverse("journeys:edit", args=[journey.slug])).status_code == status
    response = _move(client, journey, "Search", "up")
    if status == 403:
        assert response.status_code == 403
        assert _names(journey) == ["Take the report", "Grade the risk", "Search"]
    else:
        assert response.status_code == 302
        assert _names(journey) == ["Take the report", "Search", "Grade the risk"]


def test_plain_post_redirects_back_to_the_moved_step_with_a_message(journey, owner) -> None:
    client = _client(owner)
    response = _move(client, journey, "Search", "up")
    step = _step(journey, "Search")
    assert (
        response["Location"] == reverse("journeys:edit", args=[journey.slug]) + f"#step-{step.pk}"
    )
    page = client.get(response["Location"]).content.decode()
    assert "Moved “Search” to position 2 of 3." in page


def test_htmx_move_returns_the_editor_with_focus_on_the_same_button(journey, owner) -> None:
    client = _client(owner)
    response = _move(client, journey, "Search", "up", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    step = _step(journey, "Search")
    assert response.status_code == 200
    assert '<div id="step-editor"' in body and "<html" not in body
    assert (
        f'id="move-up-{step.pk}" class="govuk-button govuk-button--secondary app-button-small" data-autofocus'
        in body
    )
    assert 'hx-swap-oob="true">Moved “Search” to position 2 of 3.</div>' in body
    # At the top there is no Up button any more: focus goes to its Down button instead.
    body = _move(client, journey, "Search", "up", HTTP_HX_REQUEST="true").content.decode()
    assert f'id="move-up-{step.pk}"' not in body
    assert (
        f'id="move-down-{step.pk}" class="govuk-button govuk-button--secondary app-button-small" data-autofocus'
        in body
    )


def test_drag_and_drop_order_is_saved_through_the_reorder_form(journey, ci) -> None:
    ids = [_step(journey, n).pk for n in ("Search", "Take the report", "Grade the risk")]
    url = reverse("journeys:steps_reorder", args=[journey.slug])
    response = _client(ci).post(url, {"step": ids}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert _names(journey) == ["Search", "Take the report", "Grade the risk"]
    assert (
        "Saved the new order: 1. Search, 2. Take the report, 3. Grade the risk."
        in response.content.decode()
    )


def test_a_stale_drag_is_refused_and_nothing_moves(journey, ci) -> None:
    url = reverse("journeys:steps_reorder", args=[journey.slug])
    response = _client(ci).post(url, {"step": [_step(journey, "Search").pk]})
    assert response.status_code == 400
    assert "changed while you were reordering" in response.content.decode()
    assert _names(journey) == ["Take the report", "Grade the risk", "Search"]


def test_deleting_a_step_with_opportunities_is_refused_and_retiring_keeps_them(
    journey, owner
) -> None:
    client = _client(owner)
    grade = _step(journey, "Grade the risk")
    opp = OpportunityFactory(journey=journey, step=grade, status=Status.WITHDRAWN)
    delete = reverse("journeys:step_delete", args=[journey.slug, grade.pk])
    response = client.post(delete)
    assert response.status_code == 400
    assert "cannot be deleted" in response.content.decode()
    assert JourneyStep.objects.filter(pk=grade.pk).exists()

    retire = reverse("journeys:step_retire", args=[journey.slug, grade.pk])
    assert client.post(retire).status_code == 302
    assert _names(journey) == ["Take the report", "Search"]
    opp.refresh_from_db()
    assert opp.step_id == grade.pk
    page = client.get(reverse("journeys:edit", args=[journey.slug])).content.decode()
    assert "Retired steps" in page and f'id="restore-{grade.pk}"' in page
    assert (
        f"/steps/{grade.pk}/delete/" not in page
    )  # no Delete button for a step with opportunities


def test_a_step_without_opportunities_can_be_deleted(journey, owner) -> None:
    search = _step(journey, "Search")
    response = _client(owner).post(reverse("journeys:step_delete", args=[journey.slug, search.pk]))
    assert response.status_code == 302
    assert _names(journey) == ["Take the report", "Grade the risk"]


def test_add_and_rename_show_field_errors(journey, owner) -> None:
    client = _client(owner)
    add = reverse("journeys:step_add", args=[journey.slug])
    response = client.post(add, {"name": "", "typical_minutes": "10"})
    body = response.content.decode()
    assert response.status_code == 400
    assert 'href="#add-name"' in body and 'id="add-name-error"' in body
    assert (
        client.post(add, {"name": "Close the report", "typical_minutes": "15"}).status_code == 302
    )
    assert _names(journey)[-1] == "Close the report"

    search = _step(journey, "Search")
    rename = reverse("journeys:step_update", args=[journey.slug, search.pk])
    response = client.post(
        rename, {"name": "Search", "typical_minutes": "lots"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200  # htmx swaps 2xx only: the error shows in the region
    assert f'id="minutes-{search.pk}-error"' in body and "whole number of minutes" in body
    assert (
        client.post(rename, {"name": "Search the area", "typical_minutes": "60"}).status_code == 302
    )
    search.refresh_from_db()
    assert (search.name, search.typical_minutes) == ("Search the area", 60)


def test_a_step_of_another_journey_cannot_be_changed_through_this_one(journey, owner, ci) -> None:
    foreign = JourneyStepFactory(journey=JourneyFactory(), position=1)
    url = reverse("journeys:step_retire", args=[journey.slug, foreign.pk])
    assert _client(ci).post(url).status_code == 404


def test_changes_need_a_post_and_staff_get_the_portals_403_page(journey, staff) -> None:
    client = _client(staff)
    url = reverse("journeys:step_move", args=[journey.slug, _step(journey, "Search").pk])
    assert client.get(url).status_code == 405
    response = client.post(url, {"direction": "up"})
    assert response.status_code == 403
    assert "You cannot see this page" in response.content.decode()
