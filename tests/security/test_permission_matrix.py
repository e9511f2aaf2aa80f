"""Role × action matrix for the one permission policy (synergy_portal.permissions.can).

Every cell is asserted. Endpoint-level checks (each page, partial and API endpoint that
offers an action, asked as each role) live beside the views' own tests and in
test_endpoint_matrix.py.
"""

from __future__ import annotations

import pytest

from opportunities.models import Classification, Status
from synergy_portal.models import Role
from synergy_portal.permissions import Action, can
from tests.opportunities.factories import OpportunityFactory
from tests.synergy_portal.factories import UserFactory

A = Action
STAFF, CI, OWNER, MANAGER, ADMIN, DDI = (
    Role.STAFF,
    Role.CI_TEAM,
    Role.JOURNEY_OWNER,
    Role.MANAGER,
    Role.ADMIN,
    Role.DDI_SERVICE,
)
PEOPLE = {STAFF, CI, OWNER, MANAGER, ADMIN}

# Who may do each role-level action (no object involved).
EXPECTED: dict[Action, set[Role]] = {
    A.VIEW: PEOPLE,
    A.SUBMIT: PEOPLE,
    A.SUPPORT: PEOPLE,
    A.COMMENT: PEOPLE,
    A.FOLLOW: PEOPLE,
    A.MODERATE_COMMENT: {CI, ADMIN},
    A.TRIAGE: {CI, ADMIN},
    A.SCORE: {CI, ADMIN},
    A.MOVE_CARD: {CI, ADMIN},
    A.MERGE: {CI, ADMIN},
    A.PLAN_CYCLE: {CI, ADMIN},
    A.RECORD_BENEFIT: {CI, ADMIN},
    A.VIEW_BOARD: {CI, ADMIN, OWNER, MANAGER},
    A.EDIT_JOURNEY: {CI, ADMIN, OWNER},
    A.VIEW_DASHBOARDS: {MANAGER, CI, ADMIN},
    A.DOWNLOAD_CSV: {MANAGER, CI, ADMIN},
    A.READ_EXTRACTS: {DDI},
    A.RUN_EXTRACT: {ADMIN},
    A.ADMIN: {ADMIN},
}
ROLE_LEVEL = list(EXPECTED)
CELLS = [(role, action) for role in Role for action in ROLE_LEVEL]


def test_matrix_covers_every_action() -> None:
    object_level = {A.EDIT_DRAFT, A.WITHDRAW}
    assert set(EXPECTED) | object_level == set(Action)


@pytest.fixture(scope="module")
def users(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        made = {role: UserFactory(roles={role}) for role in Role}
        yield made
        for user in made.values():
            user.groups.clear()
            user.delete()


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "action"), CELLS, ids=[f"{r.value}-{a.value}" for r, a in CELLS])
def test_role_level_cell(users, role: Role, action: Action) -> None:
    assert can(users[role], action) is (role in EXPECTED[action])


@pytest.mark.django_db
def test_anonymous_and_inactive_people_may_do_nothing(users) -> None:
    from django.contrib.auth.models import AnonymousUser

    inactive = UserFactory(roles={Role.ADMIN}, is_active=False)
    for action in ROLE_LEVEL:
        assert not can(AnonymousUser(), action)
        assert not can(inactive, action)


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_object_level_cells(users, role: Role) -> None:
    me = users[role]
    person = role in PEOPLE
    my_draft = OpportunityFactory(status=Status.DRAFT, submitter=me, submitted_at=None)
    their_draft = OpportunityFactory(status=Status.DRAFT, submitted_at=None)
    mine = OpportunityFactory(status=Status.SUBMITTED, submitter=me)
    theirs = OpportunityFactory(status=Status.SUBMITTED)
    restricted = OpportunityFactory(
        status=Status.TRIAGE, classification=Classification.OFFICIAL_SENSITIVE, is_restricted=True
    )
    my_restricted = OpportunityFactory(
        status=Status.TRIAGE,
        submitter=me,
        classification=Classification.OFFICIAL_SENSITIVE,
        is_restricted=True,
    )

    assert can(me, A.EDIT_DRAFT, my_draft) is person
    assert can(me, A.EDIT_DRAFT, their_draft) is False
    assert can(me, A.EDIT_DRAFT, mine) is False  # submitted: no longer a draft
    assert can(me, A.WITHDRAW, mine) is person
    assert can(me, A.WITHDRAW, theirs) is False
    assert can(me, A.VIEW, theirs) is person
    assert can(me, A.VIEW, their_draft) is False
    assert can(me, A.VIEW, my_draft) is person
    sees_restricted = role in {CI, ADMIN}
    assert can(me, A.VIEW, restricted) is sees_restricted
    assert can(me, A.SUPPORT, restricted) is sees_restricted
    assert can(me, A.COMMENT, restricted) is sees_restricted
    assert can(me, A.VIEW, my_restricted) is person
