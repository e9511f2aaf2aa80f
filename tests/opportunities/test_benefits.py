"""Delivery notes and realised benefits; estimated against realised on the opportunity."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template.loader import render_to_string

from opportunities.errors import ApplicationError
from opportunities.models import Benefit, Opportunity, Status
from opportunities.services import benefits
from synergy_portal.models import Role
from tests.opportunities.factories import OpportunityFactory
from tests.opportunities.test_board import score
from tests.synergy_portal.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ci(db):  # type: ignore[no-untyped-def]
    return UserFactory(roles={Role.CI_TEAM})


def test_a_benefit_needs_a_delivered_item_and_evidence(ci) -> None:
    opp = OpportunityFactory(status=Status.BACKLOG)
    with pytest.raises(ApplicationError):
        benefits.benefit_record(
            actor=ci,
            opportunity_id=opp.pk,
            hours_per_year=Decimal("10"),
            cash_per_year=Decimal("0"),
            evidence="Timed it",
        )
    delivered = OpportunityFactory(status=Status.DELIVERED, delivery_note="Done")
    with pytest.raises(ApplicationError) as caught:
        benefits.benefit_record(
            actor=ci,
            opportunity_id=delivered.pk,
            hours_per_year=Decimal("10"),
            cash_per_year=Decimal("0"),
            evidence=" ",
        )
    assert caught.value.message == benefits.MSG_NEEDS_EVIDENCE
    with pytest.raises(ApplicationError):
        benefits.benefit_record(
            actor=UserFactory(),
            opportunity_id=delivered.pk,
            hours_per_year=Decimal("10"),
            cash_per_year=Decimal("0"),
            evidence="x",
        )
    assert not Benefit.objects.exists()


def test_the_first_benefit_realises_the_item(ci) -> None:
    opp = OpportunityFactory(status=Status.DELIVERED, delivery_note="Done")
    result = benefits.benefit_record(
        actor=ci,
        opportunity_id=opp.pk,
        hours_per_year=Decimal("120"),
        cash_per_year=Decimal("3900"),
        non_cash="Fewer lost scans",
        evidence="Before/after timings over four weeks",
    )
    assert result.transition is not None
    assert Opportunity.objects.get(pk=opp.pk).status == Status.BENEFITS_REALISED
    again = benefits.benefit_record(
        actor=ci,
        opportunity_id=opp.pk,
        hours_per_year=Decimal("10"),
        cash_per_year=Decimal("0"),
        evidence="A second site",
    )
    assert again.transition is None and Benefit.objects.filter(opportunity=opp).count() == 2


def test_benefit_summary_shows_estimated_against_realised(ci) -> None:
    opp = OpportunityFactory(status=Status.DELIVERED, delivery_note="Done")
    score(opp)  # estimated: 10 hours, £300 a year
    opp = Opportunity.objects.select_related("current_score").get(pk=opp.pk)
    html = render_to_string("opportunities/partials/benefit_summary.html", {"opportunity": opp})
    assert "Not yet recorded" in html and "£300" in html
    benefits.benefit_record(
        actor=ci,
        opportunity_id=opp.pk,
        hours_per_year=Decimal("12.5"),
        cash_per_year=Decimal("410"),
        non_cash="Less rework",
        evidence="Survey",
    )
    html = render_to_string("opportunities/partials/benefit_summary.html", {"opportunity": opp})
    assert "£410" in html and "Less rework" in html and "Survey" in html


def test_benefit_page_and_delivery_note_page(client, ci) -> None:
    opp = OpportunityFactory(status=Status.DELIVERED, delivery_note="Done")
    client.force_login(ci)
    assert client.get(f"/board/cards/{opp.reference}/benefit/").status_code == 200
    bad = client.post(
        f"/board/cards/{opp.reference}/benefit/", {"hours_per_year": "lots", "evidence": ""}
    )
    assert bad.status_code == 400 and b"must be a number" in bad.content
    ok = client.post(
        f"/board/cards/{opp.reference}/benefit/",
        {"hours_per_year": "1,200", "cash_per_year": "£39,000", "evidence": "System data"},
    )
    assert ok.status_code == 302
    benefit = Benefit.objects.get(opportunity=opp)
    assert (benefit.hours_per_year, benefit.cash_per_year) == (Decimal("1200"), Decimal("39000"))
    panel = client.get(f"/board/cards/{opp.reference}/").content.decode()
    assert "Estimated and realised benefit" in panel
