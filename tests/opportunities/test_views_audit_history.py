"""The opportunity page shows its audit trail (who, when, before → after) to the CI team."""

from __future__ import annotations

import pghistory
import pytest

from opportunities.models import Opportunity, Status
from opportunities.services.workflow import opportunity_transition
from synergy_portal.models import Role
from tests.opportunities.factories import OpportunityFactory
from tests.synergy_portal.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_ci_team_sees_who_changed_what_with_before_and_after(client) -> None:
    ci = UserFactory(roles={Role.CI_TEAM}, display_name="Casey Improvement")
    opp = OpportunityFactory(status=Status.SUBMITTED, title="Upload keeps failing")
    # A change with no person behind it (a bulk update, as a background job would make).
    Opportunity.objects.filter(pk=opp.pk).update(title="Upload from the car keeps failing")
    with pghistory.context(user=ci.pk, url="/board/"):
        opportunity_transition(actor=ci, opportunity_id=opp.pk, to_status=Status.TRIAGE)

    client.force_login(ci)
    response = client.get(f"/opportunities/{opp.reference}/")
    assert response.status_code == 200
    history = response.context["audit_history"]
    assert [e.action for e in history] == ["Changed", "Changed", "Created"]
    move, title_change, _created = history
    assert title_change.actor == "System or background job"
    assert [(c.field, c.before, c.after) for c in title_change.changes] == [
        ("title", "Upload keeps failing", "Upload from the car keeps failing")
    ]
    assert move.actor == "Casey Improvement"
    assert ("status", "submitted", "triage") in [(c.field, c.before, c.after) for c in move.changes]
    body = response.content.decode()
    assert "Change history (audit trail, 3 entries)" in body
    assert "Upload keeps failing → Upload from the car keeps failing" in body


def test_staff_do_not_see_the_audit_trail(client) -> None:
    opp = OpportunityFactory(status=Status.SUBMITTED)
    client.force_login(UserFactory())
    response = client.get(f"/opportunities/{opp.reference}/")
    assert response.status_code == 200
    assert response.context["audit_history"] is None
    assert "audit trail" not in response.content.decode()


def test_history_costs_a_fixed_number_of_queries(client, django_assert_max_num_queries) -> None:
    ci = UserFactory(roles={Role.CI_TEAM})
    opp = OpportunityFactory(status=Status.SUBMITTED)
    for n in range(30):
        Opportunity.objects.filter(pk=opp.pk).update(title=f"Title {n}")
    client.force_login(ci)
    with django_assert_max_num_queries(30):
        assert client.get(f"/opportunities/{opp.reference}/").status_code == 200
