"""The opportunity state machine: every allowed and forbidden transition, guards, locking."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection

from opportunities.errors import ApplicationError
from opportunities.models import (
    Benefit,
    DeliveryCycle,
    Opportunity,
    Score,
    ScoringModel,
    Status,
    StatusChange,
)
from opportunities.services import workflow
from opportunities.services.workflow import TRANSITIONS, opportunity_transition
from synergy_portal.models import OutboxMessage, Role
from tests.opportunities.factories import OpportunityFactory
from tests.synergy_portal.factories import UserFactory

ALL = list(Status)
PAIRS = [(a, b) for a in ALL for b in ALL if a != b]


def _satisfy_guards(opp: Opportunity, ci) -> None:  # type: ignore[no-untyped-def]
    model, _ = ScoringModel.objects.get_or_create(
        version=1, defaults={"name": "v1", "is_active": True}
    )
    s = Score.objects.create(
        opportunity=opp,
        model=model,
        inputs={},
        breakdown=[],
        hours_per_year=1,
        cost_per_year=1,
        impact=1,
        priority=1,
        effort_days=1,
        fits_two_speed=True,
        is_current=True,
    )
    cycle = DeliveryCycle.objects.create(
        name=f"Cycle {opp.pk}",
        starts_on=date(2026, 11, 2),
        ends_on=date(2026, 11, 5),
        capacity_days=8,
    )
    Opportunity.objects.filter(pk=opp.pk).update(
        current_score=s, owner=ci, delivery_cycle=cycle, delivery_note="Shipped the fix."
    )
    Benefit.objects.create(opportunity=opp, hours_per_year=10, cash_per_year=300, recorded_by=ci)


@pytest.fixture
def ci(db):  # type: ignore[no-untyped-def]
    return UserFactory(roles={Role.CI_TEAM})


@pytest.mark.django_db
@pytest.mark.parametrize(("from_", "to"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_every_transition_is_allowed_or_refused_as_the_state_machine_says(ci, from_, to) -> None:
    opp = OpportunityFactory(
        status=from_,
        submitter=ci,
        rejection_reason="Not feasible" if from_ == Status.REJECTED else "",
        merged_into=OpportunityFactory() if from_ == Status.DUPLICATE else None,
        delivery_note="Done" if from_ in (Status.DELIVERED, Status.BENEFITS_REALISED) else "",
    )
    _satisfy_guards(opp, ci)
    allowed = to in TRANSITIONS[from_] and to != Status.DUPLICATE
    if allowed:
        result = opportunity_transition(
            actor=ci, opportunity_id=opp.pk, to_status=to, reason="Because", expected_version=1
        )
        assert result.opportunity.status == to
        assert result.opportunity.version == 2
        change = StatusChange.objects.get(opportunity=opp)
        assert (change.from_status, change.to_status, change.actor) == (from_, to, ci)
        assert OutboxMessage.objects.filter(topic="opportunity.status_changed").count() == 1
    else:
        with pytest.raises(ApplicationError):
            opportunity_transition(actor=ci, opportunity_id=opp.pk, to_status=to, reason="Because")
        opp.refresh_from_db()
        assert opp.status == from_ and opp.version == 1
        assert not StatusChange.objects.exists()
        assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("from_", "to", "message"),
    [
        (Status.TRIAGE, Status.BACKLOG, workflow.MSG_NEEDS_SCORE),
        (Status.BACKLOG, Status.IN_DELIVERY, workflow.MSG_NEEDS_OWNER_AND_CYCLE),
        (Status.IN_DELIVERY, Status.DELIVERED, workflow.MSG_NEEDS_DELIVERY_NOTE),
        (Status.DELIVERED, Status.BENEFITS_REALISED, workflow.MSG_NEEDS_BENEFIT),
        (Status.TRIAGE, Status.REJECTED, workflow.MSG_NEEDS_REASON),
        (Status.SUBMITTED, Status.DUPLICATE, workflow.MSG_DUPLICATE_USES_MERGE),
    ],
)
def test_guards_refuse_moves_without_their_data(ci, from_, to, message) -> None:
    opp = OpportunityFactory(
        status=from_, delivery_note="Done" if from_ == Status.DELIVERED else ""
    )
    with pytest.raises(ApplicationError) as caught:
        opportunity_transition(actor=ci, opportunity_id=opp.pk, to_status=to, reason="  ")
    assert caught.value.message == message
    opp.refresh_from_db()
    assert opp.status == from_


@pytest.mark.django_db
def test_illegal_jump_names_both_states(ci) -> None:
    opp = OpportunityFactory(status=Status.SUBMITTED)
    with pytest.raises(ApplicationError) as caught:
        opportunity_transition(actor=ci, opportunity_id=opp.pk, to_status=Status.DELIVERED)
    assert caught.value.message == "An opportunity cannot move from “Submitted” to “Delivered”."


@pytest.mark.django_db
def test_staff_cannot_move_cards_but_can_withdraw_their_own() -> None:
    staff = UserFactory()
    other = OpportunityFactory(status=Status.SUBMITTED)
    with pytest.raises(ApplicationError) as caught:
        opportunity_transition(actor=staff, opportunity_id=other.pk, to_status=Status.TRIAGE)
    assert caught.value.extra == {"forbidden": True}
    with pytest.raises(ApplicationError):
        opportunity_transition(actor=staff, opportunity_id=other.pk, to_status=Status.WITHDRAWN)

    mine = OpportunityFactory(status=Status.SUBMITTED, submitter=staff)
    opportunity_transition(actor=staff, opportunity_id=mine.pk, to_status=Status.WITHDRAWN)
    mine.refresh_from_db()
    assert mine.status == Status.WITHDRAWN


@pytest.mark.django_db
def test_a_draft_is_deleted_not_withdrawn() -> None:
    staff = UserFactory()
    draft = OpportunityFactory(status=Status.DRAFT, submitter=staff, submitted_at=None)
    with pytest.raises(ApplicationError) as caught:
        opportunity_transition(actor=staff, opportunity_id=draft.pk, to_status=Status.WITHDRAWN)
    assert "cannot move from “Draft” to “Withdrawn”" in caught.value.message
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


@pytest.mark.django_db
def test_submitting_a_draft_stamps_the_submission_time() -> None:
    staff = UserFactory()
    draft = OpportunityFactory(status=Status.DRAFT, submitter=staff, submitted_at=None)
    opportunity_transition(actor=staff, opportunity_id=draft.pk, to_status=Status.SUBMITTED)
    draft.refresh_from_db()
    assert draft.status == Status.SUBMITTED and draft.submitted_at is not None


@pytest.mark.django_db
def test_a_stale_move_is_refused_and_shows_the_current_state(ci) -> None:
    opp = OpportunityFactory(status=Status.SUBMITTED)
    opportunity_transition(
        actor=ci, opportunity_id=opp.pk, to_status=Status.TRIAGE, expected_version=1
    )
    with pytest.raises(ApplicationError) as caught:
        opportunity_transition(
            actor=ci,
            opportunity_id=opp.pk,
            to_status=Status.REJECTED,
            reason="x",
            expected_version=1,
        )
    assert "it is now “In triage” (version 2)" in caught.value.message
    assert caught.value.extra == {"current_status": "triage", "current_version": 2}
    assert StatusChange.objects.filter(opportunity=opp).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_people_moving_the_same_card_at_once_exactly_one_wins() -> None:
    ci_a, ci_b = UserFactory(roles={Role.CI_TEAM}), UserFactory(roles={Role.CI_TEAM})
    opp = OpportunityFactory(status=Status.SUBMITTED)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def move(name: str, actor, to: str) -> None:  # type: ignore[no-untyped-def]
        try:
            barrier.wait(timeout=10)
            opportunity_transition(
                actor=actor, opportunity_id=opp.pk, to_status=to, reason="r", expected_version=1
            )
            outcomes[name] = "won"
        except ApplicationError as exc:
            outcomes[name] = exc.message
        finally:
            connection.close()

    threads = [
        threading.Thread(target=move, args=("a", ci_a, Status.TRIAGE)),
        threading.Thread(target=move, args=("b", ci_b, Status.REJECTED)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(v == "won" for v in outcomes.values()) == [False, True]
    loser = next(v for v in outcomes.values() if v != "won")
    assert "Someone else changed this opportunity" in loser
    opp.refresh_from_db()
    assert opp.version == 2
    assert StatusChange.objects.filter(opportunity=opp).count() == 1
