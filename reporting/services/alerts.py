"""Telling the admins when extracts keep failing."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.urls import NoReverseMatch, reverse

from reporting.models import EtlBatch
from synergy_portal.models import Role, User

CONSECUTIVE_FAILURES = 2
SUBJECT = "Synergy Portal: the DDI extract has failed {count} times in a row"
BODY = (
    "The last {count} DDI extract batches failed; DDI's data and the dashboards are not being "
    "updated.\n\nLatest error:\n{error}\n\nBatches: {url}\n"
)


def _admin_emails() -> list[str]:
    emails = {email for _, email in getattr(settings, "ADMINS", [])}
    emails.update(
        User.objects.filter(is_active=True, groups__name=Role.ADMIN.value)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    return sorted(emails)


def extract_failure_alert() -> bool:
    """E-mail the admins when the latest batches are exactly the second failure in a row (so
    a long outage sends one message, not one every fifteen minutes). Returns whether sent."""
    latest = list(
        EtlBatch.objects.exclude(state=EtlBatch.State.RUNNING)[: CONSECUTIVE_FAILURES + 1]
    )
    failed = [b for b in latest[:CONSECUTIVE_FAILURES] if b.state == EtlBatch.State.FAILED]
    if len(failed) < CONSECUTIVE_FAILURES:
        return False
    if len(latest) > CONSECUTIVE_FAILURES and latest[-1].state == EtlBatch.State.FAILED:
        return False
    recipients = _admin_emails()
    if not recipients:
        return False
    try:
        path = reverse("reporting:extracts")
    except NoReverseMatch:
        path = "/reporting/extracts/"
    send_mail(
        SUBJECT.format(count=CONSECUTIVE_FAILURES),
        BODY.format(
            count=CONSECUTIVE_FAILURES,
            error=latest[0].error,
            url=f"{settings.PORTAL_BASE_URL.rstrip('/')}{path}",
        ),
        settings.DEFAULT_FROM_EMAIL,
        recipients,
    )
    return True
