"""Closing the loop: first-response and update-by clocks, the amber/red badge, the morning
escalation to the CI lead(s) and the monthly "you said, we did" digest (both idempotent)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from opportunities.models import (
    BoardColumn,
    BoardSettings,
    DigestDelivery,
    Follow,
    Opportunity,
    Status,
)
from opportunities.services import deadlines
from opportunities.services.workflow import opportunity_transition
from synergy_portal.models import Role
from tests.opportunities.factories import OpportunityFactory
from tests.synergy_portal.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ci(db):  # type: ignore[no-untyped-def]
    return UserFactory(roles={Role.CI_TEAM})


def test_working_day_arithmetic() -> None:
    friday = date(2026, 11, 27)
    assert deadlines.add_working_days(friday, 1) == date(2026, 11, 30)
    assert deadlines.add_working_days(friday, 10) == date(2026, 12, 11)
    assert deadlines.working_days_between(friday, date(2026, 12, 11)) == 10
    assert deadlines.working_days_between(date(2026, 12, 11), friday) == -10
    assert deadlines.working_days_between(friday, date(2026, 11, 29)) == 0  # the weekend
    assert deadlines.add_months(date(2026, 12, 31), 2) == date(2027, 2, 28)


def test_submitting_sets_a_first_response_deadline_of_ten_working_days(ci) -> None:
    staff = UserFactory()
    draft = OpportunityFactory(status=Status.DRAFT, submitter=staff, submitted_at=None)
    opportunity_transition(actor=staff, opportunity_id=draft.pk, to_status=Status.SUBMITTED)
    draft.refresh_from_db()
    assert draft.first_response_due == deadlines.add_working_days(timezone.localdate(), 10)
    assert draft.next_update_due == deadlines.add_months(timezone.localdate(), 2)


def test_the_clock_is_configurable(ci) -> None:
    BoardSettings.objects.create(first_response_working_days=3, update_every_months=1)
    staff = UserFactory()
    draft = OpportunityFactory(status=Status.DRAFT, submitter=staff, submitted_at=None)
    opportunity_transition(actor=staff, opportunity_id=draft.pk, to_status=Status.SUBMITTED)
    draft.refresh_from_db()
    assert draft.first_response_due == deadlines.add_working_days(timezone.localdate(), 3)
    assert draft.next_update_due == deadlines.add_months(timezone.localdate(), 1)


def test_every_move_restarts_the_update_clock_until_closed(ci) -> None:
    opp = OpportunityFactory(status=Status.SUBMITTED, next_update_due=date(2020, 1, 1))
    opportunity_transition(actor=ci, opportunity_id=opp.pk, to_status=Status.TRIAGE)
    opp.refresh_from_db()
    assert opp.next_update_due == deadlines.add_months(timezone.localdate(), 2)
    opportunity_transition(actor=ci, opportunity_id=opp.pk, to_status=Status.REJECTED, reason="No")
    opp.refresh_from_db()
    assert opp.next_update_due is None


@pytest.mark.parametrize(
    ("due_in", "level", "label"),
    [
        (10, "ok", "First response due in 10 working days"),
        (2, "amber", "First response due in 2 working days"),
        (0, "amber", "First response due today"),
        (-3, "red", "First response overdue by 3 working days"),
    ],
)
def test_cards_show_time_left_amber_then_red(due_in, level, label) -> None:  # type: ignore[no-untyped-def]
    today = date(2026, 11, 25)  # a Wednesday
    due = deadlines.add_working_days(today, due_in) if due_in >= 0 else today - timedelta(days=3)
    opp = OpportunityFactory.build(status=Status.SUBMITTED, first_response_due=due)
    deadline = deadlines.deadline_for(opp, today=today, config=BoardSettings())
    assert (deadline.level, deadline.label) == (level, label)


def _overdue(ci):  # type: ignore[no-untyped-def]
    late_first = OpportunityFactory(status=Status.SUBMITTED, first_response_due=date(2020, 1, 1))
    late_update = OpportunityFactory(status=Status.BACKLOG, next_update_due=date(2020, 1, 1))
    OpportunityFactory(status=Status.SUBMITTED, first_response_due=date(2999, 1, 1))
    return late_first, late_update


def test_the_morning_escalation_goes_to_the_ci_leads_once_a_day(ci) -> None:
    lead, other = UserFactory(roles={Role.CI_TEAM}), ci
    config = BoardSettings.objects.create()
    config.ci_leads.set([lead])
    late_first, late_update = _overdue(ci)
    today = date(2026, 11, 27)
    assert deadlines.deadlines_escalate(today=today) == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [lead.email]
    body = mail.outbox[0].body
    assert late_first.reference in body and late_update.reference in body
    assert "2 overdue items" in mail.outbox[0].subject
    # A second run (a re-delivered task, a restarted beat) sends nothing more.
    assert deadlines.deadlines_escalate(today=today) == 0
    assert len(mail.outbox) == 1
    assert DigestDelivery.objects.get(recipient=lead).sent_at is not None
    assert not DigestDelivery.objects.filter(recipient=other).exists()
    # Tomorrow is another day.
    assert deadlines.deadlines_escalate(today=today + timedelta(days=1)) == 1


def test_without_named_leads_the_whole_ci_team_hears_and_a_failed_send_is_retried(
    ci, monkeypatch
) -> None:
    _overdue(ci)
    today = date(2026, 11, 27)

    def broken(**kwargs):  # type: ignore[no-untyped-def]
        raise OSError("mail server down")

    monkeypatch.setattr(deadlines, "send_mail", broken)
    assert deadlines.deadlines_escalate(today=today) == 0
    assert DigestDelivery.objects.get(recipient=ci).sent_at is None
    monkeypatch.undo()
    assert deadlines.deadlines_escalate(today=today) == 1
    assert mail.outbox[0].to == [ci.email]


def test_restricted_items_are_not_described_by_email(ci) -> None:
    OpportunityFactory(
        status=Status.SUBMITTED,
        first_response_due=date(2020, 1, 1),
        title="Secret thing",
        is_restricted=True,
        classification="official_sensitive",
    )
    deadlines.deadlines_escalate(today=date(2026, 11, 27))
    assert "Secret thing" not in mail.outbox[0].body and "(restricted)" in mail.outbox[0].body


def test_you_said_we_did_goes_to_everyone_interested_once_a_month(ci) -> None:
    follower = UserFactory()
    opp = OpportunityFactory(status=Status.IN_DELIVERY)
    Follow.objects.create(opportunity=opp, user=follower)
    opportunity_transition(
        actor=ci,
        opportunity_id=opp.pk,
        to_status=Status.DELIVERED,
        delivery_note="Fixed the upload.",
    )
    hidden = OpportunityFactory(
        status=Status.IN_DELIVERY, is_restricted=True, classification="official_sensitive"
    )
    opportunity_transition(
        actor=ci, opportunity_id=hidden.pk, to_status=Status.DELIVERED, delivery_note="x"
    )
    month = timezone.localdate()
    sent = deadlines.digest_you_said_we_did(month=month)
    assert sent == 2  # the submitter and the follower
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == sorted([opp.submitter.email, follower.email])
    assert all(
        "Fixed the upload." in m.body and hidden.reference not in m.body for m in mail.outbox
    )
    assert deadlines.digest_you_said_we_did(month=month) == 0
    last_month = (datetime(month.year, month.month, 1) - timedelta(days=1)).date()
    assert deadlines.digest_you_said_we_did(month=last_month) == 0


def test_the_tasks_are_importable_and_call_the_services(ci) -> None:
    from opportunities import board_tasks

    _overdue(ci)
    assert board_tasks.deadlines_escalate_task.name == "board.deadlines_escalate"
    assert board_tasks.deadlines_escalate_task.run() == 1
    assert board_tasks.digest_you_said_we_did_task.run() == 0
    assert set(board_tasks.BEAT_SCHEDULE) == {"board-deadline-escalation", "board-you-said-we-did"}


def test_board_settings_page_sets_wip_limits_clock_and_leads(client, ci) -> None:
    client.force_login(ci)
    assert client.get("/board/settings/").status_code == 200
    response = client.post(
        "/board/settings/",
        {
            "first_response_working_days": "8",
            "update_every_months": "3",
            "amber_working_days": "2",
            "ci_leads": [str(ci.pk)],
            "wip_triage": "12",
            "wip_backlog": "",
        },
    )
    assert response.status_code == 302
    config = BoardSettings.objects.get()
    assert (config.first_response_working_days, config.update_every_months) == (8, 3)
    assert list(config.ci_leads.all()) == [ci]
    assert BoardColumn.objects.get(status="triage").wip_limit == 12
    assert BoardColumn.objects.get(status="backlog").wip_limit is None
    bad = client.post("/board/settings/", {"first_response_working_days": "0", "wip_triage": "x"})
    assert bad.status_code == 400 and b"must be a whole number" in bad.content
    client.force_login(UserFactory(roles={Role.MANAGER}))
    assert client.get("/board/settings/").status_code == 403


def test_next_contact_for_the_opportunity_page(client, ci) -> None:
    opp = OpportunityFactory(status=Status.TRIAGE, next_update_due=date(2030, 1, 31))
    assert deadlines.next_contact(opp) == date(2030, 1, 31)
    from django.template.loader import render_to_string

    html = render_to_string("opportunities/partials/board_next_contact.html", {"opportunity": opp})
    assert "31 January 2030" in html
    assert Opportunity.objects.filter(pk=opp.pk).exists()
