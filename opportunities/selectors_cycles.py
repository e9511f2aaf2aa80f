"""Reads for delivery cycles: the list with each cycle's load, and one cycle's page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.search import SearchQuery
from django.db.models import Count, F, Q, Sum

from opportunities.models import DeliveryCycle, Opportunity, Status
from opportunities.selectors import opportunity_visible_to

# --- Delivery cycles ----------------------------------------------------------------------


@dataclass
class CycleRow:
    cycle: DeliveryCycle
    items: int
    planned_days: float

    @property
    def over(self) -> bool:
        return self.planned_days > float(self.cycle.capacity_days)

    @property
    def meter_max(self) -> float:
        """A <meter> clamps to its max: over capacity, the bar must still show by how much."""
        return max(float(self.cycle.capacity_days), self.planned_days)


def cycles_list(*, limit: int = 40) -> list[CycleRow]:
    """Current and coming cycles first, then the most recent closed ones."""
    cycles = list(
        DeliveryCycle.objects.annotate(
            n=Count("opportunities"), days=Sum("opportunities__current_score__effort_days")
        ).order_by("-starts_on")[:limit]
    )
    active = [c for c in cycles if c.state != DeliveryCycle.State.CLOSED]
    closed = [c for c in cycles if c.state == DeliveryCycle.State.CLOSED]
    active.sort(key=lambda c: c.starts_on)
    return [CycleRow(c, c.n, float(c.days or 0)) for c in [*active, *closed]]


@dataclass
class CyclePage:
    cycle: DeliveryCycle
    items: list[Opportunity]
    planned_days: float
    unscored: int
    candidates: list[Opportunity]
    q: str

    @property
    def over(self) -> bool:
        return self.planned_days > float(self.cycle.capacity_days)

    @property
    def remaining(self) -> float:
        return float(self.cycle.capacity_days) - self.planned_days

    @property
    def meter_max(self) -> float:
        return max(float(self.cycle.capacity_days), self.planned_days)


def cycle_page(*, user: Any, cycle_id: int, q: str = "") -> CyclePage:
    cycle = DeliveryCycle.objects.get(pk=cycle_id)
    fields = (
        "reference",
        "title",
        "status",
        "version",
        "current_priority",
        "delivery_note",
        "journey__name",
        "owner__display_name",
        "owner__username",
        "current_score__effort_days",
        "current_score__fits_two_speed",
    )
    items = list(
        opportunity_visible_to(user=user)
        .filter(delivery_cycle=cycle)
        .select_related("journey", "owner", "current_score")
        .only(*fields)
        .order_by("status", F("current_priority").desc(nulls_last=True), "pk")
    )
    candidates_qs = (
        opportunity_visible_to(user=user)
        .filter(status=Status.BACKLOG)
        .exclude(delivery_cycle=cycle)
        .select_related("journey", "owner", "current_score", "delivery_cycle")
        .only(*fields, "delivery_cycle__name")
    )
    q = q.strip()[:200]
    if q:
        query = SearchQuery(q, search_type="websearch", config="english")
        candidates_qs = candidates_qs.filter(Q(search_vector=query) | Q(reference__iexact=q))
    candidates = list(
        candidates_qs.order_by(F("current_priority").desc(nulls_last=True), "pk")[:20]
    )
    planned = sum(
        (o.current_score.effort_days for o in items if o.current_score_id is not None), 0.0
    )
    return CyclePage(
        cycle=cycle,
        items=items,
        planned_days=round(planned, 1),
        unscored=sum(1 for o in items if o.current_score_id is None),
        candidates=candidates,
        q=q,
    )
