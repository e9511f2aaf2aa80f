"""The step editor (``/journeys/<slug>/edit/``) for the journey's owner and the CI team.

Every change is a plain form POST that works without JavaScript (the page redirects back to
the step it changed); with htmx the editor region is swapped in place, focus stays on the
control that was used and a status message is announced. Drag and drop posts the new order
through the same reorder endpoint the keyboard-free fallback uses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from journeys import services
from journeys.models import Journey
from journeys.selectors import journey_editor_steps, journey_get, journey_step_get
from journeys.views import HtmxHttpRequest
from opportunities.errors import ApplicationError
from synergy_portal.permissions import Action, can

# (message for the person, id of the control to focus next, anchor to return to)
Outcome = tuple[str, str, str]


def _journey_for_edit(request: HtmxHttpRequest, slug: str) -> Journey:
    journey = journey_get(slug=slug)
    if not can(request.user, Action.EDIT_JOURNEY, journey):
        raise PermissionDenied
    return journey


def _error_anchor(field: str, step_id: int | None) -> str:
    if field == "name":
        return f"name-{step_id}" if step_id else "add-name"
    if field == "typical_minutes":
        return f"minutes-{step_id}" if step_id else "add-minutes"
    return "steps-heading"


def _render(
    request: HtmxHttpRequest,
    journey: Journey,
    *,
    status_message: str = "",
    focus_id: str = "",
    error: str = "",
    error_field: str = "",
    error_step: int | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    active, retired = journey_editor_steps(journey=journey)
    kind, _, pk = focus_id.rpartition("-")
    focus_kind, focus_pk = (kind, int(pk)) if pk.isdigit() else (focus_id, None)
    context = {
        "journey": journey,
        "steps": active,
        "retired": retired,
        "status_message": status_message,
        "focus_kind": focus_kind,
        "focus_pk": focus_pk,
        "error_anchor": _error_anchor(error_field, error_step),
        "error": error,
        "error_field": error_field,
        "error_step": error_step,
        "values": values or {},
    }
    if request.htmx:
        # htmx swaps only 2xx answers: an error is shown in the region it replaces.
        return render(request, "journeys/edit.html#editor", context)
    return render(request, "journeys/edit.html", context, status=status)


def _run(
    request: HtmxHttpRequest,
    journey: Journey,
    change: Callable[[], Outcome],
    *,
    error_step: int | None = None,
) -> HttpResponse:
    try:
        message, focus_id, anchor = change()
    except ApplicationError as refusal:
        if refusal.extra.get("forbidden"):
            raise PermissionDenied from refusal
        return _render(
            request,
            journey,
            error=refusal.message,
            error_field=str(refusal.extra.get("field", "")),
            error_step=error_step,
            values=request.POST.dict(),
            focus_id="error-summary",
            status=400,
        )
    if request.htmx:
        return _render(request, journey, status_message=message, focus_id=focus_id)
    messages.success(request, message)
    return redirect(
        reverse("journeys:edit", args=[journey.slug]) + (f"#{anchor}" if anchor else "")
    )


@require_GET
@login_required
def journey_edit(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    return _render(request, _journey_for_edit(request, slug))


@require_POST
@login_required
def step_add(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    journey = _journey_for_edit(request, slug)

    def change() -> Outcome:
        step = services.journey_step_add(
            actor=request.user,
            journey_id=journey.pk,
            name=request.POST.get("name", ""),
            typical_minutes=request.POST.get("typical_minutes", "0"),
        )
        return (
            f"Added “{step.name}” at the end of the journey.",
            f"step-{step.pk}",
            f"step-{step.pk}",
        )

    return _run(request, journey, change)


@require_POST
@login_required
def step_update(request: HtmxHttpRequest, slug: str, step_id: int) -> HttpResponse:
    journey = _journey_for_edit(request, slug)
    step = journey_step_get(journey=journey, step_id=step_id)

    def change() -> Outcome:
        updated = services.journey_step_update(
            actor=request.user,
            step_id=step.pk,
            name=request.POST.get("name", ""),
            typical_minutes=request.POST.get("typical_minutes"),
        )
        return f"Saved “{updated.name}”.", f"step-{step.pk}", f"step-{step.pk}"

    return _run(request, journey, change, error_step=step.pk)


@require_POST
@login_required
def step_move(request: HtmxHttpRequest, slug: str, step_id: int) -> HttpResponse:
    journey = _journey_for_edit(request, slug)
    step = journey_step_get(journey=journey, step_id=step_id)
    direction = request.POST.get("direction", "")

    def change() -> Outcome:
        services.journey_step_move(actor=request.user, step_id=step.pk, direction=direction)
        active, _ = journey_editor_steps(journey=journey)
        index = next(i for i, s in enumerate(active) if s.pk == step.pk)
        at_edge = index == 0 if direction == services.UP else index == len(active) - 1
        focus = (
            direction
            if not at_edge
            else (services.DOWN if direction == services.UP else services.UP)
        )
        message = f"Moved “{step.name}” to position {index + 1} of {len(active)}."
        return message, f"move-{focus}-{step.pk}", f"step-{step.pk}"

    return _run(request, journey, change)


@require_POST
@login_required
def steps_reorder(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    journey = _journey_for_edit(request, slug)
    raw = request.POST.getlist("step")

    def change() -> Outcome:
        if not all(value.isdigit() for value in raw):
            raise ApplicationError(services.MSG_STALE_ORDER)
        ordered = services.journey_steps_reorder(
            actor=request.user, journey_id=journey.pk, step_ids=[int(v) for v in raw]
        )
        names = ", ".join(f"{i}. {s.name}" for i, s in enumerate(ordered, start=1))
        return f"Saved the new order: {names}.", "", ""

    return _run(request, journey, change)


@require_POST
@login_required
def step_retire(request: HtmxHttpRequest, slug: str, step_id: int) -> HttpResponse:
    journey = _journey_for_edit(request, slug)
    step = journey_step_get(journey=journey, step_id=step_id)

    def change() -> Outcome:
        services.journey_step_retire(actor=request.user, step_id=step.pk)
        message = f"Retired “{step.name}”. It is off the map; its opportunities keep their link."
        return message, f"restore-{step.pk}", "retired-steps"

    return _run(request, journey, change)


@require_POST
@login_required
def step_restore(request: HtmxHttpRequest, slug: str, step_id: int) -> HttpResponse:
    journey = _journey_for_edit(request, slug)
    step = journey_step_get(journey=journey, step_id=step_id)

    def change() -> Outcome:
        services.journey_step_restore(actor=request.user, step_id=step.pk)
        return f"Restored “{step.name}” to the map.", f"step-{step.pk}", f"step-{step.pk}"

    return _run(request, journey, change)


@require_POST
@login_required
def step_delete(request: HtmxHttpRequest, slug: str, step_id: int) -> HttpResponse:
    journey = _journey_for_edit(request, slug)
    step = journey_step_get(journey=journey, step_id=step_id)

    def change() -> Outcome:
        name = services.journey_step_delete(actor=request.user, step_id=step.pk)
        return f"Deleted “{name}”.", "steps-heading", ""

    return _run(request, journey, change)
