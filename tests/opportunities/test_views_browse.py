"""Browse and search: filters, sort, pagination, htmx regions, permissions and query counts."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest

from journeys.models import DnaTheme
from opportunities.models import Status
from tests.journeys.factories import ApplicationFactory, DepartmentFactory, JourneyFactory
from tests.opportunities.conftest import HTMX
from tests.opportunities.factories import DraftFactory, OpportunityFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_ratelimit")]

BROWSE = "/opportunities/"


def titles(body: str) -> list[str]:
    return re.findall(r'class="govuk-link app-card__link" href="[^"]+">([^<]+)</a>', body)


def test_lists_visible_opportunities_only(client_for, staff, other_staff) -> None:
    OpportunityFactory(title="Open for all")
    OpportunityFactory(
        title="Sensitive one", classification="official_sensitive", is_restricted=True
    )
    DraftFactory(title="Someone's draft", submitter=other_staff)
    DraftFactory(title="My own draft", submitter=staff)

    body = client_for(staff).get(BROWSE).content.decode()

    assert titles(body) == ["Open for all"]
    assert "1 opportunity" in body


def test_the_ci_team_sees_restricted_ones(client_for, ci) -> None:
    OpportunityFactory(
        title="Sensitive one", classification="official_sensitive", is_restricted=True
    )

    assert titles(client_for(ci).get(BROWSE).content.decode()) == ["Sensitive one"]


def test_full_text_search_uses_stems(client_for, staff) -> None:
    OpportunityFactory(title="Uploading video times out", problem="The car upload fails.")
    OpportunityFactory(title="Rota not visible", problem="Phones again.", better="")

    body = client_for(staff).get(BROWSE + "?q=upload").content.decode()

    assert titles(body) == ["Uploading video times out"]
    assert "Best match" in body


def test_filters_combine_and_show_what_is_in_use(client_for, staff, dna_themes) -> None:
    journey = JourneyFactory(name="Custody intake")
    app = ApplicationFactory(name="CustodyPoint")
    department = DepartmentFactory(name="Custody")
    theme = dna_themes[0]
    wanted = OpportunityFactory(
        title="Wanted", journey=journey, department=department, status=Status.TRIAGE
    )
    wanted.applications.add(app)
    wanted.dna_themes.add(theme)
    decoy = OpportunityFactory(title="Other journey", department=department, status=Status.TRIAGE)
    decoy.applications.add(app)
    OpportunityFactory(title="Wrong status", journey=journey, department=department)
    query = urlencode(
        {
            "journey": journey.pk,
            "application": app.pk,
            "department": department.pk,
            "theme": theme.pk,
            "status": "triage",
        }
    )

    body = client_for(staff).get(f"{BROWSE}?{query}").content.decode()

    assert titles(body) == ["Wanted"]
    assert "Custody intake" in body and "CustodyPoint" in body and "In triage" in body


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("newest", ["C newest", "B", "A oldest"]),
        ("supported", ["B", "A oldest", "C newest"]),
        ("priority", ["A oldest", "C newest", "B"]),
    ],
)
def test_sorting(client_for, staff, sort: str, expected: list[str]) -> None:
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    OpportunityFactory(
        title="A oldest",
        submitted_at=now - timedelta(days=3),
        supporters_count=5,
        current_priority=900,
    )
    OpportunityFactory(title="B", submitted_at=now - timedelta(days=2), supporters_count=9)
    OpportunityFactory(
        title="C newest",
        submitted_at=now - timedelta(days=1),
        supporters_count=1,
        current_priority=100,
    )

    body = client_for(staff).get(f"{BROWSE}?sort={sort}").content.decode()

    assert titles(body) == expected


def test_pagination_keeps_the_filters_in_the_links(client_for, staff) -> None:
    for n in range(25):
        OpportunityFactory(title=f"Rota problem {n}", status=Status.TRIAGE)

    first = client_for(staff).get(BROWSE + "?status=triage").content.decode()
    second = client_for(staff).get(BROWSE + "?status=triage&page=2").content.decode()

    assert len(titles(first)) == 20 and len(titles(second)) == 5
    assert 'href="?status=triage&amp;page=2"' in first
    assert "25 opportunities" in first


def test_htmx_gets_the_results_region_only(client_for, staff) -> None:
    OpportunityFactory(title="Only result")

    response = client_for(staff).get(BROWSE + "?q=result", HTTP_HX_TARGET="results", **HTMX)

    body = response.content.decode()
    assert body.lstrip().startswith('<div id="results"')
    assert "<html" not in body
    assert titles(body) == ["Only result"]


def test_unknown_filter_values_say_so_and_list_nothing_wrong(client_for, staff) -> None:
    OpportunityFactory(title="Anything")

    response = client_for(staff).get(BROWSE + "?journey=999999&sort=sideways")

    assert response.status_code == 200
    assert "Some filters could not be used" in response.content.decode()


def test_browse_needs_sign_in(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get(BROWSE)["Location"] == "/accounts/login/?next=/opportunities/"


def test_query_count_does_not_grow_with_rows(
    client_for, staff, dna_themes, django_assert_max_num_queries
) -> None:
    journey = JourneyFactory()
    client = client_for(staff)
    for n in range(3):
        OpportunityFactory(journey=journey, title=f"Few {n}")
    client.get(BROWSE)

    with django_assert_max_num_queries(12) as few:
        client.get(BROWSE + "?sort=supported")
    for n in range(40):
        OpportunityFactory(journey=JourneyFactory(), title=f"Many {n}")
    with django_assert_max_num_queries(12) as many:
        client.get(BROWSE + "?sort=supported")

    assert len(many.captured_queries) == len(few.captured_queries)
    assert DnaTheme.objects.exists()
