"""Outbox handlers that tell people what happened to an opportunity.

In-app notifications are written at once, one per person per outbox row (the row's key makes
a re-delivered message a no-op). E-mail is batched: a person gets at most one e-mail per
opportunity per hour. A notification that arrives inside that hour waits, and
:func:`notification_emails_send_due` (run every few minutes by Celery beat) sends everything
waiting for that person and opportunity as one e-mail once the hour is up. A failed send
leaves the notifications waiting, so it is retried and never lost; an e-mail is only marked
sent after the mail server accepted it.

Restricted (OFFICIAL-SENSITIVE) opportunities are never described in e-mail or Teams posts:
the e-mail gives the reference and a link, nothing else.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from opportunities.models import Comment, Follow, Notification, Opportunity, Status, StatusChange
from synergy_portal.models import OutboxMessage
from synergy_portal.outbox import outbox_enqueue, outbox_handler

logger = logging.getLogger(__name__)

EMAIL_QUIET_PERIOD = timedelta(hours=1)
# Notifications older than this are not e-mailed any more (they are still in the portal).
EMAIL_GIVE_UP_AFTER = timedelta(days=7)
TEAMS_TIMEOUT_SECONDS = 10


def opportunity_url(opp: Opportunity) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + reverse(
        "opportunities:detail", kwargs={"reference": opp.reference}
    )


def _recipients(opp: Opportunity, *, exclude: Iterable[int | None] = ()) -> list[Any]:
    from synergy_portal.models import User

    ids = {opp.submitter_id} | set(
        Follow.objects.filter(opportunity=opp).values_list("user_id", flat=True)
    )
    ids -= set(exclude)
    return list(User.objects.filter(pk__in=ids, is_active=True).order_by("pk"))


def _notify(
    people: Iterable[Any],
    *,
    opp: Opportunity,
    kind: str,
    text: str,
    message: OutboxMessage,
    email_now: bool = False,
) -> None:
    """One in-app notification per person for this outbox row, then e-mail (batched)."""
    source_key = f"outbox:{message.pk}"
    created_for = []
    for person in people:
        _, created = Notification.objects.get_or_create(
            recipient=person,
            source_key=source_key,
            defaults={"opportunity": opp, "kind": kind, "message": text[:300]},
        )
        if created:
            created_for.append(person)
    for person in created_for:
        notification_email_send(recipient=person, opportunity=opp, ignore_quiet_period=email_now)


def _email_lock(recipient_id: int, opportunity_id: int) -> None:
    """Serialise e-mails to one person about one opportunity (two workers, one hour rule)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext('notification-email'), hashtext(%s))",
            [f"{recipient_id}:{opportunity_id}"],
        )


def notification_email_send(
    *, recipient: Any, opportunity: Opportunity, ignore_quiet_period: bool = False
) -> bool:
    """E-mail ``recipient`` everything waiting about ``opportunity``, unless they had an e-mail
    about it within the hour. True when an e-mail went out."""
    if not recipient.email:
        return False
    now = timezone.now()
    with transaction.atomic():
        _email_lock(recipient.pk, opportunity.pk)
        mine = Notification.objects.filter(recipient=recipient, opportunity=opportunity)
        if (
            not ignore_quiet_period
            and mine.filter(emailed_at__gte=now - EMAIL_QUIET_PERIOD).exists()
        ):
            return False
        waiting = list(
            mine.filter(
                emailed_at__isnull=True,
                read_at__isnull=True,
                created_at__gte=now - EMAIL_GIVE_UP_AFTER,
            ).order_by("created_at", "id")
        )
        if not waiting:
            return False
        subject, body = _email_text(opportunity, waiting)
        try:
            send_mail(
                subject=subject,
                message=body,
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[recipient.email],
            )
        except Exception:  # noqa: BLE001 - left waiting: the sweep tries again later
            logger.exception("notifications: e-mail to user %s failed", recipient.pk)
            return False
        Notification.objects.filter(pk__in=[n.pk for n in waiting]).update(emailed_at=now)
    return True


def _email_text(opp: Opportunity, waiting: list[Notification]) -> tuple[str, str]:
    link = opportunity_url(opp)
    if len(waiting) == 1:
        subject = f"[Synergy Portal] {waiting[0].message}"
    else:
        subject = f"[Synergy Portal] {len(waiting)} updates on {opp.reference}"
    if opp.is_restricted:
        # OFFICIAL-SENSITIVE: nothing about the content leaves the portal.
        subject = f"[Synergy Portal] Update on {opp.reference}"
        lines = [
            f"There {'is an update' if len(waiting) == 1 else 'are updates'} on {opp.reference}."
        ]
    else:
        lines = [f"{opp.reference}: {opp.title}", ""]
        lines += [f"- {n.message}" for n in waiting]
    lines += ["", f"See it in the Synergy Portal: {link}", ""]
    lines.append(
        "You get these e-mails because you raised, support or follow this opportunity. "
        "You will get at most one e-mail an hour about it."
    )
    return subject[:200], "\n".join(lines) + "\n"


def notification_emails_send_due(*, limit: int = 500) -> int:
    """Send the batched e-mails whose quiet hour is over. Returns how many went out."""
    from synergy_portal.models import User

    now = timezone.now()
    pairs = list(
        Notification.objects.filter(
            emailed_at__isnull=True,
            read_at__isnull=True,
            opportunity__isnull=False,
            created_at__gte=now - EMAIL_GIVE_UP_AFTER,
        )
        .exclude(recipient__email="")
        .values_list("recipient_id", "opportunity_id")
        .distinct()[:limit]
    )
    people = User.objects.in_bulk({r for r, _ in pairs})
    opportunities = Opportunity.objects.in_bulk({o for _, o in pairs})
    sent = 0
    for recipient_id, opportunity_id in pairs:
        person, opp = people.get(recipient_id), opportunities.get(opportunity_id)
        if person is not None and opp is not None and person.is_active:
            sent += notification_email_send(recipient=person, opportunity=opp)
    return sent


@shared_task(name="notifications.email_due", ignore_result=True)
def notification_emails_send_due_task() -> int:
    return notification_emails_send_due()


# Celery beat entry for the settings' CELERY_BEAT_SCHEDULE.
BEAT_SCHEDULE = {
    "notification-emails-due": {"task": "notifications.email_due", "schedule": 300.0},
}


@outbox_handler("opportunity.status_changed")
def notify_status_changed(payload: dict[str, Any], message: OutboxMessage) -> None:
    """In-app notification for the submitter and followers; e-mail batched per hour."""
    change = StatusChange.objects.select_related("opportunity").get(pk=payload["status_change_id"])
    opp = change.opportunity
    if change.to_status == Status.SUBMITTED:
        # The submitter hears from "opportunity.submitted" (with the confirmation e-mail).
        return
    text = f"{opp.reference} is now “{change.get_to_status_display()}”"
    if change.reason:
        text += f": {change.reason}"
    _notify(
        _recipients(opp, exclude=[change.actor_id]),
        opp=opp,
        kind=Notification.Kind.STATUS,
        text=text,
        message=message,
    )
    if change.to_status == Status.DELIVERED and _teams_wanted(opp):
        outbox_enqueue(topic="teams.post", payload={"opportunity_id": opp.pk, "event": "delivered"})


@outbox_handler("opportunity.submitted")
def notify_submitted(payload: dict[str, Any], message: OutboxMessage) -> None:
    """The submitter's confirmation: in the portal and by e-mail, straight away."""
    opp = Opportunity.objects.select_related("submitter").get(pk=payload["opportunity_id"])
    text = f"We received {opp.reference}. The CI team will triage it"
    if opp.first_response_due:
        text += f" by {opp.first_response_due:%-d %B %Y}"
    _notify(
        [opp.submitter],
        opp=opp,
        kind=Notification.Kind.SUBMITTED,
        text=text + ".",
        message=message,
        email_now=True,
    )


@outbox_handler("opportunity.commented")
def notify_commented(payload: dict[str, Any], message: OutboxMessage) -> None:
    comment = Comment.objects.select_related("opportunity", "author").get(pk=payload["comment_id"])
    if comment.hidden_at is not None:
        return
    opp = comment.opportunity
    _notify(
        _recipients(opp, exclude=[comment.author_id]),
        opp=opp,
        kind=Notification.Kind.COMMENT,
        text=f"New comment on {opp.reference}",
        message=message,
    )


@outbox_handler("opportunity.merged")
def notify_merged(payload: dict[str, Any], message: OutboxMessage) -> None:
    duplicate = Opportunity.objects.get(pk=payload["opportunity_id"])
    target = Opportunity.objects.get(pk=payload["target_id"])
    change = StatusChange.objects.filter(pk=payload.get("status_change_id")).first()
    # Everyone was carried over to the target, so each person hears about the target page.
    text = (
        f"{duplicate.reference} was merged into {target.reference}, which raises the same "
        f"problem. Your support and follow moved with it."
    )
    _notify(
        _recipients(duplicate, exclude=[change.actor_id if change else None]),
        opp=target,
        kind=Notification.Kind.MERGE,
        text=text,
        message=message,
    )


def _teams_wanted(opp: Opportunity) -> bool:
    return bool(getattr(settings, "TEAMS_WEBHOOK_URL", "")) and not opp.is_restricted


def teams_card(opp: Opportunity, event: str) -> dict[str, Any]:
    """An Adaptive Card message, accepted by Teams incoming webhooks and Workflows."""
    heading = {
        "submitted": "New Synergy Opportunity",
        "delivered": "Synergy Opportunity delivered",
    }.get(event, "Synergy Opportunity update")
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": heading, "weight": "Bolder", "size": "Medium"},
        {"type": "TextBlock", "text": f"{opp.reference}: {opp.title}", "wrap": True},
    ]
    if event == "delivered" and opp.delivery_note:
        body.append({"type": "TextBlock", "text": opp.delivery_note[:500], "wrap": True})
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": body,
                    "actions": [
                        {
                            "type": "Action.OpenUrl",
                            "title": "Open in the portal",
                            "url": opportunity_url(opp),
                        }
                    ],
                },
            }
        ],
    }


@outbox_handler("teams.post")
def teams_post(payload: dict[str, Any], message: OutboxMessage) -> None:
    """Post to the Teams channel. A failure raises, so the outbox retries the row."""
    url = getattr(settings, "TEAMS_WEBHOOK_URL", "")
    opp = Opportunity.objects.get(pk=payload["opportunity_id"])
    if not url or opp.is_restricted:
        return
    data = json.dumps(teams_card(opp, payload.get("event", ""))).encode()
    request = urllib.request.Request(  # noqa: S310 - the URL is an admin-set https setting
        url, data=data, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=TEAMS_TIMEOUT_SECONDS) as response:  # noqa: S310
        if response.status >= 300:
            raise RuntimeError(f"Teams webhook answered {response.status}")
