"""Delivery cycles (``/cycles/``): 2-Speed cycles of four working days, their capacity, the
backlog items planned into them and what they delivered."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from opportunities.errors import ApplicationError
from opportunities.models import DeliveryCycle, Opportunity
from opportunities.selectors import opportunity_visible_to
from opportunities.selectors_cycles import cycle_page, cycles_list
from opportunities.services.cycles import (
    CYCLE_WORKING_DAYS,
    cycle_create,
    cycle_end,
    cycle_plan,
    cycle_unplan,
    cycle_update,
)
from opportunities.views.board import HtmxHttpRequest, require
from synergy_portal.permissions import Action
from synergy_portal.ratelimits import limited

MSG_CREATED = "Cycle “{name}” created: {start:%-d %B} to {end:%-d %B %Y}."
MSG_PLANNED = "{reference} is planned into this cycle."
MSG_UNPLANNED = "{reference} is back in the backlog, out of this cycle."
MSG_UPDATED = "Cycle saved."
DEFAULT_CAPACITY = Decimal("8")


def _next_monday(today: date) -> date:
    return date.fromordinal(today.toordinal() + (7 - today.weekday()) % 7 or 7)


def _decimal(raw: str) -> Decimal | None:
    try:
        value = Decimal((raw or "").strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() and Decimal("0") <= value <= Decimal("999") else None


def _cycle_or_404(cycle_id: int) -> DeliveryCycle:
    cycle = DeliveryCycle.objects.filter(pk=cycle_id).first()
    if cycle is None:
        raise Http404("No such cycle.")
    return cycle


@require_http_methods(["GET", "POST"])
@login_required
@limited("write")
def cycles(request: HtmxHttpRequest) -> HttpResponse:
    require(request, Action.PLAN_CYCLE)
    errors: dict[str, str] = {}
    start = _next_monday(timezone.localdate())
    values: dict[str, Any] = {"name": "", "starts_on": start.isoformat(), "capacity": "8"}
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip() for k in ("name", "starts_on", "capacity")}
        try:
            starts_on = date.fromisoformat(values["starts_on"])
        except ValueError:
            errors["starts_on"] = "Enter the start date, for example 2026-12-07"
        capacity = _decimal(values["capacity"])
        if capacity is None:
            errors["capacity"] = "Capacity must be a number of delivery days from 0 to 999"
        if not errors:
            try:
                cycle = cycle_create(
                    actor=request.user,
                    name=values["name"],
                    starts_on=starts_on,
                    capacity_days=capacity,
                )
            except ApplicationError as refusal:
                errors[str(refusal.extra.get("field") or "name")] = refusal.message
            else:
                messages.success(
                    request,
                    MSG_CREATED.format(name=cycle.name, start=cycle.starts_on, end=cycle.ends_on),
                )
                return redirect("opportunities:cycle", cycle_id=cycle.pk)
    context = {
        "rows": cycles_list(),
        "values": values,
        "errors": errors,
        "working_days": CYCLE_WORKING_DAYS,
        "example_end": cycle_end(start),
    }
    return render(
        request, "opportunities/board_cycles.html", context, status=400 if errors else 200
    )


def _render_cycle(
    request: HtmxHttpRequest,
    cycle_id: int,
    *,
    errors: dict[str, str] | None = None,
    confirm: Opportunity | None = None,
    status: int = 200,
) -> HttpResponse:
    _cycle_or_404(cycle_id)
    page = cycle_page(user=request.user, cycle_id=cycle_id, q=request.GET.get("q", ""))
    context = {
        "page": page,
        "cycle": page.cycle,
        "errors": errors or {},
        "confirm": confirm,
        "states": DeliveryCycle.State.choices,
    }
    return render(request, "opportunities/board_cycle.html", context, status=status)


@require_GET
@login_required
def cycle(request: HtmxHttpRequest, cycle_id: int) -> HttpResponse:
    require(request, Action.PLAN_CYCLE)
    return _render_cycle(request, cycle_id)


def _opportunity(request: HtmxHttpRequest) -> Opportunity:
    opp = (
        opportunity_visible_to(user=request.user)
        .only("reference", "version", "status")
        .filter(reference=request.POST.get("reference", "").strip())
        .first()
    )
    if opp is None:
        raise Http404("No such opportunity.")
    return opp


@require_POST
@login_required
@limited("write")
def cycle_plan_view(request: HtmxHttpRequest, cycle_id: int) -> HttpResponse:
    require(request, Action.PLAN_CYCLE)
    _cycle_or_404(cycle_id)
    opp = _opportunity(request)
    try:
        cycle_plan(
            actor=request.user,
            cycle_id=cycle_id,
            opportunity_id=opp.pk,
            confirm_over_capacity=request.POST.get("confirm") == "1",
        )
    except ApplicationError as refusal:
        confirm = opp if refusal.extra.get("over_capacity") else None
        return _render_cycle(
            request, cycle_id, errors={"plan": refusal.message}, confirm=confirm, status=409
        )
    messages.success(request, MSG_PLANNED.format(reference=opp.reference))
    return redirect("opportunities:cycle", cycle_id=cycle_id)


@require_POST
@login_required
@limited("write")
def cycle_unplan_view(request: HtmxHttpRequest, cycle_id: int) -> HttpResponse:
    require(request, Action.PLAN_CYCLE)
    _cycle_or_404(cycle_id)
    opp = _opportunity(request)
    try:
        cycle_unplan(actor=request.user, opportunity_id=opp.pk)
    except ApplicationError as refusal:
        return _render_cycle(request, cycle_id, errors={"plan": refusal.message}, status=409)
    messages.success(request, MSG_UNPLANNED.format(reference=opp.reference))
    return redirect("opportunities:cycle", cycle_id=cycle_id)


@require_POST
@login_required
@limited("write")
def cycle_update_view(request: HtmxHttpRequest, cycle_id: int) -> HttpResponse:
    require(request, Action.PLAN_CYCLE)
    _cycle_or_404(cycle_id)
    capacity = _decimal(request.POST.get("capacity", ""))
    state = request.POST.get("state", "")
    if capacity is None or state not in DeliveryCycle.State.values:
        errors = {"capacity": "Capacity must be a number of delivery days from 0 to 999"}
        return _render_cycle(request, cycle_id, errors=errors, status=400)
    try:
        cycle_update(
            actor=request.user,
            cycle_id=cycle_id,
            state=state,
            outcome=request.POST.get("outcome", ""),
            capacity_days=capacity,
        )
    except ApplicationError as refusal:
        field = str(refusal.extra.get("field") or "outcome")
        return _render_cycle(request, cycle_id, errors={field: refusal.message}, status=400)
    messages.success(request, MSG_UPDATED)
    return redirect("opportunities:cycle", cycle_id=cycle_id)
