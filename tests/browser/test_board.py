"""The triage board in a real browser: drag and drop, moving by keyboard, the side panel
(score, reject with a reason the submitter then reads), a refused stale drag, live updates,
axe, and phone and desktop layouts without page-level sideways scrolling."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from opportunities.models import Opportunity, ScoringModel, Status
from opportunities.scoring import DEFAULT_PARAMETERS, DEFAULT_WEIGHTS
from opportunities.services.board import board_move, rank_between
from synergy_portal.models import User
from synergy_portal.services import demo_users_ensure
from tests.journeys.factories import JourneyFactory, JourneyStepFactory
from tests.opportunities.factories import OpportunityFactory

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


@pytest.fixture(autouse=True)
def demo_users() -> None:
    demo_users_ensure()


@pytest.fixture
def board_cards() -> dict[str, list[Opportunity]]:
    journey = JourneyFactory(name="Custody booking-in")
    step = JourneyStepFactory(journey=journey, name="Record detainee details", position=3)
    made: dict[str, list[Opportunity]] = {}
    key = None
    for status, titles in {
        Status.SUBMITTED: [
            "Body-worn video uploads fail on station Wi-Fi",
            "Duty rota in three places",
        ],
        Status.TRIAGE: ["Custody record typed three times", "Property bag labels print blank"],
        Status.ASSESSING: ["Case file bundle built by hand"],
        Status.BACKLOG: [],
        Status.IN_DELIVERY: [],
    }.items():
        made[status] = []
        for title in titles:
            key = rank_between(key, None)
            made[status].append(
                OpportunityFactory(
                    status=status,
                    title=title,
                    board_rank=key,
                    journey=journey,
                    step=step,
                    submitter=User.objects.get(username="staff"),
                )
            )
    return made


def _forgive_expected_refusals(console, *statuses: int) -> None:  # type: ignore[no-untyped-def]
    """Chromium logs every 4xx answer as "Failed to load resource"; a refused move (409) or a
    form sent back with its errors (400) is the behaviour under test here, not a fault."""
    wanted = tuple(f"status of {status} " for status in statuses)
    console.messages[:] = [m for m in console.messages if not any(w in m.text for w in wanted)]


def _drag(page: Page, source: Locator, target: Locator, *, above: bool = True) -> None:
    """A pointer drag in small steps (SortableJS's fallback mode follows the mouse)."""
    src, dst = source.bounding_box(), target.bounding_box()
    assert src and dst
    page.mouse.move(src["x"] + src["width"] / 2, src["y"] + 12)
    page.mouse.down()
    page.mouse.move(src["x"] + src["width"] / 2 + 5, src["y"] + 20, steps=4)
    y = dst["y"] + (6 if above else dst["height"] - 6)
    page.mouse.move(dst["x"] + dst["width"] / 2, y, steps=20)
    page.mouse.move(dst["x"] + dst["width"] / 2, y + 1, steps=2)
    page.mouse.up()


def test_drag_a_card_to_another_column_and_within_it(
    page: Page, live_server, sign_in, console, board_cards
) -> None:
    moving = board_cards[Status.SUBMITTED][0]
    first, second = board_cards[Status.TRIAGE]
    page.set_viewport_size(DESKTOP)
    sign_in("ci")
    page.goto(live_server.url + "/board/")
    _drag(
        page, page.locator(f"#card-{moving.reference}"), page.locator(f"#card-{second.reference}")
    )
    moved = page.locator(f"#col-list-triage #card-{moving.reference}")
    expect(moved).to_have_attribute("data-version", "2")
    expect(page.locator("#board-notice")).to_contain_text(
        f"Moved {moving.reference} to “In triage”"
    )
    order = page.locator("#col-list-triage .app-board-card")
    expect(order).to_have_count(3)
    assert Opportunity.objects.get(pk=moving.pk).status == Status.TRIAGE

    # Within the column: to the top, above the first card.
    _drag(page, moved, page.locator(f"#card-{first.reference}"))
    expect(page.locator(f"#card-{moving.reference}")).to_have_attribute("data-version", "3")
    refs = list(
        Opportunity.objects.filter(status=Status.TRIAGE)
        .order_by("board_rank", "pk")
        .values_list("reference", flat=True)
    )
    assert refs == [moving.reference, first.reference, second.reference]
    expect(page.locator("#col-list-triage .app-board-card").first).to_have_id(
        f"card-{moving.reference}"
    )


def test_move_a_card_by_keyboard(page: Page, live_server, sign_in, console, board_cards) -> None:
    card = board_cards[Status.SUBMITTED][1]
    page.set_viewport_size(DESKTOP)
    sign_in("ci")
    page.goto(live_server.url + "/board/")
    toggle = page.locator(f"#card-{card.reference} summary")
    toggle.focus()
    page.keyboard.press("Enter")
    button = page.locator(f"#card-{card.reference}").get_by_role("button", name="In triage")
    expect(button).to_be_visible()
    # htmx takes a swapped-in form over when it settles (and drops its htmx-added class);
    # a press before that posts the plain form, covered by the next test.
    expect(page.locator(f"#card-{card.reference} form")).not_to_have_class(re.compile("htmx-added"))
    button.focus()
    page.keyboard.press("Enter")
    expect(page.locator(f"#col-list-triage #card-{card.reference}")).to_be_visible()
    # Focus follows the card to its new place, so the keyboard user can carry on from there.
    link = page.locator(f"#card-link-{card.reference}")
    expect(link).to_be_focused()
    assert Opportunity.objects.get(pk=card.pk).status == Status.TRIAGE
    # The next live poll re-renders both columns (the move is news to it); focus stays put.
    marker = page.locator("#board-poller").get_attribute("data-marker")
    expect(page.locator("#board-poller")).not_to_have_attribute(
        "data-marker", marker or "", timeout=8000
    )
    expect(link).to_be_focused()


def test_a_move_by_full_page_load_lands_focus_on_the_card(
    page: Page, live_server, sign_in, console, board_cards
) -> None:
    """A menu pressed before htmx has taken the form over posts the plain form; the board
    comes back at /board/#card-<ref>, and focus goes to the card, not lost to the page."""
    card = board_cards[Status.TRIAGE][0]
    page.set_viewport_size(DESKTOP)
    sign_in("ci")
    page.goto(live_server.url + f"/board/#card-{card.reference}")
    expect(page.locator(f"#card-link-{card.reference}")).to_be_focused()
    assert page.evaluate("window.location.hash") == ""


def test_open_the_panel_score_and_reject_with_a_reason_the_submitter_reads(
    page: Page,
    live_server,
    sign_in,
    console,
    assert_accessible,
    assert_no_horizontal_scroll,
    screenshots,
    board_cards,
) -> None:
    ScoringModel.objects.create(
        version=1, name="v1", weights=DEFAULT_WEIGHTS, parameters=DEFAULT_PARAMETERS, is_active=True
    )
    card = board_cards[Status.TRIAGE][0]
    page.set_viewport_size(DESKTOP)
    sign_in("ci")
    page.goto(live_server.url + "/board/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Triage board")
    assert_accessible(page)
    page.set_viewport_size(PHONE)
    assert_no_horizontal_scroll(page)
    screenshots("board")

    page.set_viewport_size(DESKTOP)
    page.locator(f"#card-link-{card.reference}").click()
    panel = page.locator("#board-panel")
    expect(panel.get_by_role("heading", level=2)).to_have_text(card.title)
    expect(page).to_have_url(re.compile(rf"/board/\?card={card.reference}$"))
    expect(page.locator("#panel-title")).to_be_focused()
    assert_accessible(page)
    page.set_viewport_size(PHONE)
    assert_no_horizontal_scroll(page)
    screenshots("board panel")
    page.set_viewport_size(DESKTOP)

    # Score with the scoring screen's own form, inside the panel.
    panel.get_by_role("link", name=re.compile("Score it")).click()
    form = panel.locator("#score-form")
    expect(form).to_be_visible()
    form.locator("label[for='severity-3']").click()
    form.locator("label[for='risk_class-operational']").click()
    form.locator("#effort_days").fill("2")
    form.locator("label[for='confidence-medium']").click()
    expect(panel.locator("#score-preview")).to_contain_text("a delivery day")
    form.get_by_role("button", name="Record the agreed score").click()
    expect(panel.locator("#panel-notice")).to_contain_text("agreed score is saved")
    expect(panel.locator("#panel-score-heading + p")).to_contain_text("a delivery day")
    assert Opportunity.objects.get(pk=card.pk).current_score_id is not None

    # Reject, first without a reason (refused), then with one.
    panel.get_by_text("Reject: not taken forward").click()
    panel.get_by_role("button", name="Reject", exact=True).click()
    expect(panel.locator("#panel-notice")).to_contain_text("Give a reason the submitter will read.")
    reason = "The new custody system arriving in March records this once; we will not change the old one."
    panel.get_by_label("Reason").fill(reason)
    panel.get_by_role("button", name="Reject", exact=True).click()
    expect(panel.locator("#panel-notice")).to_contain_text("The submitter will see your reason")
    expect(page.locator(f"#col-list-triage #card-{card.reference}")).to_have_count(0)
    page.get_by_role("link", name=re.compile("^Close")).click()
    expect(panel).to_be_empty()
    expect(page).to_have_url(live_server.url + "/board/")

    # The submitter sees what happened and why.
    page.get_by_role("button", name="Sign out").click()
    sign_in("staff")
    page.goto(f"{live_server.url}/opportunities/{card.reference}/")
    expect(page.locator("main")).to_contain_text(reason)
    expect(page.locator("main")).to_contain_text("Not taken forward")
    _forgive_expected_refusals(console, 400)


def test_live_updates_show_other_peoples_moves(
    page: Page, live_server, sign_in, console, board_cards
) -> None:
    elsewhere = board_cards[Status.SUBMITTED][1]
    page.set_viewport_size(DESKTOP)
    sign_in("ci")
    page.goto(live_server.url + "/board/")
    # Someone else moves a card: the board shows it within a few seconds.
    other = User.objects.get(username="admin")
    board_move(
        actor=other, opportunity_id=elsewhere.pk, to_status=Status.TRIAGE, expected_version=1
    )
    expect(page.locator(f"#col-list-triage #card-{elsewhere.reference}")).to_be_visible(
        timeout=12_000
    )
    expect(page.locator(f"#col-list-submitted #card-{elsewhere.reference}")).to_have_count(0)


def test_a_drag_on_an_out_of_date_card_is_refused_with_the_current_state(
    page: Page, live_server, sign_in, console, board_cards
) -> None:
    card = board_cards[Status.TRIAGE][0]
    target = board_cards[Status.ASSESSING][0]
    page.set_viewport_size(DESKTOP)
    sign_in("ci")
    page.goto(live_server.url + "/board/")
    # Changed behind the viewer's back (still in triage, but a newer version).
    board_move(
        actor=User.objects.get(username="admin"),
        opportunity_id=card.pk,
        to_status=Status.TRIAGE,
        expected_version=1,
        position="bottom",
    )
    page.evaluate("document.getElementById('board-poller').remove()")
    _drag(page, page.locator(f"#card-{card.reference}"), page.locator(f"#card-{target.reference}"))
    notice = page.locator("#board-notice")
    expect(notice).to_contain_text("Someone else changed this opportunity")
    expect(notice).to_contain_text("“In triage” (version 2)")
    # The card snaps back to where it really is, with its current version.
    expect(page.locator(f"#col-list-triage #card-{card.reference}")).to_have_attribute(
        "data-version", "2"
    )
    assert Opportunity.objects.get(pk=card.pk).status == Status.TRIAGE
    _forgive_expected_refusals(console, 409)


def test_read_only_board_for_a_manager_on_a_phone(
    page: Page,
    live_server,
    sign_in,
    console,
    assert_accessible,
    assert_no_horizontal_scroll,
    board_cards,
) -> None:
    page.set_viewport_size(PHONE)
    sign_in("manager")
    page.goto(live_server.url + "/board/")
    expect(page.locator(".app-board__intro")).to_contain_text("Only the CI team can move cards")
    expect(page.locator(".app-board-card__move")).to_have_count(0)
    assert_accessible(page)
    assert_no_horizontal_scroll(page)


def test_a_malformed_card_fragment_does_not_break_the_board(
    page: Page, live_server, sign_in, console, board_cards
) -> None:
    """A hand-typed /board/#card-%E0 is ignored: no script error, the board still works."""
    page.set_viewport_size(DESKTOP)
    sign_in("ci")
    page.goto(live_server.url + "/board/#card-%E0%A4")
    card = board_cards[Status.SUBMITTED][0]
    page.locator(f"#card-link-{card.reference}").click()
    expect(page.locator("#panel-title")).to_be_focused()
