"""Drafts and submission: one form, one row; restricted marking; bad input refused."""

from __future__ import annotations

import threading
import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from opportunities.errors import ApplicationError
from opportunities.models import Classification, Opportunity, Status, StatusChange
from opportunities.services.submission import (
    MSG_NOT_YOUR_DRAFT,
    MSG_STEP_JOURNEY,
    opportunity_draft_delete,
    opportunity_draft_save,
    opportunity_submit,
)
from synergy_portal.models import OutboxMessage
from synergy_portal.working_days import add_working_days
from tests.opportunities.conftest import first_step
from tests.opportunities.factories import DraftFactory
from tests.synergy_portal.factories import UserFactory

pytestmark = pytest.mark.django_db

COMPLETE = {
    "title": "Custody booking asks for the same details three times",
    "problem": "Every detained person is typed into three systems.",
    "people_affected": 200,
    "frequency_per_week": Decimal("5"),
    "minutes_per_occurrence": Decimal("15"),
}


def test_first_save_creates_a_draft_with_a_reference_and_a_history_row(staff) -> None:
    token = uuid.uuid4()

    result = opportunity_draft_save(actor=staff, values={"title": "Half a title"}, form_token=token)

    opp = result.opportunity
    assert result.created
    assert opp.status == Status.DRAFT
    assert opp.reference.startswith("SO-")
    assert opp.title == "Half a title"
    assert opp.problem == ""
    assert opp.form_token == token
    assert list(
        StatusChange.objects.filter(opportunity=opp).values_list("to_status", flat=True)
    ) == [Status.DRAFT]


def test_saving_again_with_the_same_token_updates_the_same_draft(staff) -> None:
    token = uuid.uuid4()
    opportunity_draft_save(actor=staff, values={"title": "First"}, form_token=token)

    again = opportunity_draft_save(
        actor=staff, values={"title": "Second", "problem": "More"}, form_token=token
    )

    assert not again.created
    assert again.changed
    assert Opportunity.objects.count() == 1
    assert Opportunity.objects.get().title == "Second"


def test_saving_unchanged_values_writes_nothing(staff) -> None:
    token = uuid.uuid4()
    opportunity_draft_save(actor=staff, values={"title": "Same"}, form_token=token)

    again = opportunity_draft_save(actor=staff, values={"title": "Same"}, form_token=token)

    assert not again.changed


def test_the_same_token_from_another_person_is_their_own_draft(staff, other_staff) -> None:
    token = uuid.uuid4()
    mine = opportunity_draft_save(actor=staff, values={"title": "Mine"}, form_token=token)
    theirs = opportunity_draft_save(actor=other_staff, values={"title": "Theirs"}, form_token=token)

    assert mine.opportunity.pk != theirs.opportunity.pk
    assert Opportunity.objects.get(pk=mine.opportunity.pk).title == "Mine"


def test_editing_someone_elses_draft_is_refused(staff, other_staff) -> None:
    draft = DraftFactory(submitter=other_staff, title="Theirs")

    with pytest.raises(ApplicationError) as refused:
        opportunity_draft_save(actor=staff, values={"title": "Hijack"}, opportunity_id=draft.pk)

    assert refused.value.message == MSG_NOT_YOUR_DRAFT
    assert refused.value.extra["forbidden"]
    draft.refresh_from_db()
    assert draft.title == "Theirs"


def test_submit_sets_the_status_due_date_history_and_outbox(staff) -> None:
    result = opportunity_submit(actor=staff, values=COMPLETE, form_token=uuid.uuid4())

    opp = Opportunity.objects.get(pk=result.opportunity.pk)
    assert not result.already_submitted
    assert opp.status == Status.SUBMITTED
    assert opp.submitted_at is not None
    assert opp.first_response_due is not None
    assert opp.people_affected == 200
    assert [c.to_status for c in opp.status_changes.all()] == [Status.DRAFT, Status.SUBMITTED]
    topics = set(OutboxMessage.objects.values_list("topic", flat=True))
    assert topics == {"opportunity.status_changed", "opportunity.submitted"}


def test_submitting_the_same_form_twice_makes_one_opportunity(staff) -> None:
    token = uuid.uuid4()
    first = opportunity_submit(actor=staff, values=COMPLETE, form_token=token)
    second = opportunity_submit(
        actor=staff, values={**COMPLETE, "title": "Changed on the second click"}, form_token=token
    )

    assert second.already_submitted
    assert second.opportunity.pk == first.opportunity.pk
    assert Opportunity.objects.count() == 1
    assert Opportunity.objects.get().title == COMPLETE["title"]


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_submits_of_one_form_make_one_opportunity() -> None:
    person = UserFactory()
    token = uuid.uuid4()
    barrier = threading.Barrier(2)
    results: list[object] = []
    errors: list[BaseException] = []

    def click() -> None:
        try:
            barrier.wait()
            results.append(opportunity_submit(actor=person, values=COMPLETE, form_token=token))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    assert Opportunity.objects.filter(submitter=person).count() == 1
    assert sorted(r.already_submitted for r in results) == [False, True]


def test_official_sensitive_makes_it_restricted(staff) -> None:
    result = opportunity_submit(
        actor=staff,
        values={**COMPLETE, "classification": Classification.OFFICIAL_SENSITIVE},
        form_token=uuid.uuid4(),
    )

    assert result.opportunity.is_restricted


def test_back_to_official_lifts_the_restriction_on_a_draft(staff) -> None:
    token = uuid.uuid4()
    opportunity_draft_save(
        actor=staff, values={"classification": Classification.OFFICIAL_SENSITIVE}, form_token=token
    )
    again = opportunity_draft_save(
        actor=staff, values={"classification": Classification.OFFICIAL}, form_token=token
    )

    assert not again.opportunity.is_restricted


def test_submit_without_the_figures_is_refused_and_keeps_the_draft(staff) -> None:
    token = uuid.uuid4()
    with pytest.raises(ValidationError) as refused:
        opportunity_submit(
            actor=staff, values={"title": "Only a title", "problem": "And this"}, form_token=token
        )

    assert set(refused.value.message_dict) == {
        "people_affected",
        "frequency_per_week",
        "minutes_per_occurrence",
    }
    assert not Opportunity.objects.exists()  # the whole submit rolled back


def test_a_step_of_another_journey_is_refused(staff, journey, other_journey) -> None:
    with pytest.raises(ValidationError) as refused:
        opportunity_draft_save(
            actor=staff,
            values={"journey_id": journey.pk, "step_id": first_step(other_journey).pk},
            form_token=uuid.uuid4(),
        )

    assert refused.value.message_dict == {"step": [MSG_STEP_JOURNEY]}


def test_journey_step_and_lists_are_saved(staff, journey, dna_themes) -> None:
    from tests.journeys.factories import ApplicationFactory

    app = ApplicationFactory()
    theme = dna_themes[0]
    result = opportunity_draft_save(
        actor=staff,
        values={
            "journey_id": journey.pk,
            "step_id": first_step(journey).pk,
            "application_ids": [app.pk],
            "theme_ids": [theme.pk],
        },
        form_token=uuid.uuid4(),
    )

    opp = result.opportunity
    assert opp.step == first_step(journey)
    assert list(opp.applications.all()) == [app]
    assert list(opp.dna_themes.all()) == [theme]


def test_teams_post_is_queued_for_official_submissions_only(staff, settings) -> None:
    settings.TEAMS_WEBHOOK_URL = "https://teams.example/webhook"
    opportunity_submit(actor=staff, values=COMPLETE, form_token=uuid.uuid4())
    opportunity_submit(
        actor=staff,
        values={**COMPLETE, "classification": Classification.OFFICIAL_SENSITIVE},
        form_token=uuid.uuid4(),
    )

    assert OutboxMessage.objects.filter(topic="teams.post").count() == 1


def test_deleting_a_draft_removes_it(staff) -> None:
    draft = opportunity_draft_save(actor=staff, values={"title": "Gone"}, form_token=uuid.uuid4())

    opportunity_draft_delete(actor=staff, opportunity_id=draft.opportunity.pk)

    assert not Opportunity.objects.exists()


def test_nobody_deletes_someone_elses_draft(staff, other_staff) -> None:
    draft = DraftFactory(submitter=other_staff)

    with pytest.raises(ApplicationError):
        opportunity_draft_delete(actor=staff, opportunity_id=draft.pk)

    assert Opportunity.objects.filter(pk=draft.pk).exists()


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (date(2026, 11, 27), 5, date(2026, 12, 4)),  # Friday -> next Friday
        (date(2026, 11, 28), 1, date(2026, 11, 30)),  # Saturday -> Monday
        (date(2026, 11, 23), 3, date(2026, 11, 26)),  # Monday -> Thursday
        (date(2026, 12, 23), 2, date(2026, 12, 29)),  # Wednesday -> over Christmas -> Tuesday
    ],
)
def test_working_days_skip_weekends(start: date, days: int, expected: date) -> None:
    assert add_working_days(start, days) == expected
