"""The opportunity page: who may see it, what it shows, attachments, and its query count."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from opportunities.models import Follow, Status, StatusChange, Support
from opportunities.services.attachments import attachments_add
from opportunities.services.workflow import opportunity_transition
from tests.opportunities.factories import CommentFactory, DraftFactory, OpportunityFactory
from tests.opportunities.test_services_attachments import png_bytes
from tests.synergy_portal.factories import UserFactory

# The score section reads the calibration factor from the reporting schema.
pytestmark = [
    pytest.mark.django_db(databases=["default", "reporting"]),
    pytest.mark.usefixtures("no_ratelimit", "media"),
]


def page(opp) -> str:  # type: ignore[no-untyped-def]
    return f"/opportunities/{opp.reference}/"


def test_the_page_shows_the_opportunity(client_for, staff, ci, journey) -> None:
    opp = OpportunityFactory(
        journey=journey, step=journey.steps.first(), title="Rota not on phones", people_affected=25
    )
    opportunity_transition(
        actor=ci, opportunity_id=opp.pk, to_status=Status.TRIAGE, reason="Looking"
    )
    CommentFactory(opportunity=opp, body="Same on nights")

    response = client_for(staff).get(page(opp))

    assert response.status_code == 200
    body = response.content.decode()
    assert "Rota not on phones" in body
    assert opp.reference in body
    assert "Custody intake, step 1: Book in" in body
    assert "A team (10 to 49)" in body
    assert "In triage" in body and "Looking" in body
    assert "Same on nights" in body
    assert "Support this: it affects me too" in body
    assert "Not scored yet" in body
    assert "OFFICIAL" in body


def test_the_score_and_why_are_shown_once_scored(client_for, staff, scored) -> None:
    opp = OpportunityFactory()
    score = scored(opp)

    body = client_for(staff).get(page(opp)).content.decode()

    assert "Why this score" in body
    assert f"£{round(score.priority):,}" in body
    assert "People affected" in body  # a breakdown term
    assert "submission: people affected" in body.lower() or "Submission: people affected" in body


def test_restricted_is_hidden_from_other_staff_but_not_the_ci_team(
    client_for, staff, other_staff, ci
) -> None:
    opp = OpportunityFactory(
        submitter=staff, classification="official_sensitive", is_restricted=True
    )

    assert client_for(other_staff).get(page(opp)).status_code == 404
    assert client_for(staff).get(page(opp)).status_code == 200
    body = client_for(ci).get(page(opp)).content.decode()
    assert "OFFICIAL-SENSITIVE: only the person who raised it" in body


def test_drafts_are_only_for_their_author(client_for, staff, other_staff, ci) -> None:
    draft = DraftFactory(submitter=staff)

    assert client_for(other_staff).get(page(draft)).status_code == 404
    assert client_for(ci).get(page(draft)).status_code == 404
    assert "This is your draft" in client_for(staff).get(page(draft)).content.decode()


def test_the_submitters_name_is_hidden_when_they_asked(client_for, staff, other_staff, ci) -> None:
    opp = OpportunityFactory(submitter=staff, show_submitter_name=False)

    assert "Sam Staff" not in client_for(other_staff).get(page(opp)).content.decode()
    assert "Not shown, at their request" in client_for(other_staff).get(page(opp)).content.decode()
    assert "Sam Staff" in client_for(ci).get(page(opp)).content.decode()


def test_attachments_are_served_only_to_people_who_may_see_them(
    client_for, staff, other_staff
) -> None:
    draft = DraftFactory(submitter=staff)
    attachments_add(
        actor=staff,
        opportunity_id=draft.pk,
        uploads=[SimpleUploadedFile("screen.png", png_bytes(), content_type="image/png")],
    )
    attachment = draft.attachments.get()
    url = f"{page(draft)}attachments/{attachment.pk}/"

    assert client_for(other_staff).get(url).status_code == 404  # still a draft
    response = client_for(staff).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Security-Policy"] == "default-src 'none'; img-src 'self'; sandbox"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == png_bytes()
    download = client_for(staff).get(url + "?download=1")
    assert download["Content-Disposition"].startswith("attachment;")


def test_attachment_of_another_opportunity_is_not_found(client_for, staff) -> None:
    mine = DraftFactory(submitter=staff)
    other = OpportunityFactory()
    attachments_add(
        actor=staff,
        opportunity_id=mine.pk,
        uploads=[SimpleUploadedFile("screen.png", png_bytes(), content_type="image/png")],
    )

    url = f"{page(other)}attachments/{mine.attachments.get().pk}/"

    assert client_for(staff).get(url).status_code == 404


def test_the_submitter_withdraws(client_for, staff) -> None:
    opp = OpportunityFactory(submitter=staff)

    response = client_for(staff).post(f"{page(opp)}withdraw/", {"reason": "Fixed locally"})

    assert response.status_code == 302
    opp.refresh_from_db()
    assert opp.status == Status.WITHDRAWN
    assert StatusChange.objects.filter(
        opportunity=opp, to_status=Status.WITHDRAWN, reason="Fixed locally"
    ).exists()


def test_nobody_else_withdraws(client_for, other_staff) -> None:
    opp = OpportunityFactory()

    assert client_for(other_staff).post(f"{page(opp)}withdraw/").status_code == 403


def _busy(opp, people: int) -> None:  # type: ignore[no-untyped-def]
    for _ in range(people):
        person = UserFactory()
        Support.objects.create(opportunity=opp, user=person)
        Follow.objects.create(opportunity=opp, user=person)
        CommentFactory(opportunity=opp, author=person)
        StatusChange.objects.create(
            opportunity=opp, from_status="submitted", to_status="triage", created_at=timezone.now()
        )


def test_query_count_is_small_and_does_not_grow(
    client_for, staff, scored, journey, django_assert_max_num_queries
) -> None:
    from tests.journeys.factories import ApplicationFactory

    small = OpportunityFactory(journey=journey)
    big = OpportunityFactory(journey=journey)
    for opp in (small, big):
        opp.applications.set([ApplicationFactory(), ApplicationFactory()])
        scored(opp)
    _busy(small, 1)
    _busy(big, 12)
    client = client_for(staff)
    client.get(page(small))  # warm the session

    with django_assert_max_num_queries(10) as few:
        assert client.get(page(small)).status_code == 200
    with django_assert_max_num_queries(10) as many:
        assert client.get(page(big)).status_code == 200

    assert len(many.captured_queries) == len(few.captured_queries)
