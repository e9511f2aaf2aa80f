"""The dashboard pages and CSVs: permissions, the CSV equals the table shown, htmx regions,
filters in the URL, the "as of" caption, security events and query counts."""

from __future__ import annotations

import csv
import io
import logging
import re
from datetime import datetime
from html.parser import HTMLParser
from typing import Any

import pytest
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from reporting.dashboards.selectors import SECTIONS
from reporting.models import FactOpportunity, FactStatusChange, FactSupport
from synergy_portal.models import Role
from tests.reporting.test_dashboards_dataset import (
    BATCH,
    RESPONSE,
    at,
    build_dataset,
)
from tests.synergy_portal.factories import UserFactory

pytestmark = pytest.mark.django_db(databases=["default", "reporting"])

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "dashboard-body"}
QUERY = "period=custom&from=2026-01-01&to=2026-06-15"


def url(section: str = "overview", query: str = QUERY) -> str:
    path = "/dashboards/" if section == "overview" else f"/dashboards/{section}/"
    return f"{path}?{query}" if query else path


def csv_url(section: str, chart: str, query: str = QUERY) -> str:
    return f"/dashboards/{section}/{chart}.csv" + (f"?{query}" if query else "")


@pytest.fixture
def dataset(settings: Any) -> Any:
    settings.DASHBOARD_CACHE_SECONDS = 0
    return build_dataset()


def client_as(*roles: Role) -> Client:
    client = Client()
    client.force_login(UserFactory(roles=set(roles)))
    return client


# --- Reading the page ---------------------------------------------------------------------------


class Tables(HTMLParser):
    """Every table of a page by its caption id: rows of cell texts (th and td)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.lists: dict[str, list[tuple[str, str]]] = {}
        self._rows: list[list[str]] | None = None
        self._caption_id = ""
        self._cell: list[str] | None = None
        self._hidden = 0
        self._section = ""
        self._dl: list[tuple[str, str]] | None = None
        self._term = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if self._hidden or "govuk-visually-hidden" in (attr.get("class") or ""):
            self._hidden += 1
        if tag == "section" and attr.get("id", "").startswith("chart-"):
            self._section = attr["id"]
        if tag == "table":
            self._rows = []
        elif tag == "caption":
            self._caption_id = attr.get("id") or ""
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in ("td", "th") and self._rows is not None:
            self._cell = []
        elif tag == "dl":
            self._dl = []
        elif tag in ("dt", "dd") and self._dl is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._rows is not None and self._cell is not None:
            self._rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag in ("dt", "dd") and self._dl is not None and self._cell is not None:
            text = " ".join("".join(self._cell).split())
            if tag == "dt":
                self._term = text
            else:
                self._dl.append((self._term, text))
            self._cell = None
        elif tag == "table" and self._rows is not None:
            self.tables[self._caption_id.removesuffix("-caption")] = self._rows
            self._rows = None
        elif tag == "dl" and self._dl is not None:
            self.lists[self._section] = self._dl
            self._dl = None
        if self._hidden:
            self._hidden -= 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass

    def handle_data(self, data: str) -> None:
        if self._cell is not None and not self._hidden:
            self._cell.append(data)


def page_tables(body: str) -> Tables:
    parser = Tables()
    parser.feed(body)
    return parser


def as_csv_text(text: str) -> str:
    """A table cell's text as the CSV writes it: no £, %, separators; ISO dates."""
    if text == "–":
        return ""
    for pattern, fmt, out in (
        (r"^\d{1,2} [A-Z][a-z]{2} \d{4}$", "%d %b %Y", "%Y-%m-%d"),
        (r"^[A-Z][a-z]{2} \d{4}$", "%b %Y", "%Y-%m"),
    ):
        if re.match(pattern, text):
            return datetime.strptime(text, fmt).strftime(out)
    if re.fullmatch(r"£?-?[\d,]+(\.\d+)?%?", text):
        return text.replace("£", "").replace(",", "").replace("%", "")
    return text


def read_csv(response: Any) -> list[list[str]]:
    text = (
        b"".join(response.streaming_content).decode()
        if response.streaming
        else (response.content.decode())
    )
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


# --- Permissions -------------------------------------------------------------------------------


@pytest.mark.parametrize("section", list(SECTIONS))
def test_staff_may_not_see_dashboards_or_csvs(dataset: Any, section: str) -> None:
    client = client_as()
    assert client.get(url(section)).status_code == 403
    chart = "headlines" if section == "overview" else "x"
    assert client.get(csv_url(section, chart)).status_code == 403


@pytest.mark.parametrize("role", [Role.MANAGER, Role.CI_TEAM, Role.ADMIN])
def test_managers_ci_and_admins_see_every_section_and_csv(dataset: Any, role: Role) -> None:
    client = client_as(role)
    for section in SECTIONS:
        response = client.get(url(section))
        assert response.status_code == 200, section
        assert "Download the figures as CSV" in response.content.decode()
    response = client.get(csv_url("value", "estimated-realised"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "synergy-value-estimated-realised-2026-06-15.csv" in response["Content-Disposition"]


def test_journey_owners_are_staff_here(dataset: Any) -> None:
    assert client_as(Role.JOURNEY_OWNER).get(url()).status_code == 403


def test_signed_out_people_are_sent_to_sign_in(dataset: Any) -> None:
    response = Client().get(url("flow"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_only_dashboard_roles_see_the_navigation_link(dataset: Any) -> None:
    assert 'href="/dashboards/"' in client_as(Role.MANAGER).get("/").content.decode()
    assert 'href="/dashboards/"' not in client_as().get("/").content.decode()


def test_unknown_sections_and_figures_are_not_found(dataset: Any) -> None:
    client = client_as(Role.MANAGER)
    assert client.get("/dashboards/nothing/").status_code == 404
    assert client.get(csv_url("flow", "nothing")).status_code == 404


# --- CSV equals the table ------------------------------------------------------------------------


@pytest.mark.parametrize("section", list(SECTIONS))
def test_every_csv_holds_exactly_the_numbers_of_its_table(dataset: Any, section: str) -> None:
    client = client_as(Role.MANAGER)
    body = client.get(url(section)).content.decode()
    tables = page_tables(body)
    charts = re.findall(rf'href="/dashboards/{section}/([a-z-]+)\.csv\?', body)
    assert charts, section
    for chart in charts:
        rows = read_csv(client.get(csv_url(section, chart)))
        dom = f"chart-{chart}"
        if dom in tables.lists:  # headline figures: a list of label and value
            shown = tables.lists[dom]
            assert rows[0] == [label for label, _ in shown]
            assert rows[1] == [as_csv_text(value) for _, value in shown]
        elif section == "pain" and chart == "journey-steps":
            heat = tables.tables[dom]
            cells = set()
            for row in heat[1:]:
                for cell in row[1:]:
                    if cell and cell != "None":
                        match = re.fullmatch(r"(.+) (£[\d,]+) ([\d,]+) open Band \d", cell)
                        assert match, cell
                        step, impact, count = match.groups()
                        cells.add((row[0], step, as_csv_text(count), as_csv_text(impact)))
            assert cells == {(r[0], r[2], r[3], r[4]) for r in rows[1:]}
        else:
            shown = tables.tables[dom]
            assert rows[0] == shown[0], chart
            assert rows[1:] == [[as_csv_text(cell) for cell in row] for row in shown[1:]], chart


def test_csv_numbers_are_plain_and_text_cannot_become_a_formula(dataset: Any) -> None:
    FactOpportunity.objects.filter(opportunity_id=9).update(title="=HYPERLINK(evil)")
    client = client_as(Role.MANAGER)
    rows = read_csv(client.get(csv_url("engagement", "most-supported")))
    assert rows[0] == ["Reference", "Title", "State", "Supporters", "Impact (£ a year)"]
    assert rows[1] == ["SO-2025-00009", "'=HYPERLINK(evil)", "In the backlog", "3", "500"]
    assert rows[2] == ["SO-2026-00001", "Opportunity O1", "Submitted", "2", ""]


def test_each_csv_download_is_a_security_event(dataset: Any, caplog: Any) -> None:
    caplog.set_level(logging.INFO, logger="synergy.security")
    client = client_as(Role.CI_TEAM)

    client.get(csv_url("pipeline", "funnel", f"{QUERY}&department={RESPONSE}"))

    [event] = [r for r in caplog.records if r.name == "synergy.security"]
    assert event.event == "export.csv"
    assert event.fields["chart"] == "pipeline/funnel"
    assert event.fields["batch_id"] == str(BATCH)
    assert (
        event.fields["filters"]
        == f"period=custom&from=2026-01-01&to=2026-06-15&department={RESPONSE}"
    )
    assert event.fields["rows"] == 7
    assert event.fields["outcome"] == "ok"


def test_a_refused_csv_is_logged_as_denied(dataset: Any, caplog: Any) -> None:
    caplog.set_level(logging.INFO, logger="synergy.security")
    client_as().get(csv_url("pipeline", "funnel"))
    events = [r for r in caplog.records if r.name == "synergy.security"]
    assert [e.event for e in events] == ["permission.denied"]


# --- Page, caption, filters, htmx --------------------------------------------------------------


def test_caption_names_the_batch_and_the_refresh_interval(dataset: Any, settings: Any) -> None:
    settings.REPORTING_REFRESH_MINUTES = 30
    body = client_as(Role.MANAGER).get(url("value")).content.decode()
    assert "Figures as of" in body
    assert 'datetime="2026-06-15T07:00:00+01:00"' in body  # 06:00 UTC, shown in UK time
    assert str(BATCH)[:8] in body
    assert "full rebuild" in body
    assert "figures may be up to 30 minutes old" in body
    # The dataset's batch finished in June 2026: long before now.
    assert "These figures are older than expected" in body


def test_the_refresh_interval_follows_the_beat_schedule(dataset: Any, settings: Any) -> None:
    settings.CELERY_BEAT_SCHEDULE = {"ddi-extract-refresh": {"schedule": 600.0}}
    body = client_as(Role.MANAGER).get(url("value")).content.decode()
    assert "refreshed every 10 minutes, so figures may be up to 10 minutes old" in body


def test_a_fresh_batch_has_no_staleness_warning(dataset: Any) -> None:
    from django.utils import timezone

    from reporting.models import EtlBatch

    EtlBatch.objects.filter(pk=BATCH).update(finished_at=timezone.now())
    body = client_as(Role.MANAGER).get(url("value")).content.decode()
    assert "These figures are older than expected" not in body


def test_every_figure_says_how_it_is_calculated(dataset: Any) -> None:
    client = client_as(Role.MANAGER)
    for section in SECTIONS:
        body = client.get(url(section)).content.decode()
        figures = body.count('class="app-dash-figure ')
        assert figures == body.count("How this is calculated<"), section
        assert figures == body.count("Filters applied:"), section
        assert figures == body.count("app-dash-figure__summary"), section


def test_charts_draw_from_a_json_island_not_inline_code(dataset: Any) -> None:
    body = client_as(Role.MANAGER).get(url("flow")).content.decode()
    islands = re.findall(r'<script id="(chart-[a-z-]+-data)" type="application/json">', body)
    assert "chart-throughput-data" in islands
    assert len(islands) == body.count("data-chart=")
    scripts = re.findall(r"<script(?![^>]*application/json)[^>]*>(.*?)</script>", body, re.S)
    assert all(not code.strip() for code in scripts)
    assert "style=" not in body


def test_filters_stay_in_the_links(dataset: Any) -> None:
    query = f"{QUERY}&department={RESPONSE}"
    body = client_as(Role.MANAGER).get(url("pipeline", query)).content.decode()
    assert f'href="/dashboards/flow/?{query.replace("&", "&amp;")}"' in body
    assert f'href="/dashboards/pipeline/funnel.csv?{query.replace("&", "&amp;")}"' in body
    assert "<strong>Showing:</strong> 1 Jan 2026 to 15 Jun 2026, Response" in body
    assert re.search(r'<option value="1" selected>Response</option>', body)


def test_htmx_gets_the_figures_region_only(dataset: Any) -> None:
    response = client_as(Role.MANAGER).get(url("pipeline", f"{QUERY}&journey=2"), **HTMX)
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="dashboard-body"')
    assert "<html" not in body and 'id="dashboard-filters"' not in body
    assert "Custody booking" in body


def test_bad_filters_are_reported_and_the_defaults_used(dataset: Any) -> None:
    body = (
        client_as(Role.MANAGER)
        .get(url("overview", "period=custom&from=2026-06-01&to=2026-01-01&department=999"))
        .content.decode()
    )
    assert "Some filters could not be used" in body
    assert "The start date must be on or before the end date" in body
    assert "Select a valid choice" in body
    # The default period (the 12 months to the batch's day) and every department.
    assert "<strong>Showing:</strong> 16 Jun 2025 to 15 Jun 2026, every department" in body


def test_dates_alone_choose_a_custom_period(dataset: Any) -> None:
    body = client_as(Role.MANAGER).get(url("overview", "from=2026-04-01")).content.decode()
    assert "<strong>Showing:</strong> since 1 Apr 2026" in body


def test_no_batch_yet_says_so(settings: Any) -> None:
    body = client_as(Role.MANAGER).get(url()).content.decode()
    assert "There are no figures yet" in body


# --- Query counts and caching ------------------------------------------------------------------


def _more_data(start: int, count: int) -> None:
    """``count`` more opportunities, each with a status change and a support."""
    template = FactOpportunity.objects.get(opportunity_id=3)
    for n in range(start, start + count):
        template.opportunity_id = n
        template.reference = f"SO-2026-{n:05d}"
        template.save(force_insert=True)
        FactStatusChange.objects.create(
            status_change_id=10_000 + n,
            opportunity_id=n,
            to_status_key=2,
            changed_at=at(datetime(2026, 4, 1).date()),
            date_key=20260401,
            batch_id=BATCH,
        )
        FactSupport.objects.create(
            support_id=10_000 + n,
            opportunity_id=n,
            person_key=template.submitter_person_key,
            supported_at=at(datetime(2026, 4, 2).date()),
            date_key=20260402,
            batch_id=BATCH,
        )


def _queries(client: Client, path: str) -> tuple[int, int]:
    with (
        CaptureQueriesContext(connections["default"]) as portal,
        CaptureQueriesContext(connections["reporting"]) as ddi,
    ):
        assert client.get(path).status_code == 200
    return len(portal), len(ddi)


@pytest.mark.parametrize("section", list(SECTIONS))
def test_query_count_does_not_grow_with_the_data(
    dataset: Any, section: str, django_assert_max_num_queries: Any
) -> None:
    client = client_as(Role.MANAGER)
    client.get(url(section))  # warm the session and URL resolvers
    before = _queries(client, url(section))
    _more_data(100, 40)
    after = _queries(client, url(section))

    assert after == before
    # Reporting: snapshot set-up (2), batch, filter choices, the section's one statement.
    assert before[1] <= 5
    for path in (url(section), csv_url(section, SECTIONS_FIRST_CHART[section])):
        with (
            django_assert_max_num_queries(8, connection=connections["default"]),
            django_assert_max_num_queries(5, connection=connections["reporting"]),
        ):
            assert client.get(path).status_code == 200


SECTIONS_FIRST_CHART = {
    "overview": "headlines",
    "pipeline": "by-state",
    "flow": "throughput",
    "value": "estimated-realised",
    "pain": "journey-steps",
    "engagement": "people",
}


def test_figures_are_cached_per_batch(dataset: Any, settings: Any) -> None:
    settings.DASHBOARD_CACHE_SECONDS = 60
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    from django.core.cache import cache

    cache.clear()
    client = client_as(Role.MANAGER)
    first = _queries(client, url("pipeline"))
    second = _queries(client, url("pipeline"))
    # Cached: the filter choices and the section's statement are not run again.
    assert second[1] == first[1] - 2
    bodies = [client.get(url("pipeline"), **HTMX).content for _ in range(2)]
    assert bodies[0] == bodies[1]


def test_warming_fills_the_cache_for_the_usual_views(dataset: Any, settings: Any) -> None:
    settings.DASHBOARD_CACHE_SECONDS = 60
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    from django.core.cache import cache

    from reporting.dashboards.selectors.base import batch_latest, reporting_snapshot
    from reporting.dashboards.tasks import dashboards_warm_task

    cache.clear()
    assert dashboards_warm_task.apply().get() == 2 * len(SECTIONS)
    # The task built the dashboards' aggregates for the batch first.
    with reporting_snapshot() as cursor:
        assert batch_latest(cursor).aggregated is not None
    client = client_as(Role.MANAGER)
    for section in SECTIONS:
        portal, ddi = _queries(client, url(section, ""))
        # Only the snapshot set-up and the latest batch: the figures come from the cache.
        assert ddi == 2, section
    assert _queries(client, url("flow", "period=fq"))[1] == 2


def test_a_new_batch_is_never_served_stale_figures(dataset: Any, settings: Any) -> None:
    import uuid
    from datetime import UTC
    from datetime import datetime as dt

    from reporting.models import SCHEMA_VERSION, EtlBatch

    settings.DASHBOARD_CACHE_SECONDS = 60
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    client = client_as(Role.MANAGER)
    assert "Of 9 opportunities submitted" in client.get(url("pipeline")).content.decode()

    FactOpportunity.objects.filter(opportunity_id=1).delete()
    EtlBatch.objects.create(
        batch_id=uuid.uuid4(),
        kind=EtlBatch.Kind.REFRESH,
        state=EtlBatch.State.SUCCEEDED,
        as_of=datetime(2026, 6, 15).date(),
        schema_version=SCHEMA_VERSION,
        started_at=dt(2026, 6, 15, 6, 14, tzinfo=UTC),
        finished_at=dt(2026, 6, 15, 6, 15, tzinfo=UTC),
    )

    body = client.get(url("pipeline")).content.decode()
    assert "Of 8 opportunities submitted" in body
    assert "dashboard refresh" in body


# --- The calibration factor beside a score -----------------------------------------------------


def test_the_calibration_factor_is_shown_beside_a_score_and_not_applied(dataset: Any) -> None:
    from opportunities.models import Opportunity, Status
    from tests.opportunities.factories import OpportunityFactory
    from tests.opportunities.test_board import score

    opp = OpportunityFactory(status=Status.ASSESSING, journey=None)
    score(opp)  # £300 a year of time, priority £150
    client = client_as(Role.CI_TEAM)
    for path in (f"/opportunities/{opp.reference}/", f"/opportunities/{opp.reference}/score/"):
        body = client.get(path).content.decode()
        # The force-wide factor (13/14 from two delivered opportunities), with its reading.
        assert "across the force" in body and "0.93 ×" in body, path
        assert "would realise about £279 a year" in body, path
        assert "it is not applied to it" in body, path
    assert Opportunity.objects.get(pk=opp.pk).current_priority == 150


def test_a_score_reads_fine_without_a_calibration_factor(settings: Any) -> None:
    from opportunities.models import Status
    from tests.opportunities.factories import OpportunityFactory
    from tests.opportunities.test_board import score

    settings.DASHBOARD_CACHE_SECONDS = 0
    opp = OpportunityFactory(status=Status.ASSESSING)
    score(opp)
    body = client_as(Role.CI_TEAM).get(f"/opportunities/{opp.reference}/").content.decode()
    assert "No calibration factor yet" in body


@pytest.fixture
def reporting_down() -> Any:
    """The reporting alias pointed at a port nothing listens on: a real refused connection."""
    connection = connections["reporting"]
    connection.close()
    saved = dict(connection.settings_dict)
    connection.settings_dict.update(HOST="127.0.0.1", PORT="9")
    yield
    connection.close()
    connection.settings_dict.clear()
    connection.settings_dict.update(saved)


@pytest.mark.django_db(transaction=True, databases=["default", "reporting"])
def test_the_portal_keeps_working_when_the_reporting_database_is_down(
    reporting_down: Any,
) -> None:
    from opportunities.models import Status
    from tests.opportunities.factories import OpportunityFactory
    from tests.opportunities.test_board import score

    opp = OpportunityFactory(status=Status.ASSESSING)
    score(opp)
    client = client_as(Role.CI_TEAM, Role.MANAGER)
    page = client.get(f"/opportunities/{opp.reference}/")
    assert page.status_code == 200 and "Why this score" in page.content.decode()
    dashboard = client.get(url("overview", ""))
    assert dashboard.status_code == 503
    assert "cannot be read just now" in dashboard.content.decode()
    download = client.get(csv_url("pipeline", "by-state", ""))
    assert download.status_code == 503 and b"cannot be read just now" in download.content
    for path in ("/", "/board/", "/opportunities/", "/me/"):
        assert client.get(path).status_code == 200, path
    # Admins see why the extract history is empty; DDI's API answers in JSON.
    admin = client_as(Role.ADMIN)
    history = admin.get("/reporting/extracts/")
    assert history.status_code == 503 and "cannot be reached" in history.content.decode()
    ddi = client_as(Role.DDI_SERVICE).get("/api/v1/extracts/")
    assert ddi.status_code == 503 and ddi.json()["code"] == "unavailable"
