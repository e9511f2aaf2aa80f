"""Scoring in a real browser: the live preview as inputs change, a refused bad input, the
saved score explaining itself, and a new model version re-scoring with visible progress."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from opportunities import scoring
from opportunities.models import RescoreRun, ScoringModel
from opportunities.services import rescoring
from opportunities.services.scoring import opportunity_score
from synergy_portal.models import User
from synergy_portal.services import demo_users_ensure
from tests.browser.test_journeys import static_up_to_date  # noqa: F401 - session fixture
from tests.journeys.factories import JourneyFactory, JourneyRoleFactory, JourneyStepFactory
from tests.opportunities.factories import OpportunityFactory

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


@pytest.fixture
def opportunity():  # type: ignore[no-untyped-def]
    demo_users_ensure()
    ScoringModel.objects.create(
        version=1,
        name="Journey impact (default)",
        weights=scoring.DEFAULT_WEIGHTS,
        parameters=scoring.DEFAULT_PARAMETERS,
        is_active=True,
    )
    journey = JourneyFactory(name="Body-worn video upload")
    JourneyRoleFactory(journey=journey, role__headcount=1450, role__hourly_cost=32)
    step = JourneyStepFactory(journey=journey, position=1, name="Dock the camera")
    return OpportunityFactory(
        journey=journey,
        step=step,
        title="Docking station queue at shift end",
        people_affected=400,
        frequency_per_week=5,
        minutes_per_occurrence=12,
    )


def test_score_form_previews_as_you_type_and_the_saved_score_explains_itself(
    page: Page,
    live_server,
    opportunity,
    sign_in,
    console,
    assert_accessible,
    assert_no_horizontal_scroll,
    screenshots,
) -> None:
    page.set_viewport_size(DESKTOP)
    sign_in("ci")
    page.goto(f"{live_server.url}/opportunities/{opportunity.reference}/score/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Docking station queue")
    preview = page.locator("#score-preview")
    expect(preview).to_contain_text("Fill in the friction severity")
    expect(page.get_by_role("button", name="Preview the score")).to_be_hidden()  # JS: live instead

    page.get_by_label("3 – slows the work noticeably").check()
    page.get_by_label("Operational (× 1.5)").check()
    page.get_by_label("Effort in delivery days").fill("2")
    page.get_by_label("Medium (× 0.8)").check()
    # 400 × 5 × 12 ÷ 60 × 46 = 18,400 h; × £32 = £588,800; × 1.5 × 1.2 = £1,059,840 impact;
    # × 0.8 ÷ 2 days = £423,936 a delivery day.
    expect(preview.locator(".app-score-preview__value")).to_have_text("£423,936")
    expect(page.locator("#score-preview-status")).to_have_text("Preview: £423,936 a delivery day.")
    assert_accessible(page)

    page.get_by_label("Minutes lost each time").fill("10000")
    expect(preview).to_contain_text("Minutes lost each time must be between 0 and 960.")
    page.get_by_label("Minutes lost each time").fill("12")
    expect(preview.locator(".app-score-preview__value")).to_have_text("£423,936")
    page.set_viewport_size(PHONE)
    assert_no_horizontal_scroll(page)
    screenshots("score form with preview")

    page.set_viewport_size(DESKTOP)
    page.get_by_role("button", name="Record the agreed score").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("The agreed score is saved")
    explain = page.locator(".app-score-explain")
    expect(explain).to_contain_text("£423,936 a delivery day")
    expect(explain.locator(".app-score-terms tbody tr")).to_have_count(11)
    expect(explain.locator("[data-term=people]")).to_contain_text("Submission: people affected")
    expect(explain.locator("[data-term=severity]")).to_contain_text("Assessor's judgement")
    expect(explain.locator("[data-priority]")).to_have_text("423,936")
    assert_accessible(page)
    page.set_viewport_size(PHONE)
    assert_no_horizontal_scroll(page)
    screenshots("score page after saving")


def test_a_field_error_is_shown_in_the_form_when_saving(
    page: Page, live_server, opportunity, sign_in, console, assert_accessible
) -> None:
    page.set_viewport_size(DESKTOP)
    sign_in("ci")
    page.goto(f"{live_server.url}/opportunities/{opportunity.reference}/score/")
    page.get_by_label("Effort in delivery days").fill("0")
    page.get_by_role("button", name="Record the agreed score").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Choose how severe the friction is")
    expect(summary).to_contain_text("Effort in delivery days must be between 0.01 and 2000.")
    expect(page).to_have_title(re.compile(r"^Error: "))
    assert_accessible(page)


def test_activating_a_new_version_shows_rescoring_progress_until_done(
    page: Page,
    live_server,
    opportunity,
    sign_in,
    console,
    assert_accessible,
    screenshots,
) -> None:
    opportunity_score(
        actor=User.objects.get(username="ci"),
        opportunity_id=opportunity.pk,
        values={
            "severity": 3,
            "risk_class": "operational",
            "effort_days": 2,
            "confidence": "medium",
        },
    )
    page.set_viewport_size(DESKTOP)
    sign_in("admin")
    page.goto(f"{live_server.url}/scoring-models/new/")
    page.get_by_label("Name", exact=True).fill("Operational risk weighted higher")
    page.get_by_label("Risk multiplier: operational").fill("3")
    page.get_by_role("button", name="Save version").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Version 2: Operational risk weighted higher"
    )
    page.get_by_role("button", name="Activate version 2").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Version 2 is now active")
    progress = page.locator("#rescore-progress")
    expect(progress).to_contain_text("0 of 1 done")
    assert_accessible(page)

    run = RescoreRun.objects.get()
    assert rescoring.rescore_run(run_id=run.pk) == "done"  # what the Celery worker does
    expect(progress).to_contain_text("1 open opportunity has a new current score", timeout=10_000)
    screenshots("scoring model re-scored")
