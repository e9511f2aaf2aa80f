"""The home page, signing in with a demo user and signing out, in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from synergy_portal.models import User
from synergy_portal.services import demo_users_ensure
from synergy_portal.views.accounts import DEV_LOGIN_UNKNOWN_USER
from tests.journeys.factories import JourneyFactory
from tests.opportunities.factories import OpportunityFactory

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


@pytest.fixture(autouse=True)
def demo_users() -> None:
    demo_users_ensure()


def test_sign_in_as_staff_and_out_again(
    page: Page,
    live_server,
    console,
    assert_accessible,
    assert_no_horizontal_scroll,
    screenshots,
) -> None:
    OpportunityFactory(
        submitter=User.objects.get(username="staff"),
        title="Booking a detained person into custody means typing the same details three times",
        journey=JourneyFactory(name="Custody intake"),
    )
    OpportunityFactory(title="Body-worn video uploads fail on station Wi-Fi")
    page.set_viewport_size(DESKTOP)
    page.goto(live_server.url + "/")
    expect(page).to_have_title(re.compile(r"Synergy Portal$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Make the technology fit the job")
    expect(page.locator("body")).to_have_class(re.compile(r"\bgovuk-frontend-supported\b"))
    assert_accessible(page)
    page.set_viewport_size(PHONE)
    assert_no_horizontal_scroll(page)
    screenshots("home signed out")

    page.get_by_role("banner").get_by_role("link", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.get_by_role("radio")).to_have_count(5)
    assert_accessible(page)
    page.set_viewport_size(PHONE)
    assert_no_horizontal_scroll(page)
    screenshots("sign in")

    page.get_by_role("radio", name=re.compile(r"^Sam Staff \(Staff\)")).check()
    page.get_by_role("button", name="Sign in as demo user").click()

    expect(page).to_have_url(live_server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Sam")
    expect(page.get_by_role("banner")).to_contain_text("Signed in as Sam Staff")
    expect(
        page.get_by_role("navigation", name="Menu").get_by_role("link", name="Home")
    ).to_have_attribute("aria-current", "page")
    figures = page.locator(".app-stat")
    expect(figures).to_have_text(["2 open opportunities", "0 delivered", "1 raised by you"])
    recent = page.locator(".app-card")
    expect(recent).to_have_count(2)
    expect(recent.filter(has_text="Custody intake")).to_contain_text("Submitted")
    assert_accessible(page)
    page.set_viewport_size(PHONE)
    assert_no_horizontal_scroll(page)
    screenshots("home signed in")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Make the technology fit the job")
    expect(page.get_by_role("banner").get_by_role("link", name="Sign in")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def test_demo_sign_in_without_a_user_shows_the_error_summary(
    page: Page, live_server, console, assert_accessible, screenshots
) -> None:
    page.set_viewport_size(DESKTOP)
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_role("button", name="Sign in as demo user").click()

    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("There is a problem")
    expect(summary.get_by_role("link", name=DEV_LOGIN_UNKNOWN_USER)).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Error: "))
    # GOV.UK Frontend moves focus to the summary so a screen reader announces it.
    expect(summary).to_be_focused()
    expect(page.locator("#username-error")).to_contain_text(DEV_LOGIN_UNKNOWN_USER)
    assert_accessible(page)
    screenshots("sign in error")

    summary.get_by_role("link", name=DEV_LOGIN_UNKNOWN_USER).click()
    expect(page.locator("#username")).to_be_focused()


def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(
    page: Page, live_server, console
) -> None:
    page.goto(live_server.url + "/")
    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Skip to main content")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("main#main-content")).to_be_focused()


def test_unknown_page_shows_the_portal_404(
    page: Page, live_server, console, assert_accessible, assert_no_horizontal_scroll, screenshots
) -> None:
    response = page.goto(live_server.url + "/no-such-page/")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.get_by_role("link", name="Go to the Synergy Portal home page")).to_be_visible()
    assert_accessible(page)
    page.set_viewport_size(PHONE)
    assert_no_horizontal_scroll(page)
    screenshots("not found")


def test_menu_folds_behind_a_button_on_a_phone(
    page: Page, live_server, console, sign_in, assert_accessible
) -> None:
    page.set_viewport_size(PHONE)
    sign_in("admin")
    menu = page.get_by_role("button", name="Menu")
    admin_link = page.get_by_role("navigation", name="Menu").get_by_role("link", name="Admin")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(admin_link).to_be_hidden()

    menu.click()

    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(admin_link).to_be_visible()
    assert_accessible(page)
