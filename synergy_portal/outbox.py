"""Transactional outbox: side effects survive a broker outage.

A service that causes a side effect calls :func:`outbox_enqueue` inside its transaction, so
the row commits (or rolls back) with the change. After commit the row is handed to Celery;
if the broker is down the row simply stays pending, and the periodic sweeper re-sends it.
The Celery task is keyed by the row: :func:`outbox_deliver` locks it, runs its handler and
marks it done in one transaction, so a re-sent or re-delivered task never applies twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from synergy_portal.models import OutboxMessage

logger = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], OutboxMessage], None]
_HANDLERS: dict[str, Handler] = {}
MAX_ATTEMPTS = 10
UNKNOWN_TOPIC = "No handler is registered for outbox topic {topic!r}."


def outbox_handler(topic: str) -> Callable[[Handler], Handler]:
    """Register the function that carries out messages of ``topic``."""

    def register(func: Handler) -> Handler:
        _HANDLERS[topic] = func
        return func

    return register


def outbox_enqueue(*, topic: str, payload: dict[str, Any]) -> OutboxMessage:
    """Write a side effect in the caller's transaction; hand it to Celery after commit."""
    if topic not in _HANDLERS:
        raise ValueError(UNKNOWN_TOPIC.format(topic=topic))
    message = OutboxMessage(topic=topic, payload=payload)
    message.full_clean()
    message.save()
    message_id = message.pk
    transaction.on_commit(lambda: outbox_dispatch(message_ids=[message_id]))
    return message


def outbox_dispatch(*, message_ids: list[int]) -> int:
    """Publish delivery tasks; returns how many reached the broker. Never raises."""
    from synergy_portal.celery import app
    from synergy_portal.tasks import outbox_deliver_task

    sent: list[int] = []
    # A connection that gives up at once: a request must never wait on a dead broker.
    options = {**app.conf.broker_transport_options, "max_retries": 0}
    try:
        with app.connection_for_write(transport_options=options) as connection:
            for message_id in message_ids:
                outbox_deliver_task.apply_async(
                    args=[message_id], retry=False, connection=connection
                )
                sent.append(message_id)
    except Exception as exc:  # noqa: BLE001 - broker down: the sweeper will re-send
        logger.warning(
            "outbox: broker unavailable, %d message(s) left pending: %s",
            len(message_ids) - len(sent),
            exc,
        )
    if sent:
        OutboxMessage.objects.filter(pk__in=sent).update(last_sent_at=timezone.now())
    return len(sent)


def outbox_sweep(*, resend_after: timedelta = timedelta(seconds=60)) -> int:
    """Re-send pending messages never sent, or sent but not done within ``resend_after``."""
    cutoff = timezone.now() - resend_after
    ids = list(
        OutboxMessage.objects.filter(state=OutboxMessage.State.PENDING)
        .filter(last_sent_at__isnull=True)
        .values_list("pk", flat=True)[:1000]
    ) + list(
        OutboxMessage.objects.filter(
            state=OutboxMessage.State.PENDING, last_sent_at__lt=cutoff
        ).values_list("pk", flat=True)[:1000]
    )
    return outbox_dispatch(message_ids=ids) if ids else 0


def outbox_deliver(*, message_id: int) -> str:
    """Carry out one message exactly once. Returns what happened (for logs and tests)."""
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, state=OutboxMessage.State.PENDING)
            .first()
        )
        if message is None:
            return "skipped"
        handler = _HANDLERS.get(message.topic)
        if handler is None:
            message.state = OutboxMessage.State.FAILED
            message.last_error = UNKNOWN_TOPIC.format(topic=message.topic)
            message.save(update_fields=["state", "last_error"])
            return "failed"
        try:
            with transaction.atomic():
                handler(message.payload, message)
        except Exception as exc:
            message.attempts += 1
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if message.attempts >= MAX_ATTEMPTS:
                message.state = OutboxMessage.State.FAILED
            message.save(update_fields=["attempts", "last_error", "state"])
            logger.exception("outbox: message %s (%s) failed", message.pk, message.topic)
            return "error"
        message.state = OutboxMessage.State.DONE
        message.attempts += 1
        message.done_at = timezone.now()
        message.save(update_fields=["state", "attempts", "done_at"])
        return "done"
