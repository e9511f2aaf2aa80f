"""The journey catalogue (``/journeys/``) and a journey's map (``/journeys/<slug>/``)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from journeys.selectors import (
    journey_get,
    journey_list,
    journey_map,
    journey_step_get,
    journey_step_opportunities,
)
from journeys.views import HtmxHttpRequest
from synergy_portal.permissions import Action, can


def _step_param(request: HtmxHttpRequest) -> int | None:
    raw = request.GET.get("step", "")
    if not raw:
        return None
    if not raw.isdigit():
        raise Http404("No such step.")
    return int(raw)


@require_GET
@login_required
def journey_catalogue(request: HtmxHttpRequest) -> HttpResponse:
    if not can(request.user, Action.VIEW):
        raise PermissionDenied
    journeys = journey_list(user=request.user)
    editable = {j.pk for j in journeys if can(request.user, Action.EDIT_JOURNEY, j)}
    return render(request, "journeys/catalogue.html", {"journeys": journeys, "editable": editable})


@require_GET
@login_required
def journey_map_page(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """The map; with ``?step=<id>`` it also lists that step's open opportunities (and an htmx
    request gets that list alone)."""
    if not can(request.user, Action.VIEW):
        raise PermissionDenied
    journey = journey_get(slug=slug)
    can_edit = can(request.user, Action.EDIT_JOURNEY, journey)
    if not journey.is_active and not can_edit:
        raise Http404("No such journey.")
    step_id = _step_param(request)
    # A history restore (the Back button, with htmx keeping no copies) needs the whole page.
    if request.htmx and not request.htmx.history_restore_request and step_id is not None:
        step = journey_step_get(journey=journey, step_id=step_id)
        context = {
            "journey": journey,
            "step": step,
            "step_opportunities": journey_step_opportunities(user=request.user, step=step),
        }
        return render(request, "journeys/map.html#step_opportunities", context)
    data = journey_map(user=request.user, journey=journey, selected_step_id=step_id)
    return render(
        request, "journeys/map.html", {"map": data, "journey": journey, "can_edit": can_edit}
    )
