"""The triage panel: journey/step/applications/owner, comment, reject with a reason the
submitter reads, merge (with every refusal), plan into a cycle and mark delivered."""

from __future__ import annotations

from datetime import date

import pytest

from opportunities.models import (
    Comment,
    DeliveryCycle,
    Follow,
    Opportunity,
    Status,
    StatusChange,
    Support,
)
from opportunities.services import merge, workflow
from opportunities.services.board_triage import MSG_OWNER_NOT_CI, MSG_STEP_NOT_IN_JOURNEY
from synergy_portal.models import OutboxMessage, Role
from tests.journeys.factories import ApplicationFactory, JourneyFactory, JourneyStepFactory
from tests.opportunities.factories import OpportunityFactory
from tests.opportunities.test_board import HX, score
from tests.synergy_portal.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ci(db):  # type: ignore[no-untyped-def]
    return UserFactory(roles={Role.CI_TEAM})


@pytest.fixture
def signed_in(client, ci):  # type: ignore[no-untyped-def]
    client.force_login(ci)
    return client


def test_the_panel_is_a_fragment_for_htmx_and_a_page_without(signed_in) -> None:
    opp = OpportunityFactory(status=Status.TRIAGE)
    fragment = signed_in.get(f"/board/cards/{opp.reference}/", **HX).content.decode()
    assert fragment.lstrip().startswith('<div class="app-panel"') and "<html" not in fragment
    page = signed_in.get(f"/board/cards/{opp.reference}/").content.decode()
    assert "<html" in page and 'id="board-panel"' in page and opp.title in page
    # URL-addressable: the board opens with the panel for ?card=.
    board = signed_in.get(f"/board/?card={opp.reference}").content.decode()
    assert 'id="panel-title"' in board and "app-board--panel-open" in board


def test_staff_cannot_open_the_panel(client) -> None:
    opp = OpportunityFactory(status=Status.TRIAGE)
    client.force_login(UserFactory())
    assert client.get(f"/board/cards/{opp.reference}/").status_code == 403
    assert client.post(f"/board/cards/{opp.reference}/reject/", {"reason": "x"}).status_code == 403


def test_triage_details_set_journey_step_applications_and_owner(signed_in, ci) -> None:
    opp = OpportunityFactory(status=Status.TRIAGE)
    step = JourneyStepFactory()
    apps = [ApplicationFactory(), ApplicationFactory()]
    response = signed_in.post(
        f"/board/cards/{opp.reference}/triage/",
        {
            "version": 1,
            "place": f"s:{step.pk}",
            "owner": ci.pk,
            "applications": [a.pk for a in apps],
        },
        **HX,
    )
    assert response.status_code == 200
    assert b"Saved the journey, applications and owner" in response.content
    opp.refresh_from_db()
    assert (opp.journey_id, opp.step_id, opp.owner_id, opp.version) == (
        step.journey_id,
        step.pk,
        ci.pk,
        2,
    )
    assert set(opp.applications.values_list("pk", flat=True)) == {a.pk for a in apps}
    # The card on the board is refreshed out of band.
    assert b'id="col-list-triage" hx-swap-oob="innerHTML"' in response.content


def test_triage_refuses_an_owner_outside_the_ci_team_and_a_stale_form(signed_in) -> None:
    opp = OpportunityFactory(status=Status.TRIAGE)
    response = signed_in.post(
        f"/board/cards/{opp.reference}/triage/", {"version": 1, "owner": UserFactory().pk}, **HX
    )
    assert response.status_code == 400 and MSG_OWNER_NOT_CI.encode() in response.content
    stale = signed_in.post(f"/board/cards/{opp.reference}/triage/", {"version": 7}, **HX)
    assert stale.status_code == 409 and b"Someone else changed this opportunity" in stale.content
    assert Opportunity.objects.get(pk=opp.pk).version == 1


def test_a_step_from_another_journey_is_refused(ci) -> None:
    from opportunities.errors import ApplicationError
    from opportunities.services.board_triage import opportunity_triage_update

    opp = OpportunityFactory(status=Status.TRIAGE)
    step = JourneyStepFactory()
    with pytest.raises(ApplicationError) as caught:
        opportunity_triage_update(
            actor=ci,
            opportunity_id=opp.pk,
            expected_version=1,
            journey_id=JourneyFactory().pk,
            step_id=step.pk,
            application_ids=[],
            owner_id=None,
        )
    assert caught.value.message == MSG_STEP_NOT_IN_JOURNEY


def test_a_ci_comment_is_an_update_to_the_submitter(signed_in) -> None:
    opp = OpportunityFactory(status=Status.TRIAGE, next_update_due=date(2020, 1, 1))
    response = signed_in.post(
        f"/board/cards/{opp.reference}/comment/", {"body": "Looking at it now."}, **HX
    )
    assert response.status_code == 200
    assert Comment.objects.filter(opportunity=opp, body="Looking at it now.").exists()
    opp.refresh_from_db()
    assert opp.next_update_due > date.today()
    empty = signed_in.post(f"/board/cards/{opp.reference}/comment/", {"body": "  "}, **HX)
    assert empty.status_code == 400 and b"Write a comment." in empty.content


def test_reject_needs_a_reason_which_the_submitter_then_reads(client, signed_in) -> None:
    submitter = UserFactory()
    opp = OpportunityFactory(status=Status.TRIAGE, submitter=submitter)
    refused = signed_in.post(
        f"/board/cards/{opp.reference}/reject/", {"version": 1, "reason": " "}, **HX
    )
    assert refused.status_code == 400 and workflow.MSG_NEEDS_REASON.encode() in refused.content
    assert Opportunity.objects.get(pk=opp.pk).status == Status.TRIAGE
    reason = "The new records system due in March fixes this, so we will not change the old one."
    done = signed_in.post(
        f"/board/cards/{opp.reference}/reject/", {"version": 1, "reason": reason}, **HX
    )
    assert done.status_code == 200 and b"The submitter will see your reason" in done.content
    opp.refresh_from_db()
    assert opp.status == Status.REJECTED and opp.rejection_reason == reason
    assert StatusChange.objects.get(opportunity=opp).reason == reason
    # The card leaves its column on the board.
    assert (
        f'id="card-{opp.reference}"'.encode() not in done.content.split(b'id="col-list-triage"')[1]
    )
    client.force_login(submitter)
    page = client.get(f"/opportunities/{opp.reference}/")
    assert page.status_code == 200 and reason in page.content.decode()


def _supported(opp: Opportunity, *people) -> None:  # type: ignore[no-untyped-def]
    for person in people:
        Support.objects.create(opportunity=opp, user=person)
    Opportunity.objects.filter(pk=opp.pk).update(
        supporters_count=Support.objects.filter(opportunity=opp).count()
    )


def test_merge_searches_confirms_then_carries_everything_over(signed_in) -> None:
    both, only_dup, follower = UserFactory(), UserFactory(), UserFactory()
    target = OpportunityFactory(status=Status.BACKLOG, title="Body-worn video upload fails")
    dup = OpportunityFactory(status=Status.SUBMITTED)
    _supported(target, both)
    _supported(dup, both, only_dup)
    Follow.objects.create(opportunity=dup, user=follower)
    Comment.objects.create(opportunity=dup, author=follower, body="Same at Eastfield station.")

    found = signed_in.get(f"/board/cards/{dup.reference}/merge/?q={target.reference}", **HX)
    assert f"Merge into {target.reference}".encode() in found.content
    asked = signed_in.post(
        f"/board/cards/{dup.reference}/merge/", {"version": 1, "target": target.reference}, **HX
    )
    assert b"Yes, merge it" in asked.content
    assert Opportunity.objects.get(pk=dup.pk).status == Status.SUBMITTED
    assert not OutboxMessage.objects.exists()  # the check ran in a rolled-back savepoint

    done = signed_in.post(
        f"/board/cards/{dup.reference}/merge/",
        {"version": 1, "target": target.reference, "confirm": "1"},
        **HX,
    )
    assert done.status_code == 200 and b"was merged into" in done.content
    dup.refresh_from_db()
    target.refresh_from_db()
    assert dup.status == Status.DUPLICATE and dup.merged_into_id == target.pk
    supporters = set(Support.objects.filter(opportunity=target).values_list("user_id", flat=True))
    assert supporters == {both.pk, only_dup.pk, dup.submitter_id}
    assert target.supporters_count == 3  # "both" counted once
    assert Follow.objects.filter(opportunity=target, user=follower).exists()
    copied = Comment.objects.get(opportunity=target)
    assert copied.body == f"[From {dup.reference}] Same at Eastfield station."
    assert OutboxMessage.objects.filter(topic="opportunity.merged").count() == 1


@pytest.mark.parametrize("case", ["itself", "closed", "loop"])
def test_merge_refusals_are_clear_and_change_nothing(signed_in, ci, case) -> None:  # type: ignore[no-untyped-def]
    a = OpportunityFactory(status=Status.TRIAGE)
    supporter = UserFactory()
    _supported(a, supporter)
    if case == "itself":
        target, message = a, merge.MSG_MERGE_SELF
    elif case == "closed":
        target = OpportunityFactory(status=Status.REJECTED, rejection_reason="No")
        message = merge.MSG_MERGE_TARGET.format(
            reference=target.reference, status="Not taken forward"
        )
    else:
        target = OpportunityFactory(status=Status.SUBMITTED)
        merge.opportunity_merge(actor=ci, duplicate_id=target.pk, target_id=a.pk)
        a.refresh_from_db()
        message = merge.MSG_MERGE_CYCLE.format(target=target.reference, duplicate=a.reference)
    before = (Support.objects.count(), StatusChange.objects.count(), OutboxMessage.objects.count())
    response = signed_in.post(
        f"/board/cards/{a.reference}/merge/",
        {"version": a.version, "target": target.reference, "confirm": "1"},
        **HX,
    )
    assert response.status_code == 400
    assert message.encode() in response.content.replace(b"&#x27;", b"'")
    assert Opportunity.objects.get(pk=a.pk).status == Status.TRIAGE
    assert (
        Support.objects.count(),
        StatusChange.objects.count(),
        OutboxMessage.objects.count(),
    ) == before


def test_plan_into_a_cycle_from_the_panel_warns_over_capacity(signed_in) -> None:
    cycle = DeliveryCycle.objects.create(
        name="C9", starts_on=date(2026, 12, 7), ends_on=date(2026, 12, 10), capacity_days=1
    )
    opp = OpportunityFactory(status=Status.BACKLOG)
    score(opp)  # 2 delivery days
    over = signed_in.post(
        f"/board/cards/{opp.reference}/plan/", {"version": 1, "cycle": cycle.pk}, **HX
    )
    assert over.status_code == 400 and b"Plan it anyway" in over.content
    assert Opportunity.objects.get(pk=opp.pk).delivery_cycle_id is None
    done = signed_in.post(
        f"/board/cards/{opp.reference}/plan/",
        {"version": 1, "cycle": cycle.pk, "confirm": "1"},
        **HX,
    )
    assert done.status_code == 200
    assert Opportunity.objects.get(pk=opp.pk).delivery_cycle_id == cycle.pk


def test_marking_delivered_needs_a_delivery_note(signed_in) -> None:
    opp = OpportunityFactory(status=Status.IN_DELIVERY)
    refused = signed_in.post(
        f"/board/cards/{opp.reference}/deliver/", {"version": 1, "delivery_note": ""}, **HX
    )
    assert (
        refused.status_code == 400 and workflow.MSG_NEEDS_DELIVERY_NOTE.encode() in refused.content
    )
    done = signed_in.post(
        f"/board/cards/{opp.reference}/deliver/",
        {"version": 1, "delivery_note": "Upload now resumes over 4G."},
        **HX,
    )
    assert done.status_code == 200
    opp.refresh_from_db()
    assert opp.status == Status.DELIVERED and opp.delivery_note == "Upload now resumes over 4G."


def test_panel_forms_work_without_javascript(signed_in) -> None:
    opp = OpportunityFactory(status=Status.TRIAGE)
    response = signed_in.post(f"/board/cards/{opp.reference}/comment/", {"body": "Hello"})
    assert response.status_code == 302 and response["Location"] == f"/board/cards/{opp.reference}/"
    refused = signed_in.post(f"/board/cards/{opp.reference}/reject/", {"version": 1, "reason": ""})
    assert refused.status_code == 400 and b"<html" in refused.content
