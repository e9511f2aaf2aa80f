"""The score form, its live preview, blind assessments and the panel, "why this score", and
the scoring-model editor."""

from __future__ import annotations

import math

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from opportunities import scoring
from opportunities.models import RescoreRun, Score, ScoringModel
from opportunities.selectors_scoring import score_explain_context
from opportunities.services.scoring import (
    MSG_AGREE_NEEDS_NOTE,
    MSG_ALREADY_ASSESSED,
    opportunity_score,
)
from synergy_portal.models import OutboxMessage, Role
from tests.journeys.factories import JourneyFactory, JourneyRoleFactory
from tests.opportunities.factories import OpportunityFactory
from tests.synergy_portal.factories import UserFactory

# The score explanation reads the calibration factor from the reporting schema.
pytestmark = pytest.mark.django_db(databases=["default", "reporting"])

JUDGEMENT = {
    "severity": "3",
    "risk_class": "operational",
    "effort_days": "2",
    "confidence": "medium",
}


@pytest.fixture
def model() -> ScoringModel:
    return ScoringModel.objects.create(
        version=1,
        name="Journey impact",
        weights=scoring.DEFAULT_WEIGHTS,
        parameters={**scoring.DEFAULT_PARAMETERS, "disagreement_ratio": 2.0},
        is_active=True,
    )


@pytest.fixture
def opp(model):  # type: ignore[no-untyped-def]
    journey = JourneyFactory()
    JourneyRoleFactory(journey=journey, role__headcount=3000, role__hourly_cost=30)
    return OpportunityFactory(
        journey=journey, people_affected=200, frequency_per_week=5, minutes_per_occurrence=6
    )


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def _ci(name: str = ""):  # type: ignore[no-untyped-def]
    return UserFactory(roles={Role.CI_TEAM}, **({"display_name": name} if name else {}))


def _score_url(opp) -> str:  # type: ignore[no-untyped-def]
    return reverse("opportunities:score", args=[opp.reference])


def _preview_url(opp) -> str:  # type: ignore[no-untyped-def]
    return reverse("opportunities:score_preview", args=[opp.reference])


def test_ci_team_sees_defaults_with_their_sources(opp) -> None:
    body = _client(_ci()).get(_score_url(opp)).content.decode()
    assert "Default 200, from submission: people affected." in body
    assert "Default 30, from headcount-weighted cost of the journey&#x27;s roles." in body
    assert 'value="200"' in body and 'hx-post="' + _preview_url(opp) + '"' in body
    assert 'hx-trigger="input delay:400ms, change delay:50ms"' in body


@pytest.mark.parametrize("roles", [set(), {Role.JOURNEY_OWNER}, {Role.MANAGER}])
def test_only_the_ci_team_and_admins_may_score(opp, roles) -> None:
    client = _client(UserFactory(roles=roles))
    assert client.get(_score_url(opp)).status_code == 403
    assert client.post(_preview_url(opp), JUDGEMENT).status_code == 403
    assert client.post(_score_url(opp), {**JUDGEMENT, "action": "agree"}).status_code == 403
    assert not Score.objects.exists()


def test_live_preview_returns_the_result_fragment_whose_terms_multiply_to_the_priority(opp) -> None:
    response = _client(_ci()).post(_preview_url(opp), JUDGEMENT, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    preview = response.context["preview"]
    expected = scoring.score(
        scoring.ScoreInputs(200, 5, 6, 3, "operational", 0, 0, 2, "medium", 30)
    )
    assert response.status_code == 200 and "<html" not in body
    assert preview.result.priority == pytest.approx(expected.priority)
    assert math.prod(row.value for row in preview.rows) == pytest.approx(preview.result.priority)
    assert f"£{expected.priority:,.0f}" in body
    assert 'id="score-preview-status"' in body and 'hx-swap-oob="true"' in body
    assert not Score.objects.exists()  # a preview saves nothing


def test_preview_asks_for_the_judgements_first(opp) -> None:
    body = _client(_ci()).post(_preview_url(opp), {"severity": "3"}).content.decode()
    assert "Fill in the risk, effort in delivery days, confidence to see the score." in body


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("minutes", "10000", "Minutes lost each time must be between 0 and 960."),
        ("effort_days", "0", "Effort in delivery days must be between 0.01 and 2000."),
        ("people", "-4", "People affected must be between 1 and 100000."),
        ("people", "3500", "People affected (3,500) is more than everyone in the force (3,000)."),
        ("frequency_per_week", "lots", "Occurrences per person per week must be a number"),
        ("people", "2.5", "People affected must be a whole number"),
    ],
)
def test_bad_input_is_named_in_the_preview_and_refused_on_save(opp, field, value, message) -> None:
    client = _client(_ci())
    preview = client.post(_preview_url(opp), {**JUDGEMENT, field: value}).content.decode()
    assert message in preview and f'href="#{field}"' in preview
    response = client.post(
        _score_url(opp),
        {**JUDGEMENT, field: value, "action": "agree", "override_reason": "Checked"},
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert f'<a href="#{field}">{message}' in body  # in the error summary, linked to the field
    assert f'id="{field}-error"' in body
    assert not Score.objects.exists()


def test_missing_judgements_are_named_when_saving(opp) -> None:
    response = _client(_ci()).post(_score_url(opp), {"action": "agree"})
    body = response.content.decode()
    assert response.status_code == 400
    for message in (
        "Choose how severe the friction is",
        "Choose the risk class",
        "Enter the effort in delivery days",
        "Choose how confident you are",
    ):
        assert message in body


def test_changing_a_figure_needs_a_reason_and_the_reason_is_kept(opp) -> None:
    client = _client(_ci())
    warned = client.post(_preview_url(opp), {**JUDGEMENT, "people": "900"}).content.decode()
    assert "You changed people affected: give a reason before you save." in warned
    response = client.post(_score_url(opp), {**JUDGEMENT, "people": "900", "action": "agree"})
    assert response.status_code == 400
    assert "Say why you changed people" in response.content.decode()
    response = client.post(
        _score_url(opp),
        {
            **JUDGEMENT,
            "people": "900",
            "action": "agree",
            "override_reason": "Every response officer",
        },
    )
    assert response.status_code == 302
    score = Score.objects.get()
    assert score.is_current and score.inputs["people"] == 900
    assert score.inputs["sources"]["people"] == "assessor"
    assert score.inputs["override_reason"] == "Every response officer"


def test_assessments_are_blind_until_you_submit_your_own(opp) -> None:
    alice, bob = _ci("Alice Assessor"), _ci("Bob Assessor")
    response = _client(alice).post(_score_url(opp), {**JUDGEMENT, "action": "assess"})
    assert response.status_code == 302
    (first,) = Score.objects.filter(kind=Score.Kind.ASSESSMENT)
    opp.refresh_from_db()
    assert opp.current_score_id is None  # an assessment is not the opportunity's score

    bobs_view = _client(bob).get(_score_url(opp)).content.decode()
    assert "1 assessor has scored this opportunity" in bobs_view
    assert "Alice Assessor" not in bobs_view
    assert f"£{first.priority:,.0f}" not in bobs_view
    assert 'value="agree"' not in bobs_view  # he cannot record the agreed score yet

    _client(bob).post(
        _score_url(opp),
        {**JUDGEMENT, "effort_days": "0.5", "confidence": "high", "action": "assess"},
    )
    bobs_view = _client(bob).get(_score_url(opp)).content.decode()
    assert "Alice Assessor" in bobs_view and "Bob Assessor (you)" in bobs_view
    assert "The assessors disagree" in bobs_view  # 0.5 days and high vs 2 days and medium: 5×
    assert "the highest is 5.0 times the lowest" in bobs_view


def test_an_assessor_assesses_once_a_round(opp) -> None:
    client = _client(_ci())
    client.post(_score_url(opp), {**JUDGEMENT, "action": "assess"})
    response = client.post(_score_url(opp), {**JUDGEMENT, "action": "assess"})
    assert response.status_code == 400
    assert MSG_ALREADY_ASSESSED in response.content.decode()
    assert 'value="assess"' not in response.content.decode()


def test_the_lead_sees_the_panel_and_records_the_agreed_score_with_a_note(opp) -> None:
    lead = _ci("Lee Lead")
    opp.owner = lead
    opp.save(update_fields=["owner"])
    for name in ("Ann", "Ben"):
        opportunity_score(
            actor=_ci(name), opportunity_id=opp.pk, values=JUDGEMENT, kind=Score.Kind.ASSESSMENT
        )
    client = _client(lead)
    page = client.get(_score_url(opp)).content.decode()
    assert "Ann" in page and "Ben" in page and 'value="agree"' in page

    refused = client.post(_score_url(opp), {**JUDGEMENT, "action": "agree"})
    assert refused.status_code == 400 and MSG_AGREE_NEEDS_NOTE in refused.content.decode()

    done = client.post(
        _score_url(opp), {**JUDGEMENT, "action": "agree", "note": "Agreed on Ann's figures"}
    )
    assert done.status_code == 302
    opp.refresh_from_db()
    agreed = opp.current_score
    assert agreed.kind == Score.Kind.AGREED and agreed.note == "Agreed on Ann's figures"
    page = client.get(_score_url(opp)).content.decode()
    assert "No one has assessed this opportunity in this round." in page  # a new round


def test_a_ci_member_outside_the_panel_cannot_agree_over_it(opp) -> None:
    opportunity_score(
        actor=_ci(), opportunity_id=opp.pk, values=JUDGEMENT, kind=Score.Kind.ASSESSMENT
    )
    response = _client(_ci()).post(_score_url(opp), {**JUDGEMENT, "action": "agree", "note": "x"})
    assert response.status_code == 403


def test_why_this_score_lists_every_term_with_its_source_and_the_history(opp) -> None:
    ci = _ci("Casey Improvement")
    opportunity_score(
        actor=ci,
        opportunity_id=opp.pk,
        values={**JUDGEMENT, "severity": 2, "effort_days": 4},
    )
    opportunity_score(
        actor=ci,
        opportunity_id=opp.pk,
        values={**JUDGEMENT, "severity": 3, "effort_days": 2, "people": 250},
        override_reason="Two more teams",
        note="After the workshop",
    )
    opp.refresh_from_db()
    context = score_explain_context(opportunity=opp)
    assert context["score"] == opp.current_score
    assert len(context["score_history"]) == 2
    html = render_to_string("opportunities/partials/score_explain.html", context)
    for term in opp.current_score.breakdown:
        assert term["label"].replace("'", "&#x27;") in html
    assert "Submission: people affected" not in html  # people was overridden...
    assert "Assessor&#x27;s override: Two more teams" in html  # ...and says why
    assert "Submission: how often" in html
    assert "Headcount-weighted cost of the journey&#x27;s roles" in html
    assert "Assessor&#x27;s judgement" in html and "Scoring model v1" in html
    assert "scoring model version 1" in html and "After the workshop" in html
    assert html.count("<time") >= 3  # scored date and two history rows


def test_the_page_says_when_no_model_is_active(opp) -> None:
    ScoringModel.objects.update(is_active=False)
    client = _client(_ci())
    assert "No scoring model is active" in client.get(_score_url(opp)).content.decode()
    assert client.post(_score_url(opp), {**JUDGEMENT, "action": "agree"}).status_code == 200
    assert not Score.objects.exists()


def test_without_javascript_the_preview_button_renders_the_page_with_the_result(opp) -> None:
    response = _client(_ci()).post(_score_url(opp), {**JUDGEMENT, "action": "preview"})
    assert response.status_code == 200
    assert response.context["preview"].result is not None
    assert not Score.objects.exists()


# --- Scoring models -----------------------------------------------------------------------


def _model_form(**changes: str) -> dict[str, str]:
    data = {
        "name": "Safeguarding weighted higher",
        "w-risk-none": "1",
        "w-risk-data-quality": "1.2",
        "w-risk-operational": "1.5",
        "w-risk-safeguarding": "2.5",
        "w-confidence-low": "0.5",
        "w-confidence-medium": "0.8",
        "w-confidence-high": "1",
        "w-severity-step": "0.1",
        "w-theme-step": "0.05",
        "w-theme-cap": "3",
        "w-support-step": "0.1",
        "w-working-weeks": "46",
        "w-default-hourly-cost": "30",
        "w-min-effort-days": "0.5",
        "w-two-speed-days": "4",
        "w-disagreement-ratio": "2",
    }
    return {**data, **changes}


def test_only_admins_edit_scoring_models(model) -> None:
    ci = _client(_ci())
    assert ci.get(reverse("opportunities:scoring_models")).status_code == 403
    assert ci.post(reverse("opportunities:scoring_model_new"), _model_form()).status_code == 403
    admin = _client(UserFactory(roles={Role.ADMIN}))
    assert admin.get(reverse("opportunities:scoring_models")).status_code == 200
    page = admin.get(reverse("opportunities:scoring_model_new")).content.decode()
    assert 'value="46"' in page  # starts from the active model


def test_admin_creates_a_version_and_activating_it_starts_a_rescore(model) -> None:
    client = _client(UserFactory(roles={Role.ADMIN}))
    response = client.post(reverse("opportunities:scoring_model_new"), _model_form())
    assert response.status_code == 302
    new = ScoringModel.objects.get(version=2)
    assert not new.is_active and new.weights["risk"]["safeguarding"] == 2.5
    activate = reverse("opportunities:scoring_model_activate", args=[2])
    response = client.post(activate, follow=True)
    assert "Version 2 is now active" in response.content.decode()
    new.refresh_from_db()
    model.refresh_from_db()
    assert new.is_active and not model.is_active
    run = RescoreRun.objects.get()
    assert run.model == new and run.state == RescoreRun.State.RUNNING
    assert OutboxMessage.objects.filter(
        topic="scoring.rescore", payload={"run_id": run.pk}
    ).exists()


def test_a_model_with_invalid_weights_cannot_be_activated(model) -> None:
    client = _client(UserFactory(roles={Role.ADMIN}))
    bad = client.post(
        reverse("opportunities:scoring_model_new"), _model_form(**{"w-theme-cap": "x"})
    )
    assert (
        bad.status_code == 400
        and "DNA themes counted at most must be a number" in bad.content.decode()
    )
    client.post(reverse("opportunities:scoring_model_new"), _model_form(**{"w-risk-none": "50"}))
    detail = client.get(reverse("opportunities:scoring_model", args=[2])).content.decode()
    assert "cannot be activated: risk.none must be between 0.1 and 10." in detail
    response = client.post(reverse("opportunities:scoring_model_activate", args=[2]), follow=True)
    assert "Version 2 cannot be activated" in response.content.decode()
    assert ScoringModel.objects.get(is_active=True) == model
    assert not RescoreRun.objects.exists()
