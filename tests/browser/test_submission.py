"""Submitting an opportunity in a real browser: phone and desktop, similar suggestions and
"support instead", drafts saved and resumed (also after a session time-out), the confirmation,
and the pages around it. axe checks every page of the flow; the desktop journey uses the
keyboard alone."""

from __future__ import annotations

import importlib
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from journeys.models import DnaTheme
from opportunities.models import Opportunity, Status, Support
from synergy_portal.models import User
from synergy_portal.services import demo_users_ensure
from tests.browser.conftest import DESKTOP, PHONE
from tests.journeys.factories import ApplicationFactory, JourneyFactory, JourneyStepFactory
from tests.opportunities.factories import OpportunityFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="session", autouse=True)
def collected_static() -> None:
    """The live server serves STATIC_ROOT (the staticfiles app is installed under its own
    config name, so pytest-django does not serve from the finders): bring it up to date.

    collectstatic skips files by modification time, which a CSS rebuild finishing within the
    same second as an earlier copy defeats, so files that differ are copied again here.
    """
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


@pytest.fixture(autouse=True)
def reference_data(settings: Any) -> Iterator[None]:
    settings.RATELIMIT_ENABLE = False
    demo_users_ensure()
    themes = importlib.import_module("journeys.migrations.0003_dna_themes").DNA_THEMES
    for position, (code, name, hint) in enumerate(themes, start=1):
        DnaTheme.objects.update_or_create(
            code=code, defaults={"name": name, "hint": hint, "position": position}
        )
    custody = JourneyFactory(name="Custody intake")
    for position, name in enumerate(
        ["Book in the detained person", "Search", "Risk assessment"], 1
    ):
        JourneyStepFactory(journey=custody, position=position, name=name)
    missing = JourneyFactory(name="Missing person report")
    JourneyStepFactory(journey=missing, position=1, name="Take the report")
    for name in ["CustodyPoint", "Sentinel RMS", "Pocketbook Mobile", "LensVault BWV"]:
        ApplicationFactory(name=name)
    yield


def staff() -> User:
    return User.objects.get(username="staff")


def fill_idea(page: Page, title: str, problem: str) -> None:
    page.get_by_label("Short title").fill(title)
    page.get_by_label("What gets in your way?").fill(problem)


def test_a_new_user_submits_on_a_phone(
    page: Page,
    live_server,
    sign_in,
    console,
    assert_accessible,
    assert_no_horizontal_scroll,
    screenshots,
) -> None:
    page.set_viewport_size(PHONE)
    sign_in("staff")
    page.goto(live_server.url + "/opportunities/new/")

    expect(page.get_by_text("Step 1 of 5")).to_be_visible()
    expect(page.get_by_role("button", name="Submit", exact=True)).to_be_hidden()
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    fill_idea(
        page,
        "Custody booking asks for the same details three times",
        "Every detained person is typed into three systems.",
    )
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Where it happens")).to_be_focused()
    expect(page.get_by_label("Short title")).to_be_hidden()
    page.get_by_label("Which user journey?").select_option(label="Custody intake")
    expect(page.locator("#step option")).to_have_count(4)  # "Not sure" and the three steps
    page.get_by_label("Which step of the journey?").select_option(
        label="1. Book in the detained person"
    )
    page.get_by_label("Search the list").fill("custody")
    expect(page.get_by_label("CustodyPoint")).to_be_visible()
    expect(page.get_by_label("Sentinel RMS")).to_be_hidden()
    page.get_by_label("CustodyPoint").check()
    expect(page.get_by_text("Selected: CustodyPoint")).to_be_visible()
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    page.get_by_role("button", name="Continue").click()

    page.get_by_label("A station, unit or small department (50 to 249)").check()
    page.get_by_label("A few times every working day").check()
    page.get_by_label("About 5 minutes").check()
    assert_accessible(page)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Data First").check()
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_text("Step 5 of 5")).to_be_visible()
    expect(page.get_by_label("OFFICIAL", exact=True)).to_be_checked()
    assert_accessible(page)
    screenshots("submission form last step")
    page.set_viewport_size(PHONE)
    page.get_by_role("button", name="Submit", exact=True).click()

    expect(page.get_by_role("heading", name="Opportunity submitted")).to_be_visible()
    opp = Opportunity.objects.get(submitter=staff())
    expect(page.locator(".govuk-panel__body")).to_contain_text(opp.reference)
    expect(page.get_by_text("What happens next")).to_be_visible()
    assert opp.status == Status.SUBMITTED
    assert opp.journey.name == "Custody intake"
    assert [a.name for a in opp.applications.all()] == ["CustodyPoint"]
    assert opp.people_affected == 100 and float(opp.frequency_per_week) == 15.0
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    screenshots("submission confirmation")

    page.set_viewport_size(PHONE)
    page.get_by_role("button", name="View your opportunity").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Custody booking asks for the same details three times"
    )
    expect(page.get_by_text("Custody intake, step 1: Book in the detained person")).to_be_visible()
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    screenshots("opportunity page")


def test_desktop_keyboard_only_with_errors_then_success(
    page: Page, live_server, sign_in, console, assert_accessible
) -> None:
    page.set_viewport_size(DESKTOP)
    sign_in("staff")
    page.goto(live_server.url + "/opportunities/new/")
    expect(page.get_by_text("Step 1 of 5")).to_be_hidden()  # one page on a desktop

    # Keyboard only: Tab from the page's start reaches the skip link, then the form.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.keyboard.press("Enter")
    page.get_by_label("Short title").focus()
    page.keyboard.type("Rota <b>not</b> visible on phones")
    page.keyboard.press("Tab")
    expect(page.get_by_label("What gets in your way?")).to_be_focused()
    # Enter in a text box submits: the server answers with every error and keeps the text.
    page.get_by_label("Short title").focus()
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(page.locator(".govuk-error-summary")).to_be_focused()
    expect(page.get_by_label("Short title")).to_have_value("Rota <b>not</b> visible on phones")
    expect(page.locator(".govuk-error-summary__list a")).to_have_text(
        [
            "Describe what gets in your way",
            "Select how many people it affects",
            "Select how often it happens",
            "Select roughly how long it takes each time",
        ]
    )
    assert_accessible(page)
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Describe what gets in your way")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_label("What gets in your way?")).to_be_focused()
    page.keyboard.type("I ring the office to find my shifts.")

    for name in ["A team (10 to 49)", "About once a week", "About 5 minutes"]:
        page.get_by_label(name).focus()
        page.keyboard.press("Space")
        expect(page.get_by_label(name)).to_be_checked()
    page.get_by_label("OFFICIAL-SENSITIVE").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Submit", exact=True).focus()
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Opportunity submitted")).to_be_visible()
    expect(page.get_by_text("only you, the CI team and portal administrators")).to_be_visible()
    opp = Opportunity.objects.get(submitter=staff())
    assert opp.is_restricted
    assert opp.title == "Rota <b>not</b> visible on phones"
    assert_accessible(page)


def test_similar_suggestions_and_support_instead(
    page: Page, live_server, sign_in, console, assert_accessible, screenshots
) -> None:
    existing = OpportunityFactory(
        title="Body-worn video upload times out in the car",
        problem="Uploading body-worn video from the car keeps timing out, so I queue at the station.",
    )
    OpportunityFactory(
        title="Duty rota not visible on phones", problem="I ring the office.", better=""
    )
    page.set_viewport_size(DESKTOP)
    sign_in("staff")
    page.goto(live_server.url + "/opportunities/new/")

    fill_idea(
        page, "Video upload keeps timing out", "Body-worn video will not upload from the car."
    )

    suggestions = page.locator(".app-similar__item")
    expect(suggestions).to_have_count(1)
    expect(suggestions.first).to_contain_text("Body-worn video upload times out in the car")
    expect(suggestions.first.locator(".app-similar__why mark").first).to_be_visible()
    expect(page.locator("#similar-status")).to_have_text(
        "1 similar opportunity found below the description."
    )
    assert_accessible(page)
    screenshots("similar suggestions")

    page.set_viewport_size(DESKTOP)
    suggestions.first.get_by_role("button", name=re.compile("This is my problem too")).click()

    expect(page).to_have_url(f"{live_server.url}/opportunities/{existing.reference}/")
    expect(page.get_by_text(f"You now support {existing.reference}")).to_be_visible()
    expect(page.get_by_text("You support this.")).to_be_visible()
    assert Support.objects.filter(opportunity=existing, user=staff()).exists()
    assert Opportunity.objects.filter(submitter=staff(), status=Status.DRAFT).count() == 1
    assert_accessible(page)


def test_draft_saved_as_you_type_and_resumed_from_my_opportunities(
    page: Page, live_server, sign_in, console, assert_accessible, screenshots
) -> None:
    page.set_viewport_size(DESKTOP)
    sign_in("staff")
    page.goto(live_server.url + "/opportunities/new/")
    fill_idea(page, "Pocketbook Mobile loses notes offline", "")

    expect(page.locator("#autosave-status")).to_contain_text("saved at", timeout=10_000)
    draft = Opportunity.objects.get(submitter=staff())
    expect(page).to_have_url(f"{live_server.url}/opportunities/{draft.reference}/edit/")
    assert draft.title == "Pocketbook Mobile loses notes offline"

    page.goto(live_server.url + "/me/")
    assert_accessible(page)
    screenshots("my opportunities")
    page.set_viewport_size(DESKTOP)
    page.get_by_role("tab", name=re.compile("Drafts")).click()
    page.get_by_role("link", name="Pocketbook Mobile loses notes offline").click()

    expect(page.get_by_label("Short title")).to_have_value("Pocketbook Mobile loses notes offline")
    page.get_by_label("What gets in your way?").fill("Notes typed with no signal vanish.")
    for name in ["Just me", "About once a week", "About 15 minutes"]:
        page.get_by_label(name).check()
    page.get_by_role("button", name="Submit", exact=True).click()

    expect(page.get_by_role("heading", name="Opportunity submitted")).to_be_visible()
    draft.refresh_from_db()
    assert draft.status == Status.SUBMITTED
    assert Opportunity.objects.filter(submitter=staff()).count() == 1


def test_after_a_session_time_out_signing_in_again_returns_to_the_draft(
    page: Page, live_server, sign_in, console
) -> None:
    page.set_viewport_size(DESKTOP)
    sign_in("staff")
    page.goto(live_server.url + "/opportunities/new/")
    page.get_by_label("Short title").fill("CustodyPoint signs me out")
    expect(page.locator("#autosave-status")).to_contain_text("saved at", timeout=10_000)

    # The session ends (idle time-out) while the page stays open; the CSRF cookie remains.
    page.context.clear_cookies(name=re.compile("sessionid"))
    page.get_by_label("What gets in your way?").fill("Typed after the session ran out.")
    expect(page.locator("#autosave-status")).to_contain_text(
        "You have been signed out", timeout=10_000
    )
    page.get_by_role("link", name="Sign in again").click()
    page.locator('input[name="username"][value="staff"]').check()
    page.get_by_role("button", name="Sign in as demo user").click()

    expect(page.get_by_text("What you had typed has been saved in your draft")).to_be_visible()
    expect(page.get_by_label("What gets in your way?")).to_have_value(
        "Typed after the session ran out."
    )
    expect(page.get_by_label("Short title")).to_have_value("CustodyPoint signs me out")


def test_browse_filters_with_htmx_and_shareable_urls(
    page: Page,
    live_server,
    sign_in,
    console,
    assert_accessible,
    assert_no_horizontal_scroll,
    screenshots,
) -> None:
    OpportunityFactory(
        title="Body-worn video upload times out", status=Status.TRIAGE, supporters_count=3
    )
    OpportunityFactory(
        title="Duty rota not visible on phones", problem="I ring the office.", better=""
    )
    page.set_viewport_size(DESKTOP)
    sign_in("staff")
    page.get_by_role("navigation", name="Menu").get_by_role(
        "link", name="Opportunities", exact=True
    ).click()

    expect(page.get_by_role("heading", name="2 opportunities")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("searchbox", name="Search").fill("upload")
    expect(page.get_by_role("heading", name="1 opportunity found")).to_be_visible()
    expect(page).to_have_url(re.compile(r"q=upload"))
    page.get_by_label("Sort by").select_option(label="Most supported")
    expect(page).to_have_url(re.compile(r"sort=supported"))
    assert_accessible(page)
    screenshots("browse")

    page.goto(page.url)  # the shared URL shows the same list
    expect(page.get_by_role("heading", name="1 opportunity found")).to_be_visible()
    page.set_viewport_size(PHONE)
    assert_no_horizontal_scroll(page)
