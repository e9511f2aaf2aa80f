"""Reads of journeys, steps and the application portfolio.

Every figure about opportunities is aggregated in the database over the opportunities the
user may see (``opportunity_visible_to``), so a count never reveals a restricted one. The
impact figures are those of each opportunity's current score; an open opportunity not yet
scored is counted but adds no hours or pounds (it has no score to explain them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Count,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404

from journeys.models import Application, Journey, JourneyRole, JourneyStep
from opportunities.models import OPEN_STATUSES, Opportunity
from opportunities.selectors import opportunity_visible_to

HEAT_BUCKETS = 5
HEAT_DECADES = 3


@dataclass(frozen=True)
class Heat:
    """Open opportunities' figures at one step (or journey, or application)."""

    count: int = 0
    scored: int = 0
    hours: float = 0.0
    impact: float = 0.0
    bucket: int = 0

    @property
    def unscored(self) -> int:
        return self.count - self.scored


@dataclass(frozen=True)
class StepHeat:
    step: JourneyStep
    heat: Heat


@dataclass
class JourneyMap:
    journey: Journey
    roles: list[JourneyRole]
    steps: list[StepHeat]
    retired: list[StepHeat]
    unlinked: Heat
    total: Heat
    worst: StepHeat | None = None
    selected: JourneyStep | None = None
    selected_opportunities: list[Opportunity] = field(default_factory=list)


def _open_visible(*, user: Any) -> QuerySet[Opportunity]:
    return opportunity_visible_to(user=user).filter(status__in=OPEN_STATUSES).order_by()


def heat_bucket(impact: float, count: int, worst: float) -> int:
    """0 for no open opportunity, else 1–5 on a log scale of the share of the worst step's
    impact: 5 within the worst's order of magnitude down to 1 at a thousandth of it or less
    (each shade about four times the one before). Impact spans orders of magnitude, so a
    linear scale would paint every step but one the same pale shade."""
    if count == 0:
        return 0
    if worst <= 0 or impact <= 0:
        return 1
    share = min(impact / worst, 1.0)
    return max(
        1, min(HEAT_BUCKETS, math.ceil(HEAT_BUCKETS * (1 + math.log10(share) / HEAT_DECADES)))
    )


def _heat_rows(*, user: Any, journey: Journey) -> dict[int | None, dict[str, Any]]:
    """One aggregate query: open visible opportunities of the journey, grouped by step."""
    rows = (
        _open_visible(user=user)
        .filter(journey=journey)
        .values("step_id")
        .annotate(
            count=Count("id"),
            scored=Count("current_score_id"),
            hours=Coalesce(Sum("current_score__hours_per_year"), Value(0.0)),
            impact=Coalesce(Sum("current_score__impact"), Value(0.0)),
        )
    )
    return {row["step_id"]: row for row in rows}


def _heat(row: dict[str, Any] | None, worst: float = 0.0) -> Heat:
    if not row:
        return Heat()
    return Heat(
        count=row["count"],
        scored=row["scored"],
        hours=float(row["hours"]),
        impact=float(row["impact"]),
        bucket=heat_bucket(float(row["impact"]), row["count"], worst),
    )


def _steps_prefetch() -> Prefetch:
    return Prefetch(
        "steps",
        queryset=JourneyStep.objects.order_by("position").prefetch_related(
            Prefetch("applications", queryset=Application.objects.order_by("name"))
        ),
    )


def journey_get(*, slug: str) -> Journey:
    journey = Journey.objects.select_related("owner", "department").filter(slug=slug).first()
    if journey is None:
        raise Http404("No such journey.")
    return journey


def journey_list(*, user: Any) -> list[Journey]:
    """Active journeys for the catalogue, each with roles, active steps and open figures.

    Five queries whatever the number of journeys, steps or opportunities.
    """
    open_here = _open_visible(user=user).filter(journey=OuterRef("pk"))
    journeys = list(
        Journey.objects.filter(is_active=True)
        .select_related("owner", "department")
        .prefetch_related(
            Prefetch(
                "journey_roles",
                queryset=JourneyRole.objects.select_related("role").order_by("role__name"),
            ),
            Prefetch(
                "steps",
                queryset=JourneyStep.objects.filter(retired_at__isnull=True)
                .order_by("position")
                .prefetch_related(
                    Prefetch("applications", queryset=Application.objects.order_by("name"))
                ),
                to_attr="active_steps",
            ),
        )
        .annotate(
            open_count=Coalesce(
                Subquery(
                    open_here.values("journey").annotate(n=Count("id")).values("n"),
                    output_field=IntegerField(),
                ),
                0,
            ),
            open_impact=Coalesce(
                Subquery(
                    open_here.values("journey")
                    .annotate(total=Sum("current_score__impact"))
                    .values("total"),
                    output_field=FloatField(),
                ),
                Value(0.0),
            ),
        )
        .order_by("name")
    )
    return journeys


def journey_map(*, user: Any, journey: Journey, selected_step_id: int | None = None) -> JourneyMap:
    """The journey's steps left to right with their heat; five or six queries in all."""
    roles = list(
        JourneyRole.objects.filter(journey=journey).select_related("role").order_by("role__name")
    )
    all_steps = list(
        JourneyStep.objects.filter(journey=journey)
        .order_by("position")
        .prefetch_related(Prefetch("applications", queryset=Application.objects.order_by("name")))
    )
    rows = _heat_rows(user=user, journey=journey)
    active = [s for s in all_steps if s.retired_at is None]
    retired = [s for s in all_steps if s.retired_at is not None]
    worst_impact = max((float(rows[s.pk]["impact"]) for s in active if s.pk in rows), default=0.0)
    steps = [StepHeat(s, _heat(rows.get(s.pk), worst_impact)) for s in active]
    retired_heat = [StepHeat(s, _heat(rows.get(s.pk))) for s in retired]
    total = Heat(
        count=sum(r["count"] for r in rows.values()),
        scored=sum(r["scored"] for r in rows.values()),
        hours=sum(float(r["hours"]) for r in rows.values()),
        impact=sum(float(r["impact"]) for r in rows.values()),
    )
    candidates = [s for s in steps if s.heat.count]
    worst = max(candidates, key=lambda s: (s.heat.impact, s.heat.count), default=None)
    result = JourneyMap(
        journey=journey,
        roles=roles,
        steps=steps,
        retired=retired_heat,
        unlinked=_heat(rows.get(None)),
        total=total,
        worst=worst,
    )
    if selected_step_id is not None:
        selected = next((s for s in all_steps if s.pk == selected_step_id), None)
        if selected is None:
            raise Http404("No such step on this journey.")
        result.selected = selected
        result.selected_opportunities = journey_step_opportunities(user=user, step=selected)
    return result


def journey_step_get(*, journey: Journey, step_id: int) -> JourneyStep:
    step = JourneyStep.objects.filter(journey=journey, pk=step_id).first()
    if step is None:
        raise Http404("No such step on this journey.")
    return step


def journey_step_opportunities(*, user: Any, step: JourneyStep) -> list[Opportunity]:
    """The open opportunities at a step that the user may see, highest priority first."""
    return list(
        _open_visible(user=user)
        .filter(step=step)
        .select_related("current_score")
        .only(
            "reference",
            "title",
            "status",
            "current_priority",
            "current_score__hours_per_year",
            "current_score__impact",
            "current_score__priority",
        )
        .order_by(F("current_priority").desc(nulls_last=True), "reference")
    )


# --- Application portfolio ------------------------------------------------------------------

PORTFOLIO_SORTS: dict[str, tuple[str, ...]] = {
    "impact": ("-open_impact", "-open_count", "name"),
    "open": ("-open_count", "-open_impact", "name"),
    "debt": ("-debt_rating", "-open_impact", "name"),
    "name": ("name",),
    "lifecycle": ("lifecycle", "name"),
}
DECOMMISSION_LIFECYCLES = (
    Application.Lifecycle.SUNSET,
    Application.Lifecycle.DECOMMISSION_PLANNED,
)


def _active_steps_using() -> Prefetch:
    return Prefetch(
        "steps",
        queryset=JourneyStep.objects.filter(retired_at__isnull=True, journey__is_active=True)
        .select_related("journey")
        .order_by("journey__name", "position"),
        to_attr="active_steps",
    )


def application_portfolio(*, user: Any, sort: str = "impact") -> list[Application]:
    """Every application with the journeys and steps that use it and its open opportunities'
    count, hours and impact (aggregated in the database); three queries."""
    order = PORTFOLIO_SORTS.get(sort, PORTFOLIO_SORTS["impact"])
    open_here = _open_visible(user=user).filter(applications=OuterRef("pk"))

    def total(expression: Any, name: str, output: Any) -> Coalesce:
        return Coalesce(
            Subquery(
                open_here.values("applications").annotate(**{name: expression}).values(name),
                output_field=output,
            ),
            Value(0, output_field=output) if isinstance(output, IntegerField) else Value(0.0),
        )

    return list(
        Application.objects.annotate(
            open_count=total(Count("id"), "n", IntegerField()),
            open_hours=total(Sum("current_score__hours_per_year"), "h", FloatField()),
            open_impact=total(Sum("current_score__impact"), "i", FloatField()),
        )
        .prefetch_related(_active_steps_using())
        .order_by(*order)
    )


def decommission_candidates(*, applications: list[Application]) -> list[Application]:
    """Sunset or decommission-planned applications still used by an active journey's steps
    (from the portfolio already loaded, so no further query)."""
    return [
        app
        for app in applications
        if app.lifecycle in DECOMMISSION_LIFECYCLES and getattr(app, "active_steps", None)
    ]


def journeys_using(app: Application) -> list[tuple[Journey, list[JourneyStep]]]:
    """Group an application's prefetched active steps by journey (no query)."""
    grouped: dict[int, tuple[Journey, list[JourneyStep]]] = {}
    for step in getattr(app, "active_steps", []):
        grouped.setdefault(step.journey_id, (step.journey, []))[1].append(step)
    return list(grouped.values())


def journey_editor_steps(*, journey: Journey) -> tuple[list[JourneyStep], list[JourneyStep]]:
    """The journey's active and retired steps for the editor, each with ``linked``: how many
    opportunities (of any status) point at it, which decides whether it may be deleted."""
    steps = list(
        JourneyStep.objects.filter(journey=journey)
        .annotate(linked=Count("opportunities"))
        .order_by("position")
        .prefetch_related(Prefetch("applications", queryset=Application.objects.order_by("name")))
    )
    return (
        [s for s in steps if s.retired_at is None],
        [s for s in steps if s.retired_at is not None],
    )
