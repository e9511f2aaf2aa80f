"""Step editing services: who may edit, reordering in one transaction, retire not delete."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from journeys import services
from journeys.models import JourneyStep
from opportunities.errors import ApplicationError
from opportunities.models import Status
from synergy_portal.models import Role
from tests.journeys.factories import JourneyFactory, JourneyStepFactory
from tests.opportunities.factories import OpportunityFactory
from tests.synergy_portal.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def journey(owner):  # type: ignore[no-untyped-def]
    journey = JourneyFactory(owner=owner)
    for position, name in enumerate(["Arrive", "Search", "Book in", "Cell"], start=1):
        JourneyStepFactory(journey=journey, position=position, name=name)
    return journey


def _names(journey) -> list[str]:  # type: ignore[no-untyped-def]
    return list(
        JourneyStep.objects.filter(journey=journey, retired_at__isnull=True)
        .order_by("position")
        .values_list("name", flat=True)
    )


def _step(journey, name: str) -> JourneyStep:  # type: ignore[no-untyped-def]
    return JourneyStep.objects.get(journey=journey, name=name)


def test_staff_and_the_owner_of_another_journey_are_refused(journey, staff) -> None:
    someone_elses = JourneyFactory(owner=UserFactory(roles={Role.JOURNEY_OWNER})).owner
    for actor in (staff, someone_elses):
        with pytest.raises(ApplicationError, match=services.MSG_FORBIDDEN):
            services.journey_step_add(actor=actor, journey_id=journey.pk, name="New")
        with pytest.raises(ApplicationError, match=services.MSG_FORBIDDEN):
            services.journey_step_move(
                actor=actor, step_id=_step(journey, "Cell").pk, direction="up"
            )
    assert _names(journey) == ["Arrive", "Search", "Book in", "Cell"]


def test_owner_and_ci_team_edit_steps(journey, owner, ci) -> None:
    added = services.journey_step_add(
        actor=owner, journey_id=journey.pk, name="  Release  ", typical_minutes="15"
    )
    assert (added.name, added.position, added.typical_minutes) == ("Release", 5, 15)
    services.journey_step_update(actor=ci, step_id=added.pk, name="Release or charge")
    assert _names(journey)[-1] == "Release or charge"


def test_move_swaps_two_positions_in_one_transaction(journey, owner) -> None:
    cell = _step(journey, "Cell")
    services.journey_step_move(actor=owner, step_id=cell.pk, direction="up")
    assert _names(journey) == ["Arrive", "Search", "Cell", "Book in"]
    services.journey_step_move(actor=owner, step_id=cell.pk, direction="down")
    assert _names(journey) == ["Arrive", "Search", "Book in", "Cell"]
    positions = sorted(
        JourneyStep.objects.filter(journey=journey).values_list("position", flat=True)
    )
    assert positions == [1, 2, 3, 4]


def test_moving_past_either_end_is_refused(journey, owner) -> None:
    with pytest.raises(ApplicationError, match="already the first step"):
        services.journey_step_move(actor=owner, step_id=_step(journey, "Arrive").pk, direction="up")
    with pytest.raises(ApplicationError, match="already the last step"):
        services.journey_step_move(actor=owner, step_id=_step(journey, "Cell").pk, direction="down")


def test_reorder_puts_active_steps_in_the_given_order_and_keeps_retired_positions(
    journey, owner
) -> None:
    search = _step(journey, "Search")
    services.journey_step_retire(actor=owner, step_id=search.pk)
    ids = [_step(journey, n).pk for n in ("Cell", "Arrive", "Book in")]
    services.journey_steps_reorder(actor=owner, journey_id=journey.pk, step_ids=ids)
    assert _names(journey) == ["Cell", "Arrive", "Book in"]
    search.refresh_from_db()
    assert search.position == 2 and search.retired_at is not None


def test_reorder_with_a_stale_list_changes_nothing(journey, owner) -> None:
    ids = [_step(journey, n).pk for n in ("Cell", "Arrive", "Book in")]  # "Search" missing
    with pytest.raises(ApplicationError, match="changed while you were reordering"):
        services.journey_steps_reorder(actor=owner, journey_id=journey.pk, step_ids=ids)
    with pytest.raises(ApplicationError):
        services.journey_steps_reorder(actor=owner, journey_id=journey.pk, step_ids=[*ids, ids[0]])
    assert _names(journey) == ["Arrive", "Search", "Book in", "Cell"]


def test_the_position_constraint_still_holds_at_commit(journey) -> None:
    arrive, search = _step(journey, "Arrive"), _step(journey, "Search")
    with pytest.raises(Exception, match="step_unique_position"), transaction.atomic():
        JourneyStep.objects.filter(pk=search.pk).update(position=arrive.position)
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_deleting_a_step_with_opportunities_is_refused_retire_instead(journey, owner) -> None:
    book_in = _step(journey, "Book in")
    opp = OpportunityFactory(
        journey=journey, step=book_in, status=Status.DELIVERED, delivery_note="Done"
    )
    with pytest.raises(ApplicationError, match="cannot be deleted") as refusal:
        services.journey_step_delete(actor=owner, step_id=book_in.pk)
    assert "Retire the step instead" in refusal.value.message
    services.journey_step_retire(actor=owner, step_id=book_in.pk)
    opp.refresh_from_db()
    assert opp.step_id == book_in.pk
    assert "Book in" not in _names(journey)
    services.journey_step_restore(actor=owner, step_id=book_in.pk)
    assert _names(journey) == ["Arrive", "Search", "Book in", "Cell"]


def test_deleting_a_step_without_opportunities_works(journey, ci) -> None:
    assert services.journey_step_delete(actor=ci, step_id=_step(journey, "Search").pk) == "Search"
    assert _names(journey) == ["Arrive", "Book in", "Cell"]


def test_a_blank_name_or_absurd_duration_is_refused(journey, owner) -> None:
    with pytest.raises(ApplicationError, match=services.MSG_NAME_REQUIRED):
        services.journey_step_add(actor=owner, journey_id=journey.pk, name="   ")
    with pytest.raises(ApplicationError, match="whole number of minutes"):
        services.journey_step_add(
            actor=owner, journey_id=journey.pk, name="X", typical_minutes="-5"
        )
    with pytest.raises(ApplicationError, match="whole number of minutes"):
        services.journey_step_add(
            actor=owner, journey_id=journey.pk, name="X", typical_minutes="9999"
        )


def test_every_step_change_is_audited_with_the_service_named(journey, owner) -> None:
    from journeys.models import JourneyStepEvent  # type: ignore[attr-defined]

    cell = _step(journey, "Cell")
    before = JourneyStepEvent.objects.count()
    services.journey_step_move(actor=owner, step_id=cell.pk, direction="up")
    events = list(
        JourneyStepEvent.objects.order_by("pgh_id")[before:].select_related("pgh_context")
    )
    assert [e.pgh_label for e in events] == ["update", "update"]
    assert {e.pgh_context.metadata["service"] for e in events} == {"journey_step_move"}
    assert {e.pgh_obj_id for e in events} == {cell.pk, _step(journey, "Book in").pk}
