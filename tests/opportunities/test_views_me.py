"""My opportunities: submissions, drafts, supported, followed; unread notifications."""

from __future__ import annotations

import pytest

from opportunities.models import Follow, Notification, Support
from tests.opportunities.conftest import HTMX
from tests.opportunities.factories import DraftFactory, OpportunityFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_ratelimit")]


def test_lists_each_kind_with_status(client_for, staff) -> None:
    OpportunityFactory(submitter=staff, title="Mine submitted")
    DraftFactory(submitter=staff, title="Mine unfinished")
    supported = OpportunityFactory(title="I support this")
    Support.objects.create(opportunity=supported, user=staff)
    followed = OpportunityFactory(title="I follow this")
    Follow.objects.create(opportunity=followed, user=staff)
    OpportunityFactory(title="Not mine at all")

    body = client_for(staff).get("/me/").content.decode()

    for title in ["Mine submitted", "Mine unfinished", "I support this", "I follow this"]:
        assert title in body
    assert "Not mine at all" not in body
    assert "Submitted (1)" in body and "Drafts (1)" in body
    assert "Supported (1)" in body and "Following (1)" in body
    assert "Last change" in body and "Last saved" in body


def test_restricted_items_i_can_no_longer_see_are_not_listed(client_for, staff) -> None:
    hidden = OpportunityFactory(
        title="Now sensitive", classification="official_sensitive", is_restricted=True
    )
    Follow.objects.create(opportunity=hidden, user=staff)

    assert "Now sensitive" not in client_for(staff).get("/me/").content.decode()


def test_notifications_are_listed_and_marked_read(client_for, staff) -> None:
    opp = OpportunityFactory(submitter=staff)
    first = Notification.objects.create(
        recipient=staff, opportunity=opp, kind="status", message="Now in triage"
    )
    Notification.objects.create(
        recipient=staff, opportunity=opp, kind="comment", message="New comment"
    )
    client = client_for(staff)

    body = client.get("/me/").content.decode()
    assert "2 unread" in body and "Now in triage" in body

    region = client.post("/me/notifications/read/", {"id": first.pk}, **HTMX).content.decode()
    assert region.lstrip().startswith('<section id="notifications"')
    assert "Now in triage" not in region and "1 unread" in region

    response = client.post("/me/notifications/read/")
    assert response["Location"] == "/me/"
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_someone_elses_notification_cannot_be_marked(client_for, staff, other_staff) -> None:
    theirs = Notification.objects.create(recipient=other_staff, kind="status", message="Theirs")

    client_for(staff).post("/me/notifications/read/", {"id": theirs.pk})

    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_me_query_count_does_not_grow(client_for, staff, django_assert_max_num_queries) -> None:
    client = client_for(staff)
    OpportunityFactory(submitter=staff)
    client.get("/me/")
    with django_assert_max_num_queries(10) as few:
        client.get("/me/")
    for _ in range(15):
        opp = OpportunityFactory()
        Support.objects.create(opportunity=opp, user=staff)
        Follow.objects.create(opportunity=opp, user=staff)
        Notification.objects.create(recipient=staff, opportunity=opp, kind="status", message="x")
        DraftFactory(submitter=staff)
    with django_assert_max_num_queries(10) as many:
        client.get("/me/")

    assert len(many.captured_queries) == len(few.captured_queries)
