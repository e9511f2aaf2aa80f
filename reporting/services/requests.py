"""Asking for an extract from the portal ("run now"): through the outbox, so a request made
while the broker is down is sent later rather than lost."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction

from synergy_portal.models import OutboxMessage
from synergy_portal.outbox import outbox_enqueue, outbox_handler
from synergy_portal.permissions import Action, can

TOPIC = "reporting.extract_requested"
MSG_FORBIDDEN = "Only an admin can run the DDI extract."


@transaction.atomic
def extract_request(*, actor: Any, full: bool = False) -> OutboxMessage:
    if not can(actor, Action.RUN_EXTRACT):
        raise PermissionDenied(MSG_FORBIDDEN)
    return outbox_enqueue(
        topic=TOPIC, payload={"full": bool(full), "trigger": f"admin:{actor.get_username()}"}
    )


@outbox_handler(TOPIC)
def extract_requested_publish(payload: dict[str, Any], message: OutboxMessage) -> None:
    """Hand the requested batch to a worker (the nightly task: files, retries on a busy lock)."""
    from reporting.tasks import extract_nightly_task

    extract_nightly_task.apply_async(
        kwargs={"full": bool(payload.get("full")), "trigger": str(payload.get("trigger", ""))},
        retry=False,
    )
