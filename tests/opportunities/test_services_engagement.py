"""Support ("me too"), follow, comments and moderation."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from opportunities.errors import ApplicationError
from opportunities.models import Comment, Follow, Opportunity, Status, Support
from opportunities.services.engagement import (
    MSG_COMMENT_EDIT_EXPIRED,
    MSG_COMMENT_EMPTY,
    MSG_COMMENT_NOT_YOURS,
    MSG_HIDE_FORBIDDEN,
    MSG_HIDE_NEEDS_REASON,
    MSG_SUPPORT_OWN,
    comment_add,
    comment_edit,
    comment_hide,
    opportunity_follow,
    opportunity_support,
    opportunity_unfollow,
    opportunity_unsupport,
)
from synergy_portal.models import OutboxMessage
from tests.opportunities.factories import CommentFactory, DraftFactory, OpportunityFactory
from tests.synergy_portal.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_support_counts_once_and_follows(staff) -> None:
    opp = OpportunityFactory()

    first = opportunity_support(actor=staff, opportunity_id=opp.pk)
    second = opportunity_support(actor=staff, opportunity_id=opp.pk)

    assert first.changed and not second.changed
    assert second.supporters_count == 1
    assert Support.objects.filter(opportunity=opp).count() == 1
    assert Follow.objects.filter(opportunity=opp, user=staff).exists()


def test_supporting_your_own_is_refused(staff) -> None:
    opp = OpportunityFactory(submitter=staff)

    with pytest.raises(ApplicationError) as refused:
        opportunity_support(actor=staff, opportunity_id=opp.pk)

    assert refused.value.message == MSG_SUPPORT_OWN


def test_restricted_opportunities_cannot_be_supported_by_others(staff) -> None:
    opp = OpportunityFactory(classification="official_sensitive", is_restricted=True)

    with pytest.raises(ApplicationError) as refused:
        opportunity_support(actor=staff, opportunity_id=opp.pk)

    assert refused.value.extra["forbidden"]


def test_drafts_and_withdrawn_cannot_be_supported(staff, other_staff) -> None:
    draft = DraftFactory(submitter=other_staff)
    withdrawn = OpportunityFactory(status=Status.WITHDRAWN)

    for opp in (draft, withdrawn):
        with pytest.raises(ApplicationError):
            opportunity_support(actor=staff, opportunity_id=opp.pk)


def test_unsupport_takes_the_count_back_down(staff) -> None:
    opp = OpportunityFactory()
    opportunity_support(actor=staff, opportunity_id=opp.pk)

    result = opportunity_unsupport(actor=staff, opportunity_id=opp.pk)
    again = opportunity_unsupport(actor=staff, opportunity_id=opp.pk)

    assert result.changed and not again.changed
    assert Opportunity.objects.get(pk=opp.pk).supporters_count == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_supports_count_each_person_exactly_once() -> None:
    opp = OpportunityFactory()
    people = [UserFactory() for _ in range(4)]
    clicks = [person for person in people for _ in range(3)]  # everyone clicks three times
    barrier = threading.Barrier(len(clicks))
    errors: list[BaseException] = []

    def click(person) -> None:  # type: ignore[no-untyped-def]
        try:
            barrier.wait()
            opportunity_support(actor=person, opportunity_id=opp.pk)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=click, args=(person,)) for person in clicks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    assert Support.objects.filter(opportunity=opp).count() == 4
    assert Opportunity.objects.get(pk=opp.pk).supporters_count == 4


def test_follow_is_idempotent(staff) -> None:
    opp = OpportunityFactory()

    assert opportunity_follow(actor=staff, opportunity_id=opp.pk)
    assert not opportunity_follow(actor=staff, opportunity_id=opp.pk)
    assert opportunity_unfollow(actor=staff, opportunity_id=opp.pk)
    assert not Follow.objects.exists()


def test_a_comment_is_stored_as_text_and_notifies(staff) -> None:
    opp = OpportunityFactory()

    comment = comment_add(
        actor=staff, opportunity_id=opp.pk, body="  <script>alert('x')</script> same here  "
    )

    assert comment.body == "<script>alert('x')</script> same here"
    assert OutboxMessage.objects.filter(topic="opportunity.commented").count() == 1


@pytest.mark.parametrize("body", ["", "   ", "x" * 5001])
def test_empty_or_too_long_comments_are_refused(staff, body: str) -> None:
    opp = OpportunityFactory()

    with pytest.raises(ApplicationError) as refused:
        comment_add(actor=staff, opportunity_id=opp.pk, body=body)

    assert refused.value.extra["field"] == "body"
    if not body.strip():
        assert refused.value.message == MSG_COMMENT_EMPTY
    assert not Comment.objects.exists()


def test_the_author_edits_within_fifteen_minutes(staff) -> None:
    comment = CommentFactory(author=staff)

    edited = comment_edit(actor=staff, comment_id=comment.pk, body="Corrected")

    assert edited.body == "Corrected"
    assert edited.edited_at is not None


def test_editing_after_fifteen_minutes_is_refused(staff) -> None:
    comment = CommentFactory(author=staff, created_at=timezone.now() - timedelta(minutes=16))

    with pytest.raises(ApplicationError) as refused:
        comment_edit(actor=staff, comment_id=comment.pk, body="Too late")

    assert refused.value.message == MSG_COMMENT_EDIT_EXPIRED


def test_nobody_edits_someone_elses_comment(staff) -> None:
    comment = CommentFactory()

    with pytest.raises(ApplicationError) as refused:
        comment_edit(actor=staff, comment_id=comment.pk, body="Not mine")

    assert refused.value.message == MSG_COMMENT_NOT_YOURS


def test_the_ci_team_hides_a_comment_with_a_reason(ci, staff) -> None:
    comment = CommentFactory()

    with pytest.raises(ApplicationError) as no_reason:
        comment_hide(actor=ci, comment_id=comment.pk, reason=" ")
    with pytest.raises(ApplicationError) as not_ci:
        comment_hide(actor=staff, comment_id=comment.pk, reason="Rude")
    hidden = comment_hide(actor=ci, comment_id=comment.pk, reason="Names a member of the public")

    assert no_reason.value.message == MSG_HIDE_NEEDS_REASON
    assert not_ci.value.message == MSG_HIDE_FORBIDDEN
    assert hidden.hidden_at is not None
    assert hidden.hidden_by == ci
    assert hidden.hidden_reason == "Names a member of the public"
