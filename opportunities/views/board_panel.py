"""The triage panel (``/board/cards/<ref>/``): a side panel over the board with htmx, its own
page without JavaScript. Journey, step, applications and owner; comment; reject with a
reason; merge into another opportunity; plan into a cycle; mark delivered. Scoring uses the
scoring screen's own form (loaded into the panel by board.js), and moving uses the board's
move endpoint.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from opportunities.errors import ApplicationError
from opportunities.models import DeliveryCycle, Opportunity, Status
from opportunities.selectors import opportunity_visible_to
from opportunities.selectors_board import board_get
from opportunities.selectors_board_panel import merge_candidates, panel_get
from opportunities.services.benefits import opportunity_deliver
from opportunities.services.board_triage import (
    opportunity_comment_update,
    opportunity_reject,
    opportunity_triage_update,
)
from opportunities.services.cycles import cycle_plan
from opportunities.services.merge import opportunity_merge
from opportunities.views.board import (
    HtmxHttpRequest,
    _int,
    board_links,
    board_state,
    card_or_404,
    require,
)
from synergy_portal.permissions import Action
from synergy_portal.ratelimits import limited

MSG_TRIAGED = "Saved the journey, applications and owner of {reference}."
MSG_COMMENTED = "Comment posted. The submitter and followers will be told."
MSG_REJECTED = "{reference} is not being taken forward. The submitter will see your reason."
MSG_MERGED = "{reference} was merged into {target}. Its supporters and followers moved there."
MSG_PLANNED = "{reference} is planned into {cycle}."
MSG_DELIVERED = "{reference} is delivered. Record its benefits once they can be measured."
MSG_NO_TARGET = "Choose the opportunity to merge into."
MSG_NO_CYCLE = "Choose a delivery cycle."


def render_panel(
    request: HtmxHttpRequest,
    reference: str,
    *,
    notice: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    statuses: set[str] | None = None,
    status: int = 200,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    """The panel (htmx, with ``statuses``' columns out of band when on the board) or the
    card's own page."""
    try:
        panel = panel_get(user=request.user, reference=reference)
    except Opportunity.DoesNotExist:
        raise Http404("No such opportunity.") from None
    filters, shown, on_board = board_state(request)
    context: dict[str, Any] = {
        "panel": panel,
        "panel_notice": notice,
        "errors": errors or {},
        "values": values or {},
        **board_links(filters),
        "in_panel": bool(request.htmx) and on_board,
        **(extra or {}),
    }
    if request.htmx:
        if on_board and statuses:
            context["board"] = board_get(
                user=request.user,
                filters=filters,
                shown=shown,
                statuses=sorted(statuses),
                with_options=False,
            )
            context["can_move"] = context["board"].can_move
        return render(
            request, "opportunities/partials/board_panel_response.html", context, status=status
        )
    return render(request, "opportunities/board_card.html", context, status=status)


def _done(
    request: HtmxHttpRequest, reference: str, message: str, statuses: set[str]
) -> HttpResponse:
    if not request.htmx:
        messages.success(request, message)
        return redirect("opportunities:board_card", reference=reference)
    return render_panel(
        request, reference, notice={"level": "success", "text": message}, statuses=statuses
    )


def _refused(
    request: HtmxHttpRequest,
    reference: str,
    refusal: ApplicationError,
    *,
    field: str,
    values: dict[str, Any],
    statuses: set[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    if refusal.extra.get("forbidden"):
        raise PermissionDenied(refusal.message)
    stale = bool(refusal.extra.get("stale") or "current_version" in refusal.extra)
    key = "form" if stale else str(refusal.extra.get("field") or field)
    current = Opportunity.objects.filter(reference=reference).values_list("status", flat=True)
    return render_panel(
        request,
        reference,
        notice={"level": "error", "text": refusal.message},
        errors={key: refusal.message},
        values=values,
        statuses=(statuses or set()) | set(current),
        status=409 if stale else 400,
        extra=extra,
    )


@require_GET
@login_required
def card(request: HtmxHttpRequest, reference: str) -> HttpResponse:
    require(request, Action.VIEW_BOARD)
    return render_panel(request, reference)


@require_POST
@login_required
@limited("write")
def card_triage(request: HtmxHttpRequest, reference: str) -> HttpResponse:
    require(request, Action.TRIAGE)
    opp = card_or_404(request, reference)
    post = request.POST
    place = post.get("place", "")
    journey_id = _int(place[2:]) if place.startswith("j:") else None
    step_id = _int(place[2:]) if place.startswith("s:") else None
    values = {
        "place": place,
        "owner": post.get("owner", ""),
        "applications": post.getlist("applications"),
    }
    try:
        opportunity_triage_update(
            actor=request.user,
            opportunity_id=opp.pk,
            expected_version=_int(post.get("version")),
            journey_id=journey_id,
            step_id=step_id,
            application_ids=[int(a) for a in post.getlist("applications") if a.isdigit()],
            owner_id=_int(post.get("owner")),
        )
    except ApplicationError as refusal:
        return _refused(request, reference, refusal, field="place", values=values)
    return _done(request, reference, MSG_TRIAGED.format(reference=reference), {opp.status})


@require_POST
@login_required
@limited("comment")
def card_comment(request: HtmxHttpRequest, reference: str) -> HttpResponse:
    require(request, Action.VIEW_BOARD)
    opp = card_or_404(request, reference)
    body = request.POST.get("body", "")
    try:
        opportunity_comment_update(actor=request.user, opportunity_id=opp.pk, body=body)
    except ApplicationError as refusal:
        return _refused(request, reference, refusal, field="body", values={"body": body})
    return _done(request, reference, MSG_COMMENTED, {opp.status})


@require_POST
@login_required
@limited("write")
def card_reject(request: HtmxHttpRequest, reference: str) -> HttpResponse:
    require(request, Action.MOVE_CARD)
    opp = card_or_404(request, reference)
    reason = request.POST.get("reason", "")
    try:
        opportunity_reject(
            actor=request.user,
            opportunity_id=opp.pk,
            expected_version=_int(request.POST.get("version")),
            reason=reason,
        )
    except ApplicationError as refusal:
        return _refused(request, reference, refusal, field="reason", values={"reason": reason})
    return _done(request, reference, MSG_REJECTED.format(reference=reference), {opp.status})


@require_http_methods(["GET", "POST"])
@login_required
@limited("write")
def card_merge(request: HtmxHttpRequest, reference: str) -> HttpResponse:
    """GET: search for the opportunity to merge into. POST: confirm, then merge."""
    require(request, Action.MERGE)
    opp = card_or_404(request, reference)
    if request.method == "GET":
        q = request.GET.get("q", "")
        results = merge_candidates(user=request.user, opportunity=opp, q=q)
        context = {"panel_opp": opp, "results": results, "q": q, "searched": bool(q.strip())}
        if request.htmx:
            return render(request, "opportunities/partials/board_merge_results.html", context)
        return render_panel(request, reference, values={"merge_q": q}, extra={"merge": context})
    target_ref = request.POST.get("target", "").strip()
    values = {"merge_q": target_ref}
    target = (
        opportunity_visible_to(user=request.user)
        .only("reference", "title", "status")
        .filter(reference__iexact=target_ref)
        .first()
        if target_ref
        else None
    )
    if target is None:
        problem = ApplicationError(MSG_NO_TARGET, {"field": "merge"})
        return _refused(request, reference, problem, field="merge", values=values)
    merge = {
        "actor": request.user,
        "duplicate_id": opp.pk,
        "target_id": target.pk,
        "reason": request.POST.get("reason", ""),
        "expected_version": _int(request.POST.get("version")),
    }
    if request.POST.get("confirm") != "1":
        problem = _merge_refusal(merge)
        if problem is not None:
            return _refused(request, reference, problem, field="merge", values=values)
        return render_panel(request, reference, values=values, extra={"merge_confirm": target})
    try:
        result = opportunity_merge(**merge)
    except ApplicationError as refusal:
        return _refused(request, reference, refusal, field="merge", values=values)
    message = MSG_MERGED.format(reference=reference, target=result.target.reference)
    return _done(request, reference, message, {opp.status, result.target.status})


class _DryRun(Exception):
    pass


def _merge_refusal(merge: dict[str, Any]) -> ApplicationError | None:
    """Would this merge be refused? The merge service answers, inside a savepoint that is
    always rolled back (its outbox rows and on-commit hooks go with it)."""
    try:
        with transaction.atomic():
            opportunity_merge(**merge)
            raise _DryRun
    except _DryRun:
        return None
    except ApplicationError as refusal:
        return refusal


@require_POST
@login_required
@limited("write")
def card_plan(request: HtmxHttpRequest, reference: str) -> HttpResponse:
    require(request, Action.PLAN_CYCLE)
    opp = card_or_404(request, reference)
    cycle_id = _int(request.POST.get("cycle"))
    values = {"cycle": request.POST.get("cycle", "")}
    if cycle_id is None or not DeliveryCycle.objects.filter(pk=cycle_id).exists():
        problem = ApplicationError(MSG_NO_CYCLE, {"field": "cycle"})
        return _refused(request, reference, problem, field="cycle", values=values)
    try:
        planned = cycle_plan(
            actor=request.user,
            cycle_id=cycle_id,
            opportunity_id=opp.pk,
            expected_version=_int(request.POST.get("version")),
            confirm_over_capacity=request.POST.get("confirm") == "1",
        )
    except ApplicationError as refusal:
        extra = {"plan_confirm": cycle_id} if refusal.extra.get("over_capacity") else None
        return _refused(request, reference, refusal, field="cycle", values=values, extra=extra)
    message = MSG_PLANNED.format(reference=reference, cycle=planned.delivery_cycle)
    return _done(request, reference, message, {opp.status})


@require_POST
@login_required
@limited("write")
def card_deliver(request: HtmxHttpRequest, reference: str) -> HttpResponse:
    require(request, Action.MOVE_CARD)
    opp = card_or_404(request, reference)
    note = request.POST.get("delivery_note", "")
    try:
        opportunity_deliver(
            actor=request.user,
            opportunity_id=opp.pk,
            expected_version=_int(request.POST.get("version")),
            delivery_note=note,
        )
    except ApplicationError as refusal:
        return _refused(
            request, reference, refusal, field="delivery_note", values={"delivery_note": note}
        )
    return _done(
        request, reference, MSG_DELIVERED.format(reference=reference), {Status.IN_DELIVERY.value}
    )
