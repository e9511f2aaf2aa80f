"""The audit trail records every kind of change, with the actor, and cannot be altered."""

from __future__ import annotations

import json
import logging

import pghistory
import pytest
from django.db import connection, transaction
from django.db.utils import ProgrammingError
from pghistory.models import Events

from journeys.models import Application, Department
from opportunities.models import Benefit, Opportunity, Score, ScoringModel, Status
from opportunities.services.workflow import opportunity_transition
from synergy_portal.models import Role, User
from synergy_portal.security_log import security_event
from synergy_portal.services import user_set_roles
from tests.journeys.factories import ApplicationFactory
from tests.opportunities.factories import OpportunityFactory
from tests.synergy_portal.factories import UserFactory

pytestmark = pytest.mark.django_db


def _events(model, **filters):  # type: ignore[no-untyped-def]
    return model.pgh_event_model.objects.filter(**filters)


def test_create_update_delete_of_an_opportunity_are_recorded_with_before_and_after() -> None:
    opp = OpportunityFactory(title="Old title")
    opp.title = "New title"
    opp.save(update_fields=["title"])
    events = list(Events.objects.tracks(opp).order_by("pgh_created_at", "pgh_id"))
    assert [e.pgh_label for e in events] == ["insert", "update"]
    assert events[1].pgh_diff["title"] == ["Old title", "New title"]
    pk = opp.pk
    opp.delete()
    assert _events(Opportunity, pgh_obj_id=pk, pgh_label="delete").count() == 1


def test_bulk_and_raw_sql_changes_are_recorded_too() -> None:
    a, b = OpportunityFactory(), OpportunityFactory()
    Opportunity.objects.filter(pk__in=[a.pk, b.pk]).update(title="Bulk renamed")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE opportunities_opportunity SET title = 'Raw SQL' WHERE id = %s", [a.pk]
        )
    titles = list(
        _events(Opportunity, pgh_obj_id=a.pk, pgh_label="update")
        .order_by("pgh_id")
        .values_list("title", flat=True)
    )
    assert titles == ["Bulk renamed", "Raw SQL"]


def test_workflow_moves_scores_benefits_reference_data_and_roles_are_recorded() -> None:
    ci = UserFactory(roles={Role.CI_TEAM})
    opp = OpportunityFactory(status=Status.SUBMITTED)
    with pghistory.context(user=ci.pk):
        opportunity_transition(actor=ci, opportunity_id=opp.pk, to_status=Status.TRIAGE)
    move = _events(Opportunity, pgh_obj_id=opp.pk, pgh_label="update").get()
    assert move.status == Status.TRIAGE
    assert move.pgh_context.metadata["user"] == ci.pk

    model = ScoringModel.objects.create(version=7, name="v7")
    score = Score.objects.create(
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
    )
    Benefit.objects.create(opportunity=opp, hours_per_year=5, cash_per_year=100, recorded_by=ci)
    assert _events(Score, pgh_obj_id=score.pk).exists()
    assert _events(Benefit, pgh_obj=opp.benefits.get()).exists()

    app = ApplicationFactory(debt_rating=2)
    Application.objects.filter(pk=app.pk).update(debt_rating=4)
    assert list(_events(Application, pgh_obj_id=app.pk).values_list("debt_rating", flat=True)) == [
        2,
        4,
    ]
    Department.objects.create(code="new", name="New Department")
    assert _events(Department, code="new").exists()

    person = UserFactory()
    user_set_roles(user=person, roles={Role.MANAGER})
    user_set_roles(user=person, roles=set())
    role_events = User.groups.through.pgh_event_model.objects.filter(user_id=person.pk)
    assert sorted(role_events.values_list("pgh_label", flat=True)) == ["role.added", "role.removed"]


@pytest.mark.parametrize(
    "statement", ["UPDATE {table} SET title = 'forged'", "DELETE FROM {table}"]
)
def test_audit_rows_cannot_be_altered_or_deleted(statement: str) -> None:
    OpportunityFactory()
    table = Opportunity.pgh_event_model._meta.db_table
    with (
        pytest.raises(ProgrammingError, match="Cannot update or delete"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement.format(table=table))
    assert Opportunity.pgh_event_model.objects.count() == 1


def test_admin_change_records_the_admin_as_actor(client) -> None:
    admin = UserFactory(roles={Role.ADMIN}, is_staff=True, is_superuser=True)
    client.force_login(admin)
    department = Department.objects.create(code="ops", name="Operations")
    response = client.post(
        f"/admin/journeys/department/{department.pk}/change/",
        {"code": "ops", "name": "Operational Support", "is_active": "on"},
    )
    assert response.status_code == 302
    event = _events(Department, pgh_obj_id=department.pk, pgh_label="update").get()
    assert event.name == "Operational Support"
    assert event.pgh_context.metadata["user"] == admin.pk
    assert event.pgh_context.metadata["url"].endswith("/change/")


def test_admins_can_browse_the_audit_trail_with_filters(client) -> None:
    admin = UserFactory(roles={Role.ADMIN}, is_staff=True, is_superuser=True)
    OpportunityFactory()
    client.force_login(admin)
    response = client.get("/admin/pghistory/events/")
    assert response.status_code == 200
    assert b"opportunities.OpportunityEvent" in response.content or b"insert" in response.content
    filtered = client.get("/admin/pghistory/events/", {"model": "opportunities.Opportunity"})
    assert filtered.status_code == 200
    staff = UserFactory()
    client.force_login(staff)
    assert client.get("/admin/pghistory/events/").status_code == 302  # to the admin sign-in


def test_security_events_are_json_in_utc(caplog) -> None:
    from synergy_portal.security_log import JsonFormatter

    with caplog.at_level(logging.INFO, logger="synergy.security"):
        security_event("signin.failed", outcome="refused", reason="wrong_tenant")
    line = JsonFormatter().format(caplog.records[-1])
    body = json.loads(line)
    assert body["event"] == "signin.failed"
    assert body["outcome"] == "refused" and body["reason"] == "wrong_tenant"
    assert body["time"].endswith("+00:00")
