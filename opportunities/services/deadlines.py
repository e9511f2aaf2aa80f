"""Closing the loop on a clock: first-response and update-by deadlines, and who hears when
they slip.

Every submission must hear back within ``first_response_working_days`` (default 10) and then
at least every ``update_every_months`` (default 2) until it is closed. The workflow calls
:func:`deadlines_on_transition` on every move, so ``next_update_due`` is always right however
the card moved; a CI-team comment in the triage panel counts as an update too.

Each morning :func:`deadlines_escalate` e-mails the CI lead(s) the overdue items; each month
:func:`digest_you_said_we_did` tells followers what was delivered. Both are idempotent: one
:class:`DigestDelivery` row per person per period, marked sent only after the mail server
accepted the e-mail, so a re-run (or a re-delivered task) skips whoever already has theirs.
"""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse
from django.utils import timezone

from opportunities.errors import ApplicationError
from opportunities.models import (
    OPEN_STATUSES,
    BoardColumn,
    BoardSettings,
    DigestDelivery,
    Follow,
    Opportunity,
    Status,
    StatusChange,
    Support,
)
from synergy_portal.permissions import Action, can
from synergy_portal.working_days import add_working_days, working_days_between

logger = logging.getLogger(__name__)

# Still owed updates: the open states and "delivered" (benefits are still to be checked).
UPDATE_DUE_STATUSES = (*OPEN_STATUSES, Status.DELIVERED)

MSG_SETTINGS_FORBIDDEN = "Only the CI team and administrators can change the board's settings."


# --- Calendar -----------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# --- Settings -----------------------------------------------------------------------------


def board_settings() -> BoardSettings:
    found = BoardSettings.objects.filter(pk=BoardSettings.SINGLETON_ID).first()
    return found if found is not None else BoardSettings()


@transaction.atomic
def board_settings_update(
    *,
    actor: Any,
    first_response_working_days: int,
    update_every_months: int,
    amber_working_days: int,
    ci_lead_ids: list[int],
    wip_limits: dict[str, int | None],
) -> BoardSettings:
    """Change the clock, the CI leads and the columns' WIP limits (all or nothing)."""
    if not can(actor, Action.MOVE_CARD):
        raise ApplicationError(MSG_SETTINGS_FORBIDDEN, {"forbidden": True})
    current, _ = BoardSettings.objects.select_for_update().get_or_create(
        pk=BoardSettings.SINGLETON_ID
    )
    current.first_response_working_days = first_response_working_days
    current.update_every_months = update_every_months
    current.amber_working_days = amber_working_days
    current.updated_at = timezone.now()
    current.full_clean()
    current.save()
    current.ci_leads.set(ci_lead_ids)
    for status in OPEN_STATUSES:
        limit = wip_limits.get(status.value)
        column = BoardColumn.objects.filter(status=status).first() or BoardColumn(status=status)
        if column.pk is not None and column.wip_limit == limit:
            continue
        column.wip_limit = limit
        column.full_clean()
        column.save()
    return current


# --- Deadlines ----------------------------------------------------------------------------


def first_response_due_from(day: date, config: BoardSettings | None = None) -> date:
    config = config or board_settings()
    return add_working_days(day, config.first_response_working_days)


def next_update_due_from(day: date, config: BoardSettings | None = None) -> date:
    config = config or board_settings()
    return add_months(day, config.update_every_months)


def deadlines_on_transition(opp: Opportunity, to: Status, now: datetime) -> list[str]:
    """Set the deadlines a move implies on ``opp`` (not saved); returns the changed fields."""
    config = board_settings()
    today = timezone.localdate(now)
    fields = []
    if to is Status.SUBMITTED and opp.first_response_due is None:
        opp.first_response_due = first_response_due_from(today, config)
        fields.append("first_response_due")
    due = next_update_due_from(today, config) if to in UPDATE_DUE_STATUSES else None
    if opp.next_update_due != due:
        opp.next_update_due = due
        fields.append("next_update_due")
    return fields


def deadline_update_given(*, opportunity_id: int, on: date | None = None) -> None:
    """The CI team updated the submitter (a comment): the update-by clock starts again."""
    opp = Opportunity.objects.only("status", "next_update_due").get(pk=opportunity_id)
    if opp.status not in UPDATE_DUE_STATUSES:
        return
    due = next_update_due_from(on or timezone.localdate())
    if opp.next_update_due != due:
        Opportunity.objects.filter(pk=opportunity_id).update(next_update_due=due)


@dataclass(frozen=True)
class Deadline:
    """What a card shows: which clock, when, and how close it is."""

    kind: str  # "first_response" or "update"
    due: date
    working_days_left: int
    level: str  # "ok", "amber" or "red"

    @property
    def label(self) -> str:
        what = "First response" if self.kind == "first_response" else "Update"
        days = abs(self.working_days_left)
        plural = "" if days == 1 else "s"
        if self.working_days_left < 0:
            return f"{what} overdue by {days} working day{plural}"
        if self.working_days_left == 0:
            return f"{what} due today"
        return f"{what} due in {days} working day{plural}"


def deadline_for(opp: Opportunity, *, today: date, config: BoardSettings) -> Deadline | None:
    """The clock that applies to ``opp`` now (no queries: the fields are on the row)."""
    if opp.status == Status.SUBMITTED:
        kind = "first_response"
        due = opp.first_response_due
        if due is None and opp.submitted_at is not None:
            due = first_response_due_from(timezone.localdate(opp.submitted_at), config)
    elif opp.status in UPDATE_DUE_STATUSES:
        kind = "update"
        due = opp.next_update_due or next_update_due_from(
            timezone.localdate(opp.status_changed_at), config
        )
    else:
        return None
    if due is None:
        return None
    left = working_days_between(today, due)
    level = "red" if due < today else "amber" if left <= config.amber_working_days else "ok"
    return Deadline(kind=kind, due=due, working_days_left=left, level=level)


def next_contact(opportunity: Opportunity) -> date | None:
    """When the submitter will next hear from the CI team (for the opportunity page)."""
    deadline = deadline_for(opportunity, today=timezone.localdate(), config=board_settings())
    return deadline.due if deadline else None


# --- Overdue items and the morning escalation ---------------------------------------------


def overdue_first_response(today: date) -> QuerySet[Opportunity]:
    return Opportunity.objects.filter(status=Status.SUBMITTED, first_response_due__lt=today)


def overdue_update(today: date) -> QuerySet[Opportunity]:
    return Opportunity.objects.filter(
        status__in=[s for s in UPDATE_DUE_STATUSES if s is not Status.SUBMITTED],
        next_update_due__lt=today,
    )


def ci_leads() -> list[Any]:
    """The CI lead(s) named in the board settings; the whole CI team when none are named."""
    from synergy_portal.models import Role, User

    config = board_settings()
    people = User.objects.filter(is_active=True).exclude(email="")
    if config.pk is not None and config.ci_leads.exists():
        return list(people.filter(pk__in=config.ci_leads.values("pk")).order_by("pk"))
    return list(people.filter(groups__name=Role.CI_TEAM.value).order_by("pk").distinct())


def _board_link(opp: Opportunity) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + reverse(
        "opportunities:board_card", kwargs={"reference": opp.reference}
    )


def _claim(kind: str, period: str, recipient_id: int, items: int) -> DigestDelivery | None:
    """This period's row for the person, locked; None when it was already sent."""
    try:
        with transaction.atomic():
            DigestDelivery.objects.get_or_create(
                kind=kind, period=period, recipient_id=recipient_id, defaults={"items": items}
            )
    except IntegrityError:
        pass  # a concurrent run created it: lock it below
    row = (
        DigestDelivery.objects.select_for_update(skip_locked=True)
        .filter(kind=kind, period=period, recipient_id=recipient_id, sent_at__isnull=True)
        .first()
    )
    return row


def _send(row: DigestDelivery, recipient: Any, subject: str, body: str) -> bool:
    try:
        send_mail(
            subject=subject[:200],
            message=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[recipient.email],
        )
    except Exception:  # noqa: BLE001 - left unsent: the next run tries again
        logger.exception("deadlines: %s e-mail to user %s failed", row.kind, recipient.pk)
        return False
    row.sent_at = timezone.now()
    row.save(update_fields=["sent_at"])
    return True


def _line(opp: Opportunity, why: str) -> str:
    title = "(restricted)" if opp.is_restricted else opp.title
    return f"- {opp.reference} {title}: {why}\n  {_board_link(opp)}"


def deadlines_escalate(*, today: date | None = None) -> int:
    """E-mail the CI lead(s) today's overdue items, once per lead per day. Returns e-mails sent."""
    today = today or timezone.localdate()
    first = list(overdue_first_response(today).order_by("first_response_due", "pk")[:200])
    updates = list(overdue_update(today).order_by("next_update_due", "pk")[:200])
    if not first and not updates:
        return 0
    lines = []
    if first:
        lines += ["No first response yet:", ""]
        lines += [_line(o, f"was due {o.first_response_due:%-d %b %Y}") for o in first]
        lines.append("")
    if updates:
        lines += ["Submitter not updated in time:", ""]
        lines += [_line(o, f"update was due {o.next_update_due:%-d %b %Y}") for o in updates]
        lines.append("")
    total = len(first) + len(updates)
    subject = f"[Synergy Portal] {total} overdue {'item' if total == 1 else 'items'} on the board"
    body = "\n".join(
        [
            "Good morning,",
            "",
            *lines,
            "The triage board: "
            + settings.PORTAL_BASE_URL.rstrip("/")
            + reverse("opportunities:board"),
            "",
        ]
    )
    sent = 0
    for lead in ci_leads():
        with transaction.atomic():
            row = _claim(DigestDelivery.Kind.ESCALATION, today.isoformat(), lead.pk, total)
            if row is not None:
                sent += _send(row, lead, subject, body)
    return sent


# --- "You said, we did" -------------------------------------------------------------------


def _month_bounds(month: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime(month.year, month.month, 1))
    end_month = add_months(date(month.year, month.month, 1), 1)
    return start, timezone.make_aware(datetime(end_month.year, end_month.month, 1))


def delivered_in(month: date) -> QuerySet[Opportunity]:
    """Opportunities delivered in ``month`` that may be described by e-mail (not restricted)."""
    start, end = _month_bounds(month)
    delivered = StatusChange.objects.filter(
        opportunity=OuterRef("pk"),
        to_status=Status.DELIVERED,
        created_at__gte=start,
        created_at__lt=end,
    )
    return Opportunity.objects.filter(
        Exists(delivered),
        status__in=[Status.DELIVERED, Status.BENEFITS_REALISED],
        is_restricted=False,
    )


def digest_you_said_we_did(*, month: date | None = None) -> int:
    """E-mail everyone who raised, supported or follows something delivered last month (or in
    ``month``) what was delivered, once per person per month. Returns e-mails sent."""
    from synergy_portal.models import User

    if month is None:
        month = add_months(timezone.localdate().replace(day=1), -1)
    period = f"{month:%Y-%m}"
    items = {o.pk: o for o in delivered_in(month).order_by("reference")}
    if not items:
        return 0
    interested: dict[int, set[int]] = {}
    for opp in items.values():
        interested.setdefault(opp.submitter_id, set()).add(opp.pk)
    for model in (Follow, Support):
        for user_id, opp_id in model.objects.filter(opportunity_id__in=items).values_list(
            "user_id", "opportunity_id"
        ):
            interested.setdefault(user_id, set()).add(opp_id)
    people = User.objects.filter(pk__in=interested, is_active=True).exclude(email="").in_bulk()
    sent = 0
    for user_id in sorted(people):
        person = people[user_id]
        mine = sorted((items[i] for i in interested[user_id]), key=lambda o: o.reference)
        lines = [f"You said, we did: what the CI team delivered in {month:%B %Y}.", ""]
        for opp in mine:
            lines += [
                f"{opp.reference} {opp.title}",
                f"  We did: {opp.delivery_note}",
                f"  {settings.PORTAL_BASE_URL.rstrip('/')}"
                + reverse("opportunities:detail", kwargs={"reference": opp.reference}),
                "",
            ]
        lines.append("You get this because you raised, supported or follow these opportunities.")
        subject = f"[Synergy Portal] You said, we did: {month:%B %Y}"
        with transaction.atomic():
            row = _claim(DigestDelivery.Kind.YOU_SAID_WE_DID, period, user_id, len(mine))
            if row is not None:
                sent += _send(row, person, subject, "\n".join(lines) + "\n")
    return sent


def board_settings_for_view() -> tuple[BoardSettings, dict[str, int | None]]:
    """The settings and every column's WIP limit (None: no limit)."""
    limits = dict(BoardColumn.objects.values_list("status", "wip_limit"))
    return board_settings(), {s.value: limits.get(s.value) for s in OPEN_STATUSES}
