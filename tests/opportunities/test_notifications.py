"""Notifications through the outbox: in-app at once, e-mail batched (one an hour per person
per opportunity), Teams posts, and nothing sent twice."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from opportunities.models import Follow, Notification, Opportunity, Status, Support
from opportunities.notifications import notification_emails_send_due
from opportunities.services.engagement import comment_add
from opportunities.services.merge import opportunity_merge
from opportunities.services.notifications import notifications_mark_read
from opportunities.services.submission import opportunity_submit
from opportunities.services.workflow import opportunity_transition
from synergy_portal.models import OutboxMessage
from synergy_portal.outbox import outbox_deliver
from tests.opportunities.factories import OpportunityFactory
from tests.synergy_portal.factories import UserFactory

pytestmark = pytest.mark.django_db

COMPLETE = {
    "title": "Duty rota not visible on phones",
    "problem": "I ring the office to find my shifts.",
    "people_affected": 25,
    "frequency_per_week": Decimal("1"),
    "minutes_per_occurrence": Decimal("5"),
}


def deliver_all() -> list[str]:
    outcomes = []
    while True:
        pending = list(
            OutboxMessage.objects.filter(state=OutboxMessage.State.PENDING).values_list(
                "pk", flat=True
            )
        )
        if not pending:
            return outcomes
        for message_id in pending:
            outcomes.append(outbox_deliver(message_id=message_id))
            if outcomes[-1] != "done":
                return outcomes


def test_submitting_sends_the_confirmation_at_once(staff) -> None:
    result = opportunity_submit(actor=staff, values=COMPLETE, form_token=uuid.uuid4())

    assert set(deliver_all()) == {"done"}

    note = Notification.objects.get(recipient=staff)
    assert note.kind == Notification.Kind.SUBMITTED
    assert note.emailed_at is not None
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [staff.email]
    reference = result.opportunity.reference
    assert reference in email.subject
    assert f"/opportunities/{reference}/" in email.body
    assert COMPLETE["title"] in email.body


def test_status_changes_notify_submitter_and_followers_but_not_the_actor(ci) -> None:
    opp = OpportunityFactory()
    follower = UserFactory()
    Follow.objects.create(opportunity=opp, user=follower)
    Follow.objects.create(opportunity=opp, user=ci)

    opportunity_transition(actor=ci, opportunity_id=opp.pk, to_status=Status.TRIAGE)
    deliver_all()

    assert set(Notification.objects.values_list("recipient_id", flat=True)) == {
        opp.submitter_id,
        follower.pk,
    }
    assert sorted(m.to[0] for m in mail.outbox) == sorted([opp.submitter.email, follower.email])


def test_a_second_change_within_the_hour_waits_then_goes_as_one_email(ci) -> None:
    opp = OpportunityFactory()
    opportunity_transition(actor=ci, opportunity_id=opp.pk, to_status=Status.TRIAGE)
    deliver_all()
    opportunity_transition(actor=ci, opportunity_id=opp.pk, to_status=Status.ASSESSING)
    comment_add(actor=ci, opportunity_id=opp.pk, body="We are looking at this now.")
    deliver_all()

    assert Notification.objects.filter(recipient=opp.submitter).count() == 3
    assert len(mail.outbox) == 1
    assert notification_emails_send_due() == 0  # still inside the hour

    Notification.objects.filter(emailed_at__isnull=False).update(
        emailed_at=timezone.now() - timedelta(minutes=61)
    )
    assert notification_emails_send_due() == 1
    assert notification_emails_send_due() == 0

    digest = mail.outbox[1]
    assert digest.subject == f"[Synergy Portal] 2 updates on {opp.reference}"
    assert "Being assessed" in digest.body
    assert f"New comment on {opp.reference}" in digest.body
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()


def test_read_notifications_are_not_emailed(ci) -> None:
    opp = OpportunityFactory()
    opportunity_transition(actor=ci, opportunity_id=opp.pk, to_status=Status.TRIAGE)
    deliver_all()
    opportunity_transition(actor=ci, opportunity_id=opp.pk, to_status=Status.ASSESSING)
    deliver_all()
    notifications_mark_read(actor=opp.submitter)
    Notification.objects.filter(emailed_at__isnull=False).update(
        emailed_at=timezone.now() - timedelta(hours=2)
    )

    assert notification_emails_send_due() == 0
    assert len(mail.outbox) == 1


def test_a_failed_send_is_retried_by_the_sweep(ci, monkeypatch) -> None:
    opp = OpportunityFactory()

    def broken(*args: Any, **kwargs: Any) -> None:
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr("opportunities.notifications.send_mail", broken)
    opportunity_transition(actor=ci, opportunity_id=opp.pk, to_status=Status.TRIAGE)
    assert deliver_all() == ["done"]  # the in-app notification is not held up by e-mail
    assert Notification.objects.get().emailed_at is None

    monkeypatch.undo()
    assert notification_emails_send_due() == 1
    assert len(mail.outbox) == 1


def test_redelivering_a_message_notifies_nobody_twice(ci) -> None:
    opp = OpportunityFactory()
    opportunity_transition(actor=ci, opportunity_id=opp.pk, to_status=Status.TRIAGE)
    message = OutboxMessage.objects.get()
    deliver_all()
    OutboxMessage.objects.filter(pk=message.pk).update(state=OutboxMessage.State.PENDING)

    deliver_all()

    assert Notification.objects.count() == 1
    assert len(mail.outbox) == 1


def test_restricted_opportunities_are_not_described_in_email(ci) -> None:
    opp = OpportunityFactory(
        title="Sensitive covert tasking detail",
        classification="official_sensitive",
        is_restricted=True,
    )
    opportunity_transition(actor=ci, opportunity_id=opp.pk, to_status=Status.TRIAGE)
    deliver_all()

    email = mail.outbox[0]
    assert "covert" not in email.subject + email.body
    assert opp.reference in email.body


def test_comments_notify_everyone_but_the_author(staff) -> None:
    opp = OpportunityFactory()
    follower = UserFactory()
    Follow.objects.create(opportunity=opp, user=follower)

    comment_add(actor=follower, opportunity_id=opp.pk, body="Same on nights")
    deliver_all()

    note = Notification.objects.get()
    assert note.recipient_id == opp.submitter_id
    assert note.kind == Notification.Kind.COMMENT


def test_merging_carries_support_and_tells_everyone(ci) -> None:
    target = OpportunityFactory()
    duplicate = OpportunityFactory()
    supporter = UserFactory()
    Support.objects.create(opportunity=duplicate, user=supporter)
    Support.objects.create(opportunity=target, user=supporter)  # already supports both
    Follow.objects.create(opportunity=duplicate, user=supporter)

    opportunity_merge(actor=ci, duplicate_id=duplicate.pk, target_id=target.pk)
    deliver_all()

    duplicate.refresh_from_db()
    target.refresh_from_db()
    assert duplicate.status == Status.DUPLICATE
    assert duplicate.merged_into == target
    # The supporter counts once; the duplicate's submitter now supports the target too.
    assert target.supporters_count == 2
    assert set(Follow.objects.filter(opportunity=target).values_list("user_id", flat=True)) == {
        supporter.pk,
        duplicate.submitter_id,
    }
    merged = Notification.objects.filter(kind=Notification.Kind.MERGE)
    assert set(merged.values_list("recipient_id", flat=True)) == {
        duplicate.submitter_id,
        supporter.pk,
    }
    assert all(n.opportunity_id == target.pk for n in merged)


def test_teams_posts_on_submission_and_delivery(staff, ci, settings, monkeypatch) -> None:
    settings.TEAMS_WEBHOOK_URL = "https://teams.example/webhook"
    sent: list[dict[str, Any]] = []

    class Answer:
        status = 202

        def __enter__(self) -> Answer:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

    def fake_urlopen(request: Any, timeout: float) -> Answer:
        sent.append({"url": request.full_url, "body": json.loads(request.data)})
        return Answer()

    monkeypatch.setattr("opportunities.notifications.urllib.request.urlopen", fake_urlopen)
    result = opportunity_submit(actor=staff, values=COMPLETE, form_token=uuid.uuid4())
    deliver_all()
    opp = result.opportunity
    Opportunity.objects.filter(pk=opp.pk).update(
        status=Status.IN_DELIVERY, delivery_note="Rota app live"
    )
    opportunity_transition(actor=ci, opportunity_id=opp.pk, to_status=Status.DELIVERED)
    deliver_all()

    assert [s["url"] for s in sent] == ["https://teams.example/webhook"] * 2
    texts = [json.dumps(s["body"]) for s in sent]
    assert "New Synergy Opportunity" in texts[0]
    assert "delivered" in texts[1]
    assert opp.reference in texts[1]


def test_a_failing_teams_post_is_retried_not_lost(staff, settings, monkeypatch) -> None:
    settings.TEAMS_WEBHOOK_URL = "https://teams.example/webhook"

    def down(request: Any, timeout: float) -> None:
        raise TimeoutError("Teams is down")

    monkeypatch.setattr("opportunities.notifications.urllib.request.urlopen", down)
    opportunity_submit(actor=staff, values=COMPLETE, form_token=uuid.uuid4())
    deliver_all()

    teams = OutboxMessage.objects.get(topic="teams.post")
    assert teams.state == OutboxMessage.State.PENDING
    assert teams.attempts == 1
    assert "Teams is down" in teams.last_error


def test_mark_read_touches_only_my_notifications(staff, other_staff) -> None:
    opp = OpportunityFactory()
    mine = Notification.objects.create(recipient=staff, opportunity=opp, kind="status", message="a")
    theirs = Notification.objects.create(
        recipient=other_staff, opportunity=opp, kind="status", message="b"
    )

    assert notifications_mark_read(actor=staff, ids=[mine.pk, theirs.pk]) == 1

    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.read_at is not None
    assert theirs.read_at is None
