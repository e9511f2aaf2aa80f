"""The outbox: a status change made while Redis is down is delivered once Redis is back."""

from __future__ import annotations

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail

from opportunities.models import Follow, Notification, Status
from opportunities.services.workflow import opportunity_transition
from synergy_portal.celery import app
from synergy_portal.models import OutboxMessage, Role
from synergy_portal.outbox import outbox_deliver, outbox_enqueue, outbox_sweep
from tests.opportunities.factories import OpportunityFactory
from tests.synergy_portal.factories import UserFactory


def _wait_for(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the worker")
        time.sleep(0.1)


@pytest.mark.django_db(transaction=True)
def test_status_change_made_during_broker_outage_is_delivered_when_broker_returns(
    celery_broker,
) -> None:
    ci = UserFactory(roles={Role.CI_TEAM})
    follower = UserFactory()
    opp = OpportunityFactory()
    Follow.objects.create(opportunity=opp, user=follower)

    celery_broker.stop()
    started = time.monotonic()
    opportunity_transition(actor=ci, opportunity_id=opp.pk, to_status=Status.TRIAGE)
    assert time.monotonic() - started < 3, "a dead broker must not hold up the request"

    message = OutboxMessage.objects.get()
    assert message.state == OutboxMessage.State.PENDING
    assert message.last_sent_at is None
    assert not Notification.objects.exists()

    celery_broker.start()
    assert outbox_sweep() == 1
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        _wait_for(lambda: OutboxMessage.objects.get().state == OutboxMessage.State.DONE)

    recipients = set(Notification.objects.values_list("recipient_id", flat=True))
    assert recipients == {opp.submitter_id, follower.pk}
    assert {m.to[0] for m in mail.outbox} == {opp.submitter.email, follower.email}

    # Re-sending and re-delivering the same row never notifies twice.
    assert outbox_deliver(message_id=message.pk) == "skipped"
    assert Notification.objects.count() == 2


@pytest.mark.django_db
def test_outbox_row_rolls_back_with_the_change() -> None:
    from django.db import transaction

    opp = OpportunityFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox_enqueue(topic="opportunity.status_changed", payload={"opportunity_id": opp.pk})
        raise RuntimeError("the change failed")
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_unknown_topic_is_refused() -> None:
    with pytest.raises(ValueError, match="No handler"):
        outbox_enqueue(topic="nobody.listens", payload={})


@pytest.mark.django_db
def test_a_failing_handler_is_retried_and_recorded() -> None:
    message = OutboxMessage.objects.create(
        topic="opportunity.status_changed", payload={"status_change_id": 999999}
    )
    assert outbox_deliver(message_id=message.pk) == "error"
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.PENDING
    assert message.attempts == 1
    assert "DoesNotExist" in message.last_error
