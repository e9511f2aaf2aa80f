"""The MI dashboards in a real browser: every section drawn from its data islands under the
strict CSP, axe clean, no sideways page scroll on a phone, htmx filters that keep the URL,
and the plain GET form without JavaScript."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from reporting.dashboards.selectors import SECTIONS
from synergy_portal.services import demo_users_ensure
from tests.reporting.test_dashboards_dataset import build_dataset

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "reporting"])

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
PERIOD = "period=custom&from=2026-01-01&to=2026-06-15"


@pytest.fixture(autouse=True)
def dataset(settings: Any) -> Any:
    settings.DASHBOARD_CACHE_SECONDS = 0
    demo_users_ensure()
    return build_dataset()


def _section_url(live_server: Any, slug: str, query: str = PERIOD) -> str:
    path = "/dashboards/" if slug == "overview" else f"/dashboards/{slug}/"
    return f"{live_server.url}{path}?{query}"


def _charts_drawn(page: Page) -> None:
    charts = page.locator("[data-chart]")
    for index in range(charts.count()):
        expect(charts.nth(index)).to_have_attribute("data-chart-ready", "true")


@pytest.mark.parametrize("slug", list(SECTIONS))
def test_each_section_at_phone_and_desktop(
    page: Page,
    live_server: Any,
    sign_in: Any,
    console: Any,
    screenshots: Any,
    assert_accessible: Any,
    assert_no_horizontal_scroll: Any,
    slug: str,
) -> None:
    sign_in("manager")
    for size in (PHONE, DESKTOP):
        page.set_viewport_size(size)
        page.goto(_section_url(live_server, slug))
        expect(page.get_by_role("heading", level=1)).to_have_text(SECTIONS[slug].title)
        expect(page.get_by_text("Figures as of")).to_be_visible()
        _charts_drawn(page)
        assert_no_horizontal_scroll(page)
        # Open every "How this is calculated" and long table too, so axe checks them.
        for summary in page.locator("details > summary").all():
            summary.click()
        assert_accessible(page)
        assert_no_horizontal_scroll(page)
    screenshots(f"dashboards-{slug}")


def test_a_filter_change_swaps_the_figures_and_keeps_the_url(
    page: Page, live_server: Any, sign_in: Any, console: Any
) -> None:
    sign_in("manager")
    page.goto(_section_url(live_server, "pipeline"))
    summary = page.locator("#chart-by-state-summary")
    expect(summary).to_contain_text("Of 9 opportunities submitted")
    page.evaluate("window.dashboardMarker = 'same page'")

    page.get_by_label("Department").select_option(label="Response")

    expect(summary).to_contain_text("Of 5 opportunities submitted")
    expect(page).to_have_url(re.compile(r"department=1"))
    assert page.evaluate("window.dashboardMarker") == "same page"
    _charts_drawn(page)
    # The section links and CSV links carry the filters on.
    expect(page.get_by_role("link", name="Flow", exact=True)).to_have_attribute(
        "href", re.compile(r"department=1")
    )
    page.get_by_role("link", name="Flow", exact=True).click()
    expect(page.get_by_label("Department")).to_have_value("1")

    page.reload()
    expect(page.get_by_label("Department")).to_have_value("1")


def test_choosing_dates_switches_the_period_to_custom(
    page: Page, live_server: Any, sign_in: Any, console: Any
) -> None:
    sign_in("manager")
    page.goto(f"{live_server.url}/dashboards/")
    page.get_by_label("From").fill("2026-04-01")

    expect(page.get_by_label("Period", exact=True)).to_have_value("custom")
    expect(page.locator(".app-dash-asof__filters")).to_contain_text("since 1 Apr 2026")
    expect(page).to_have_url(re.compile(r"period=custom.*from=2026-04-01"))


def test_the_filters_work_without_javascript(
    browser: Browser, live_server: Any, assert_accessible: Any
) -> None:
    context = browser.new_context(java_script_enabled=False, viewport=DESKTOP)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator('input[name="username"][value="ci"]').check()
    page.get_by_role("button", name="Sign in as demo user").click()
    page.goto(_section_url(live_server, "pipeline"))

    page.get_by_label("Journey").select_option(label="Custody booking")
    page.get_by_role("button", name="Apply filters").click()

    expect(page).to_have_url(re.compile(r"journey=2"))
    expect(page.locator("#chart-by-state-summary")).to_contain_text("Of 4 opportunities")
    # Without a drawing, the table still carries every figure.
    expect(page.get_by_role("table", name="Data: Opportunities by state now")).to_be_visible()
    context.close()


def test_staff_are_refused(page: Page, live_server: Any, sign_in: Any) -> None:
    sign_in("staff")
    response = page.goto(f"{live_server.url}/dashboards/")
    assert response is not None and response.status == 403
    expect(page.get_by_role("link", name="Dashboards")).to_have_count(0)
