"""Reads for the triage panel: one opportunity with what triage needs, merge candidates and
the estimated-against-realised benefit summary."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.search import SearchQuery
from django.db.models import F, Q, Sum
from django.utils import timezone

from journeys.models import Application, Journey, JourneyStep
from opportunities.models import (
    OPEN_STATUSES,
    Benefit,
    Comment,
    DeliveryCycle,
    Opportunity,
    Status,
    StatusChange,
)
from opportunities.selectors import opportunity_visible_to
from opportunities.selectors_board import Card, board_base, cards_load
from opportunities.services.deadlines import board_settings
from synergy_portal.permissions import Action, can

# --- The triage panel ---------------------------------------------------------------------


@dataclass
class Panel:
    opportunity: Opportunity
    card: Card
    timeline: list[StatusChange]
    comments: list[Comment]
    comment_count: int
    journeys: list[tuple[Journey, list[JourneyStep]]]
    applications: list[Application]
    chosen_applications: set[int]
    owners: list[Any]
    cycles: list[DeliveryCycle]
    benefits: list[Benefit]
    targets: list[tuple[str, str]]
    can_triage: bool
    can_move: bool
    can_merge: bool
    can_score: bool
    can_plan: bool
    can_record_benefit: bool
    column_count: int = 0

    @property
    def on_board(self) -> bool:
        return self.opportunity.status in OPEN_STATUSES

    @property
    def rejectable(self) -> bool:
        return self.opportunity.status in (
            Status.SUBMITTED,
            Status.TRIAGE,
            Status.ASSESSING,
            Status.BACKLOG,
        )

    @property
    def plannable(self) -> bool:
        return self.can_plan and self.opportunity.status in (Status.BACKLOG, Status.IN_DELIVERY)


def panel_get(*, user: Any, reference: str) -> Panel:
    """Everything the triage panel shows for one opportunity (DoesNotExist if not visible)."""
    from synergy_portal.models import Role, User

    opp = (
        opportunity_visible_to(user=user)
        .defer("search_vector")
        .select_related(
            "journey",
            "step",
            "department",
            "submitter",
            "owner",
            "current_score",
            "delivery_cycle",
            "merged_into",
        )
        .prefetch_related("applications", "dna_themes")
        .get(reference=reference)
    )
    config = board_settings()
    today = timezone.localdate()
    card = cards_load([opp.pk], today=today, config=config)[opp.pk]
    steps: dict[int, list[JourneyStep]] = {}
    for step in JourneyStep.objects.filter(retired_at__isnull=True).order_by(
        "journey_id", "position"
    ):
        steps.setdefault(step.journey_id, []).append(step)
    journeys = [
        (j, steps.get(j.pk, []))
        for j in Journey.objects.filter(Q(is_active=True) | Q(pk=opp.journey_id)).order_by("name")
    ]
    comments = list(
        Comment.objects.filter(opportunity=opp, hidden_at__isnull=True)
        .select_related("author")
        .order_by("-created_at", "-pk")[:5]
    )
    can_move = can(user, Action.MOVE_CARD)
    return Panel(
        opportunity=opp,
        card=card,
        timeline=list(
            StatusChange.objects.filter(opportunity=opp)
            .select_related("actor")
            .order_by("-created_at", "-pk")[:6]
        ),
        comments=comments[::-1],
        comment_count=Comment.objects.filter(opportunity=opp, hidden_at__isnull=True).count(),
        journeys=journeys,
        applications=list(Application.objects.only("name").order_by("name")),
        chosen_applications={a.pk for a in opp.applications.all()},
        owners=list(
            User.objects.filter(is_active=True, groups__name=Role.CI_TEAM.value)
            .distinct()
            .order_by("display_name", "username")
        ),
        cycles=list(
            DeliveryCycle.objects.exclude(state=DeliveryCycle.State.CLOSED).order_by("starts_on")[
                :12
            ]
        ),
        benefits=list(Benefit.objects.filter(opportunity=opp)),
        targets=card.targets,
        can_triage=can(user, Action.TRIAGE),
        can_move=can_move,
        can_merge=can(user, Action.MERGE),
        can_score=can(user, Action.SCORE),
        can_plan=can(user, Action.PLAN_CYCLE),
        can_record_benefit=can(user, Action.RECORD_BENEFIT),
        column_count=(
            board_base(user=user).filter(status=opp.status).count()
            if opp.status in OPEN_STATUSES
            else 0
        ),
    )


def merge_candidates(*, user: Any, opportunity: Opportunity, q: str) -> list[Opportunity]:
    """Opportunities ``opportunity`` could be merged into: by reference, then by words."""
    qs = (
        opportunity_visible_to(user=user)
        .exclude(pk=opportunity.pk)
        .exclude(status__in=[Status.DRAFT, Status.DUPLICATE, Status.WITHDRAWN, Status.REJECTED])
        .select_related("journey")
        .only("reference", "title", "status", "supporters_count", "journey__name")
    )
    q = q.strip()[:200]
    if not q:
        return []
    exact = list(qs.filter(reference__iexact=q)[:1])
    if exact:
        return exact
    query = SearchQuery(q, search_type="websearch", config="english")
    return list(
        qs.filter(Q(search_vector=query) | Q(title__icontains=q)).order_by(
            F("current_priority").desc(nulls_last=True), "-pk"
        )[:8]
    )


# --- Benefits -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BenefitSummary:
    estimated_hours: float | None
    estimated_cash: float | None
    realised_hours: float
    realised_cash: float
    benefits: list[Benefit]

    @property
    def has_realised(self) -> bool:
        return bool(self.benefits)


def benefit_summary(*, opportunity: Opportunity) -> BenefitSummary:
    """Estimated (the current score) against realised (the recorded benefits)."""
    score = opportunity.current_score if opportunity.current_score_id else None
    benefits = list(
        Benefit.objects.filter(opportunity_id=opportunity.pk).select_related("recorded_by")
    )
    totals = Benefit.objects.filter(opportunity_id=opportunity.pk).aggregate(
        hours=Sum("hours_per_year"), cash=Sum("cash_per_year")
    )
    return BenefitSummary(
        estimated_hours=score.hours_per_year if score else None,
        estimated_cash=score.cost_per_year if score else None,
        realised_hours=float(totals["hours"] or 0),
        realised_cash=float(totals["cash"] or 0),
        benefits=benefits,
    )
