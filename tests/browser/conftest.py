"""Browser tests: Playwright driving the machine's Chromium against ``live_server``.

Every test here is marked ``browser``. Without Chromium they are skipped with a reason, unless
``SYNERGY_REQUIRE_BROWSER=1`` (CI), where a missing browser is a failure, not a skip.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import ConsoleMessage, Page, Response, expect

CHROMIUM = os.environ.get("SYNERGY_CHROMIUM", "/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("SYNERGY_REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
MISSING_BROWSER = (
    f"Chromium not found at {CHROMIUM} (set SYNERGY_CHROMIUM, or `apt-get install -y chromium`)"
)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
SIZES = {"phone": PHONE, "desktop": DESKTOP}

# WCAG 2.2 A and AA, plus axe's best practices (landmarks, one h1, heading order).
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": [
            "wcag2a",
            "wcag2aa",
            "wcag21a",
            "wcag21aa",
            "wcag22aa",
            "best-practice",
        ],
    },
    "resultTypes": ["violations"],
}

_BROWSER_DIR = Path(__file__).resolve().parent
_axe = Axe()


ALL_DATABASES = ["default", "reporting"]


def _chromium_available() -> bool:
    return Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    available = _chromium_available()
    for item in items:
        if _BROWSER_DIR not in Path(str(item.path)).resolve().parents:
            continue
        item.add_marker(pytest.mark.browser)
        # Pages show figures read from the reporting schema (the calibration factor beside a
        # score, the dashboards), so the live server may use the reporting alias too.
        marker = item.get_closest_marker("django_db")
        if marker is not None and "databases" not in marker.kwargs:
            item.add_marker(pytest.mark.django_db(**marker.kwargs, databases=ALL_DATABASES))
        if not available and not REQUIRE_BROWSER:
            item.add_marker(pytest.mark.skip(reason=MISSING_BROWSER))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not _chromium_available():
        message = MISSING_BROWSER + "."
        if REQUIRE_BROWSER:
            pytest.fail("SYNERGY_REQUIRE_BROWSER=1 but " + message, pytrace=False)
        pytest.skip(message)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


# --- Console ----------------------------------------------------------------------------------


@dataclass
class ConsoleWatch:
    """Console messages and uncaught errors of one page.

    A navigation that answers 4xx on purpose (a 404 page, a 400 form) logs "Failed to load
    resource" for the document itself: that one is expected. The same message for a
    stylesheet, script or image is a broken page and counts.
    """

    messages: list[ConsoleMessage] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    documents: set[str] = field(default_factory=set)

    def _on_response(self, response: Response) -> None:
        if response.request.resource_type == "document":
            self.documents.add(response.url)

    def attach(self, page: Page) -> None:
        page.on("console", lambda message: self.messages.append(message))
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("response", self._on_response)

    def problems(self) -> list[str]:
        found = [f"uncaught: {error}" for error in self.page_errors]
        for message in self.messages:
            text = message.text
            if "Content Security Policy" in text or "Content-Security-Policy" in text:
                found.append(f"CSP violation: {text}")
            elif message.type == "error":
                url = message.location.get("url", "")
                if text.startswith("Failed to load resource") and url in self.documents:
                    continue
                found.append(f"console error: {text} ({url})")
        return found

    def assert_clean(self) -> None:
        problems = self.problems()
        assert not problems, "Browser console problems:\n  " + "\n  ".join(problems)


@pytest.fixture
def console(page: Page) -> Iterator[ConsoleWatch]:
    """Watches ``page``'s console; the test fails at teardown if anything went wrong."""
    watch = ConsoleWatch()
    watch.attach(page)
    yield watch
    watch.assert_clean()


# --- Helpers, as fixtures -----------------------------------------------------------------------


def _assert_accessible(page: Page, context: str | None = None) -> None:
    results = _axe.run(page, context=context, options=AXE_OPTIONS)
    if results.violations_count:
        lines = [f"axe found {results.violations_count} violation(s) on {page.url}:"]
        for violation in results.response["violations"]:
            lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
            lines.append(f"  {violation['helpUrl']}")
            for node in violation["nodes"][:5]:
                lines.append(f"    at {', '.join(map(str, node['target']))}")
                lines.append(f"       {node['html'][:200]}")
                if node.get("failureSummary"):
                    summary = node["failureSummary"].replace("\n", "\n         ")
                    lines.append(f"         {summary}")
        pytest.fail("\n".join(lines), pytrace=False)


@pytest.fixture
def assert_accessible() -> Callable[..., None]:
    """``assert_accessible(page)``: axe-core (WCAG 2.2 AA + best practice) finds nothing."""
    return _assert_accessible


def _assert_no_horizontal_scroll(page: Page) -> None:
    scroll_width, client_width = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert scroll_width <= client_width, (
        f"{page.url} scrolls sideways at {client_width}px wide (content is {scroll_width}px)"
    )


@pytest.fixture
def assert_no_horizontal_scroll() -> Callable[[Page], None]:
    """``assert_no_horizontal_scroll(page)``: nothing sticks out at the current width."""
    return _assert_no_horizontal_scroll


@pytest.fixture
def screenshots(page: Page, request: pytest.FixtureRequest) -> Callable[[str], list[Path]]:
    """``screenshots(name)``: full-page shots at phone and desktop sizes, saved in
    test-results/screenshots/. Leaves the page at desktop size."""
    folder = Path(request.config.rootpath) / "test-results" / "screenshots"

    def take(name: str) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        paths = []
        for label, size in SIZES.items():
            page.set_viewport_size(size)
            path = folder / f"{slug}-{label}.png"
            page.screenshot(path=str(path), full_page=True)
            paths.append(path)
        return paths

    return take


def _forget_sign_in_counts() -> None:
    """Reset the rate-limit counters. The developer sign-in allows 20 sign-ins a minute per
    address (tests/security checks that limit); a fast browser run, all from one address,
    signs in more often than that."""
    from django.core.cache import cache

    client = cache._cache.get_client(write=True)  # type: ignore[attr-defined]
    keys = list(client.scan_iter(match="*:rl:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def sign_in(page: Page, live_server: Any) -> Callable[[str], None]:
    """``sign_in(username)``: sign in through the developer sign-in form, as a person would."""

    def sign_in_as(username: str) -> None:
        _forget_sign_in_counts()
        page.goto(f"{live_server.url}/accounts/login/")
        page.locator(f'input[name="username"][value="{username}"]').check()
        page.get_by_role("button", name="Sign in as demo user").click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    return sign_in_as
