"""Template tags for the board's partials that other pages include."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import template

from opportunities.selectors_board_panel import BenefitSummary, benefit_summary
from opportunities.services.deadlines import next_contact

register = template.Library()


@register.simple_tag
def benefit_summary_for(opportunity: Any) -> BenefitSummary:
    return benefit_summary(opportunity=opportunity)


@register.simple_tag
def next_contact_for(opportunity: Any) -> date | None:
    return next_contact(opportunity)
