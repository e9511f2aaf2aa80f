"""Writes for in-app notifications: marking them read."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from opportunities.models import Notification


def notifications_mark_read(*, actor: Any, ids: list[int] | None = None) -> int:
    """Mark the actor's unread notifications read (only ``ids`` when given). Returns how many.

    One UPDATE filtered by recipient, so nobody can mark someone else's notification.
    """
    unread = Notification.objects.filter(recipient_id=actor.pk, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())
