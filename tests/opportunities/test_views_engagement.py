"""Support, follow and comments on the opportunity page, with and without htmx."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from opportunities.models import Comment, Opportunity, Support
from tests.opportunities.conftest import HTMX
from tests.opportunities.factories import CommentFactory, OpportunityFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_ratelimit")]


def url(opp, action: str) -> str:  # type: ignore[no-untyped-def]
    return f"/opportunities/{opp.reference}/{action}/"


def test_support_twice_counts_once(client_for, staff) -> None:
    opp = OpportunityFactory()
    client = client_for(staff)

    first = client.post(url(opp, "support"))
    second = client.post(url(opp, "support"))

    assert first.status_code == second.status_code == 302
    assert first["Location"] == f"/opportunities/{opp.reference}/#engagement"
    assert Opportunity.objects.get(pk=opp.pk).supporters_count == 1
    assert Support.objects.count() == 1


def test_htmx_support_returns_the_region(client_for, staff) -> None:
    opp = OpportunityFactory()

    response = client_for(staff).post(url(opp, "support"), **HTMX)

    body = response.content.decode()
    assert body.lstrip().startswith('<div id="engagement"')
    assert "You support this." in body
    assert "Remove my support" in body
    assert '<strong class="app-engagement__number">1</strong>' in body


def test_unsupport_and_follow_toggle(client_for, staff) -> None:
    opp = OpportunityFactory()
    client = client_for(staff)
    client.post(url(opp, "support"))
    client.post(url(opp, "unsupport"))
    client.post(url(opp, "unfollow"))

    assert Opportunity.objects.get(pk=opp.pk).supporters_count == 0
    assert not opp.follows.exists()
    body = client.post(url(opp, "follow"), **HTMX).content.decode()
    assert "Stop following" in body


def test_restricted_cannot_be_supported_by_other_staff(client_for, staff) -> None:
    opp = OpportunityFactory(classification="official_sensitive", is_restricted=True)

    assert client_for(staff).post(url(opp, "support")).status_code == 404
    assert not Support.objects.exists()


def test_get_is_not_allowed(client_for, staff) -> None:
    opp = OpportunityFactory()

    assert client_for(staff).get(url(opp, "support")).status_code == 405


def test_a_comment_is_posted_and_escaped(client_for, staff) -> None:
    opp = OpportunityFactory()

    response = client_for(staff).post(
        url(opp, "comments"), {"body": "<img src=x onerror=alert(1)> me too"}, **HTMX
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="comments"')
    assert "&lt;img src=x onerror=alert(1)&gt; me too" in body
    assert "<img src=x" not in body
    assert Comment.objects.get().body == "<img src=x onerror=alert(1)> me too"


def test_an_empty_comment_shows_the_error(client_for, staff) -> None:
    opp = OpportunityFactory()

    response = client_for(staff).post(url(opp, "comments"), {"body": "  "}, **HTMX)

    assert response.status_code == 400
    assert "Write a comment" in response.content.decode()
    assert not Comment.objects.exists()


def test_the_author_edits_a_recent_comment_only(client_for, staff, other_staff) -> None:
    opp = OpportunityFactory()
    mine = CommentFactory(opportunity=opp, author=staff, body="Typo hre")
    old = CommentFactory(
        opportunity=opp, author=staff, body="Old", created_at=timezone.now() - timedelta(hours=1)
    )
    client = client_for(staff)

    page = client.get(f"/opportunities/{opp.reference}/").content.decode()
    assert page.count('Edit<span class="govuk-visually-hidden"> your comment</span>') == 1
    client.post(f"/opportunities/{opp.reference}/comments/{mine.pk}/edit/", {"body": "Typo here"})
    late = client.post(
        f"/opportunities/{opp.reference}/comments/{old.pk}/edit/", {"body": "Changed"}, **HTMX
    )
    other = client_for(other_staff).post(
        f"/opportunities/{opp.reference}/comments/{mine.pk}/edit/", {"body": "Hacked"}
    )

    mine.refresh_from_db()
    old.refresh_from_db()
    assert mine.body == "Typo here" and mine.edited_at is not None
    assert old.body == "Old"
    assert "only be edited for 15 minutes" in late.content.decode()
    assert other.status_code == 403


def test_the_ci_team_hides_a_comment_and_staff_see_the_reason(client_for, ci, staff) -> None:
    opp = OpportunityFactory()
    comment = CommentFactory(opportunity=opp, body="Rude words")
    hide = f"/opportunities/{opp.reference}/comments/{comment.pk}/hide/"

    assert client_for(staff).post(hide, {"reason": "No"}).status_code == 403
    client_for(ci).post(hide, {"reason": "Not respectful"})

    body = client_for(staff).get(f"/opportunities/{opp.reference}/").content.decode()
    assert "Hidden by the CI team: Not respectful" in body
    assert "Rude words" not in body
    assert "Rude words" in client_for(ci).get(f"/opportunities/{opp.reference}/").content.decode()
