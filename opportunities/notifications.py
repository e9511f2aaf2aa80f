"""Outbox handlers that tell people what happened to an opportunity."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone

from opportunities.models import Follow, Notification, Opportunity, StatusChange
from synergy_portal.models import OutboxMessage
from synergy_portal.outbox import outbox_handler

EMAIL_QUIET_PERIOD = timedelta(hours=1)


def _recipients(opp: Opportunity, *, exclude: int | None) -> list[Any]:
    from synergy_portal.models import User

    ids = {opp.submitter_id} | set(
        Follow.objects.filter(opportunity=opp).values_list("user_id", flat=True)
    )
    ids.discard(exclude)
    return list(User.objects.filter(pk__in=ids, is_active=True))


@outbox_handler("opportunity.status_changed")
def notify_status_changed(payload: dict[str, Any], message: OutboxMessage) -> None:
    """In-app notification for the submitter and followers; at most one e-mail an hour each."""
    change = StatusChange.objects.select_related("opportunity").get(pk=payload["status_change_id"])
    opp = change.opportunity
    text = f"{opp.reference} is now “{change.get_to_status_display()}”"
    if change.reason:
        text += f": {change.reason}"
    text = text[:300]
    source_key = f"outbox:{message.pk}"
    now = timezone.now()
    for person in _recipients(opp, exclude=change.actor_id):
        note, created = Notification.objects.get_or_create(
            recipient=person,
            source_key=source_key,
            defaults={"opportunity": opp, "kind": Notification.Kind.STATUS, "message": text},
        )
        if not created or not person.email:
            continue
        recently_emailed = Notification.objects.filter(
            recipient=person, opportunity=opp, emailed_at__gte=now - EMAIL_QUIET_PERIOD
        ).exists()
        if recently_emailed:
            continue
        link = settings.PORTAL_BASE_URL.rstrip("/") + reverse("home")
        send_mail(
            subject=f"[Synergy Portal] {opp.reference}: {change.get_to_status_display()}",
            message=f"{text}\n\n{opp.title}\n\nSee it in the Synergy Portal: {link}\n",
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[person.email],
        )
        note.emailed_at = now
        note.save(update_fields=["emailed_at"])
