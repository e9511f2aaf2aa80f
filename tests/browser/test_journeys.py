"""Journeys in a real browser: reorder steps by keyboard and see the map follow, drag and
drop, the step list on the map, the score form's live preview; axe and screenshots."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Browser, Page, expect

from journeys.models import Application
from opportunities import scoring
from opportunities.models import ScoringModel
from opportunities.services.scoring import opportunity_score
from synergy_portal.models import User
from synergy_portal.services import demo_users_ensure
from tests.journeys.factories import (
    ApplicationFactory,
    JourneyFactory,
    JourneyRoleFactory,
    JourneyStepFactory,
)
from tests.opportunities.factories import OpportunityFactory

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
STEPS = ["Arrive at custody", "Search the person", "Book in on CustodyPoint", "Risk assessment"]
JUDGEMENT = {"severity": 3, "risk_class": "operational", "effort_days": 2, "confidence": "medium"}


@pytest.fixture(scope="session", autouse=True)
def static_up_to_date() -> None:
    """The live server serves STATIC_ROOT (through WhiteNoise), which may hold older copies of
    this work's CSS and JavaScript: copy every file that differs. (The same need as
    test_submission.py's fixture; both belong in conftest.py.)"""
    from django.conf import settings
    from django.contrib.staticfiles import finders

    call_command("collectstatic", interactive=False, verbosity=0)
    root = Path(settings.STATIC_ROOT)
    for finder in finders.get_finders():
        for path, storage in finder.list(["src", "*.sh", "*.scss", "VERSIONS"]):
            source, target = Path(storage.path(path)), root / path
            if not target.exists() or target.read_bytes() != source.read_bytes():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)


@pytest.fixture
def custody() -> dict:  # type: ignore[type-arg]
    demo_users_ensure()
    ScoringModel.objects.create(
        version=1,
        name="Journey impact (default)",
        weights=scoring.DEFAULT_WEIGHTS,
        parameters=scoring.DEFAULT_PARAMETERS,
        is_active=True,
    )
    owner, ci = User.objects.get(username="owner"), User.objects.get(username="ci")
    journey = JourneyFactory(
        name="Custody booking-in",
        slug="custody-booking-in",
        owner=owner,
        description="From arrival at the custody suite to the detained person being in a cell.",
    )
    JourneyRoleFactory(journey=journey, role__name="Custody Sergeant", role__headcount=700)
    JourneyRoleFactory(journey=journey, role__name="Detention Officer", role__headcount=900)
    point = ApplicationFactory(name="CustodyPoint")
    sheet = ApplicationFactory(name="Risk Spreadsheet", lifecycle=Application.Lifecycle.SUNSET)
    steps = [
        JourneyStepFactory(journey=journey, position=i, name=name, typical_minutes=10 * i)
        for i, name in enumerate(STEPS, start=1)
    ]
    for step in steps:
        step.applications.add(point)
    steps[3].applications.add(sheet)
    titles = [
        (steps[2], "Typing the same details three times", 400),
        (steps[2], "CustodyPoint logs out mid-booking", 150),
        (steps[0], "Queue at the van dock", 40),
        (steps[3], "Risk form is a spreadsheet on a share", 80),
    ]
    opps = []
    for step, title, people in titles:
        opp = OpportunityFactory(journey=journey, step=step, title=title, people_affected=people)
        opp.applications.add(point)
        opportunity_score(actor=ci, opportunity_id=opp.pk, values=JUDGEMENT)
        opps.append(opp)
    unscored = OpportunityFactory(journey=journey, step=steps[1], title="Search room too small")
    return {"journey": journey, "steps": steps, "opps": opps, "unscored": unscored}


def _map_names(page: Page) -> list[str]:
    return [name.strip() for name in page.locator(".app-journey-map__name").all_inner_texts()]


def test_reorder_steps_by_keyboard_and_the_map_follows(
    page: Page, live_server, custody, sign_in, console, assert_accessible, screenshots
) -> None:
    page.set_viewport_size(DESKTOP)
    sign_in("owner")
    page.goto(f"{live_server.url}/journeys/custody-booking-in/")
    expect(page.locator(".app-journey-map__name")).to_have_text(STEPS)
    page.get_by_role("link", name="Edit steps").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit steps")
    assert_accessible(page)
    screenshots("journey step editor")

    # Keyboard only: focus "Down" on the first step and press Enter twice.
    down = page.get_by_role("button", name=re.compile(r"^Down\W+move “Arrive at custody” down$"))
    down.focus()
    page.keyboard.press("Enter")
    status = page.locator("#step-editor-status")
    expect(status).to_have_text("Moved “Arrive at custody” to position 2 of 4.")
    expect(down).to_be_focused()  # focus stays on the control, in the swapped-in editor
    page.keyboard.press("Enter")
    expect(status).to_have_text("Moved “Arrive at custody” to position 3 of 4.")
    # And "Up" on the last step, reached with Tab from its step.
    page.get_by_role("button", name=re.compile(r"^Up\W+move “Risk assessment” up$")).focus()
    page.keyboard.press("Enter")
    expect(status).to_have_text("Moved “Risk assessment” to position 3 of 4.")
    expected = [
        "Search the person",
        "Book in on CustodyPoint",
        "Risk assessment",
        "Arrive at custody",
    ]
    expect(page.locator(".app-step-editor__name")).to_have_text(expected)
    assert_accessible(page)

    page.get_by_role("link", name="Back to the map of Custody booking-in").click()
    expect(page.locator(".app-journey-map__name")).to_have_text(expected)
    expect(page.locator(".app-journey-map__number").first).to_have_text("Step 1")


def test_move_buttons_work_without_javascript(browser: Browser, live_server, custody) -> None:
    context = browser.new_context(java_script_enabled=False, viewport=DESKTOP)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator('input[name="username"][value="ci"]').check()
    page.get_by_role("button", name="Sign in as demo user").click()
    page.goto(f"{live_server.url}/journeys/custody-booking-in/edit/")
    page.get_by_role("button", name=re.compile(r"^Up\W+move “Book in on CustodyPoint” up$")).click()
    expect(page).to_have_url(re.compile(r"/edit/#step-\d+$"))
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Moved “Book in on CustodyPoint” to position 2 of 4."
    )
    expect(page.locator(".app-step-editor__name")).to_have_text(
        ["Arrive at custody", "Book in on CustodyPoint", "Search the person", "Risk assessment"]
    )
    context.close()


def test_drag_a_step_by_its_handle(page: Page, live_server, custody, sign_in, console) -> None:
    page.set_viewport_size({"width": 1366, "height": 1600})  # the whole list in view
    sign_in("ci")
    page.goto(f"{live_server.url}/journeys/custody-booking-in/edit/")
    items = page.locator(".app-step-editor__list[data-sortable-steps] > li")
    handle = items.nth(3).locator(".app-step-editor__handle")
    expect(handle).to_be_visible()
    box, target = handle.bounding_box(), items.nth(0).bounding_box()
    assert box and target
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + 10, target["y"] + 20, steps=15)
    page.mouse.move(box["x"] + 10, target["y"] + 5, steps=5)
    page.mouse.up()
    expect(page.locator("#step-editor-status")).to_contain_text(
        "Saved the new order: 1. Risk assessment"
    )
    expect(page.locator(".app-step-editor__name").first).to_have_text("Risk assessment")


def test_map_lists_a_steps_opportunities_in_place(
    page: Page,
    live_server,
    custody,
    sign_in,
    console,
    assert_accessible,
    assert_no_horizontal_scroll,
    screenshots,
) -> None:
    page.set_viewport_size(DESKTOP)
    sign_in("staff")
    page.goto(f"{live_server.url}/journeys/custody-booking-in/")
    worst = page.locator(".app-journey-map__step").nth(2)
    expect(worst.locator(".app-heat")).to_have_class(re.compile(r"app-heat--5"))
    expect(worst).to_contain_text("Worst step")
    expect(worst).to_contain_text("2 open")
    expect(page.locator(".app-journey-map__step").nth(1)).to_contain_text("1 not yet scored")
    assert_accessible(page)
    page.set_viewport_size(PHONE)
    assert_no_horizontal_scroll(page)
    screenshots("journey map")

    page.set_viewport_size(DESKTOP)
    page.locator(".app-journey-map").get_by_role("link", name="Book in on CustodyPoint").click()
    region = page.locator("#step-opportunities")
    expect(region.get_by_role("heading")).to_have_text(
        "Open opportunities at “Book in on CustodyPoint”"
    )
    expect(region.locator("tbody tr")).to_have_count(2)
    expect(region).to_contain_text("Typing the same details three times")
    expect(region).to_be_focused()
    expect(page).to_have_url(re.compile(r"\?step=\d+$"))
    expect(worst).to_have_class(re.compile(r"app-journey-map__step--selected"))
    assert_accessible(page)
    screenshots("journey map with a step open")


@pytest.mark.parametrize(
    ("username", "path", "heading"),
    [
        ("staff", "/journeys/", "Journeys"),
        ("staff", "/applications/", "Applications"),
        ("admin", "/scoring-models/", "Scoring models"),
        ("admin", "/scoring-models/new/", "New scoring model version"),
    ],
)
def test_pages_are_accessible_and_fit_a_phone(
    page: Page,
    live_server,
    custody,
    sign_in,
    console,
    assert_accessible,
    assert_no_horizontal_scroll,
    screenshots,
    username,
    path,
    heading,
) -> None:
    page.set_viewport_size(DESKTOP)
    sign_in(username)
    page.goto(live_server.url + path)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    assert_accessible(page)
    page.set_viewport_size(PHONE)
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    screenshots(f"{heading} page")


def test_portfolio_ranks_by_impact_and_lists_decommission_candidates(
    page: Page, live_server, custody, sign_in, console
) -> None:
    page.set_viewport_size(DESKTOP)
    sign_in("manager")
    page.goto(f"{live_server.url}/applications/")
    first = page.locator(".app-portfolio tbody tr").first
    expect(first.locator("th")).to_contain_text("CustodyPoint")
    expect(page.locator(".app-card--warning")).to_contain_text("Risk Spreadsheet")
    page.get_by_role("link", name="Debt rating").click()
    expect(page).to_have_url(re.compile(r"\?sort=debt$"))
    expect(page.locator("th[aria-sort]")).to_contain_text("Debt rating")
