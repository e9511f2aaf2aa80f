"""Role × endpoint matrix: each page, partial, API endpoint and action asked as every role.

"Allowed" means the permission check let the request through (any answer but 401/403/404);
"refused" means 401, 403 or 404 (hidden). The role-level policy itself is asserted cell by
cell in test_permission_matrix.py.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.core.cache import cache

from opportunities.models import DeliveryCycle, Status
from synergy_portal.models import Role
from tests.journeys.factories import JourneyFactory
from tests.opportunities.factories import OpportunityFactory
from tests.synergy_portal.factories import UserFactory

STAFF, CI, OWNER, MANAGER, ADMIN, DDI = (
    Role.STAFF,
    Role.CI_TEAM,
    Role.JOURNEY_OWNER,
    Role.MANAGER,
    Role.ADMIN,
    Role.DDI_SERVICE,
)
PEOPLE = {STAFF, CI, OWNER, MANAGER, ADMIN}
EVERYONE = PEOPLE | {DDI}
REFUSED = {401, 403, 404}

# (method, path template, roles allowed, POST data)
MATRIX: list[tuple[str, str, set[Role], dict[str, str]]] = [
    ("GET", "/", EVERYONE, {}),
    ("GET", "/api/v1/me/", EVERYONE, {}),
    ("GET", "/opportunities/", PEOPLE, {}),
    ("GET", "/opportunities/new/", PEOPLE, {}),
    ("GET", "/me/", PEOPLE, {}),
    ("GET", "/opportunities/{ref}/", PEOPLE, {}),
    ("GET", "/opportunities/{ref}/score/", {CI, ADMIN}, {}),
    ("GET", "/scoring-models/", {ADMIN}, {}),
    ("GET", "/board/", {CI, ADMIN, OWNER, MANAGER}, {}),
    ("GET", "/cycles/", {CI, ADMIN}, {}),
    ("GET", "/journeys/", PEOPLE, {}),
    ("GET", "/journeys/{slug}/", PEOPLE, {}),
    ("GET", "/journeys/{slug}/edit/", {CI, ADMIN, OWNER}, {}),
    ("GET", "/applications/", PEOPLE, {}),
    ("GET", "/dashboards/", {MANAGER, CI, ADMIN}, {}),
    ("GET", "/reporting/extracts/", {ADMIN}, {}),
    ("GET", "/api/v1/extracts/", {DDI}, {}),
    ("POST", "/opportunities/{ref}/support/", PEOPLE, {}),
    ("POST", "/opportunities/{ref}/follow/", PEOPLE, {}),
    ("POST", "/opportunities/{ref}/comments/", PEOPLE, {"body": "Same here on nights."}),
    ("POST", "/board/cards/{ref}/move/", {CI, ADMIN}, {"to_status": "assessing", "version": "1"}),
    ("POST", "/board/cards/{ref}/reject/", {CI, ADMIN}, {"reason": "Out of scope", "version": "1"}),
    ("POST", "/reporting/extracts/run/", {ADMIN}, {}),
]
CELLS = [(role, row) for row in MATRIX for role in Role]


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    cache.clear()
    users = {role: UserFactory(roles={role}) for role in Role}
    journey = JourneyFactory(owner=users[OWNER])
    opp = OpportunityFactory(status=Status.TRIAGE, journey=journey)
    DeliveryCycle.objects.create(
        name="Cycle 1", starts_on=date(2026, 11, 2), ends_on=date(2026, 11, 5), capacity_days=8
    )
    return {"users": users, "ref": opp.reference, "slug": journey.slug}


@pytest.mark.django_db(databases=["default", "reporting"])
@pytest.mark.parametrize(
    ("role", "row"), CELLS, ids=[f"{r.value}-{m} {p}" for r, (m, p, _, _) in CELLS]
)
def test_endpoint_cell(client, world, role: Role, row) -> None:  # type: ignore[no-untyped-def]
    method, template, allowed, data = row
    path = template.format(ref=world["ref"], slug=world["slug"])
    client.force_login(world["users"][role])
    response = client.get(path) if method == "GET" else client.post(path, data)
    if role in allowed:
        assert response.status_code not in REFUSED, (role, path, response.status_code)
        assert response.status_code < 500
    else:
        assert response.status_code in REFUSED, (role, path, response.status_code)


@pytest.mark.django_db(databases=["default", "reporting"])
@pytest.mark.parametrize("path", ["/opportunities/", "/board/", "/dashboards/", "/me/"])
def test_signed_out_visitors_are_sent_to_sign_in(client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db(databases=["default", "reporting"])
def test_signed_out_api_calls_get_json_401_or_403(client) -> None:
    for path in ("/api/v1/me/", "/api/v1/extracts/"):
        response = client.get(path)
        assert response.status_code in (401, 403)
        assert "detail" in response.json()
