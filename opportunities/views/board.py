"""The triage board (``/board/``): columns, "load more", live updates, moves and settings.

Every view serves a whole page without JavaScript and, for htmx, just the regions that
changed: a move answers with the affected columns (out-of-band), so a drag that the server
refuses snaps back to where the card really is, with the reason shown above the board.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import trigger_client_event
from django_htmx.middleware import HtmxDetails

from opportunities.errors import ApplicationError
from opportunities.models import OPEN_STATUSES, Opportunity, Status
from opportunities.selectors import opportunity_visible_to
from opportunities.selectors_board import (
    BoardFilters,
    board_changes,
    board_get,
    column_more,
)
from opportunities.selectors_board_panel import panel_get
from opportunities.services.board import board_move
from opportunities.services.deadlines import board_settings_for_view, board_settings_update
from opportunities.services.workflow import TRANSITIONS
from synergy_portal.permissions import Action, can
from synergy_portal.ratelimits import limited

MSG_MOVED = "Moved {reference} to “{column}”."
MSG_REORDERED = "Moved {reference} within “{column}”."
MSG_SETTINGS_SAVED = "Board settings saved."
OPEN_VALUES = [s.value for s in OPEN_STATUSES]


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


# --- Shared -------------------------------------------------------------------------------


def require(request: HttpRequest, action: Action) -> None:
    if not can(request.user, action):
        raise PermissionDenied


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) < 10 else None


def board_state(request: HtmxHttpRequest) -> tuple[BoardFilters, dict[str, int], bool]:
    """The viewer's filters (from the board's URL), how deep each column is loaded, and
    whether the request came from the board page itself (so columns may be swapped in)."""
    data: QueryDict = request.GET
    on_board = False
    if request.htmx and request.htmx.current_url:
        parsed = urlsplit(request.htmx.current_url)
        if parsed.path == reverse("opportunities:board"):
            data, on_board = QueryDict(parsed.query), True
    elif request.method == "POST":
        data = QueryDict(request.POST.get("next", ""))
    source = request.POST if request.method == "POST" else request.GET
    shown = {}
    for status in OPEN_VALUES:
        n = _int(source.get(f"shown_{status}"))
        if n:
            shown[status] = n
    return BoardFilters.from_query(data), shown, on_board


def board_links(filters: BoardFilters) -> dict[str, str]:
    """What templates need to link back to the board as the viewer has it filtered."""
    return {"board_qs": filters.querystring(), "board_path": reverse("opportunities:board")}


def board_url(filters: BoardFilters, **changes: Any) -> str:
    query = filters.querystring(**changes)
    return reverse("opportunities:board") + (f"?{query}" if query else "")


def card_or_404(request: HttpRequest, reference: str) -> Opportunity:
    opp = (
        opportunity_visible_to(user=request.user)
        .only("reference", "status", "version", "board_rank", "title")
        .filter(reference=reference)
        .first()
    )
    if opp is None:
        raise Http404("No such opportunity.")
    return opp


def columns_response(
    request: HtmxHttpRequest,
    *,
    statuses: set[str] | None,
    notice: dict[str, Any] | None = None,
    status: int = 200,
    extra: dict[str, Any] | None = None,
    template: str = "opportunities/partials/board_oob.html",
) -> HttpResponse:
    """Re-render ``statuses``' columns (all when None), out of band, with a notice."""
    filters, shown, on_board = board_state(request)
    context: dict[str, Any] = {"notice": notice, **board_links(filters), **(extra or {})}
    if on_board and (statuses is None or statuses):
        wanted = sorted(statuses) if statuses is not None else None
        context["board"] = board_get(
            user=request.user, filters=filters, shown=shown, statuses=wanted, with_options=False
        )
        context["can_move"] = context["board"].can_move
    return render(request, template, context, status=status)


# --- The board ----------------------------------------------------------------------------


@require_GET
@login_required
def board(request: HtmxHttpRequest) -> HttpResponse:
    require(request, Action.VIEW_BOARD)
    filters = BoardFilters.from_query(request.GET)
    panel = None
    reference = request.GET.get("card", "")
    if reference:
        try:
            panel = panel_get(user=request.user, reference=reference)
        except Opportunity.DoesNotExist:
            messages.error(request, f"{reference} is not an opportunity you can see.")
    data = board_get(user=request.user, filters=filters)
    context = {
        "board": data,
        "can_move": data.can_move,
        "panel": panel,
        **board_links(filters),
        "statuses": OPEN_STATUSES,
    }
    return render(request, "opportunities/board.html", context)


@require_GET
@login_required
def board_more(request: HtmxHttpRequest, status: str) -> HttpResponse:
    """The next cards of one column: a fragment for "load more", or a page without JS."""
    require(request, Action.VIEW_BOARD)
    if status not in OPEN_VALUES:
        raise Http404("No such column.")
    filters = BoardFilters.from_query(request.GET)
    cursor = request.GET.get("cursor", "")
    cards, has_more, next_cursor = column_more(
        user=request.user, filters=filters, status=status, cursor=cursor
    )
    context = {
        "status": status,
        "label": Status(status).label,
        "cards": cards,
        "has_more": has_more,
        "cursor": next_cursor,
        **board_links(filters),
        "can_move": can(request.user, Action.MOVE_CARD),
        "shown": (_int(request.GET.get(f"shown_{status}")) or 0) + len(cards),
        "board_url": board_url(filters),
    }
    if request.htmx:
        return render(request, "opportunities/partials/board_more.html", context)
    return render(request, "opportunities/board_column_page.html", context)


@require_GET
@login_required
def board_changes_view(request: HtmxHttpRequest) -> HttpResponse:
    """Polled every few seconds: 204 when nothing moved, else the changed columns."""
    require(request, Action.VIEW_BOARD)
    since = _int(request.GET.get("since")) or 0
    marker, changed = board_changes(since=since)
    if marker == since:
        return HttpResponse(status=204)
    filters, _shown, _on_board = board_state(request)
    statuses: set[str] | None = changed
    if changed is None or (changed and filters.lanes):
        statuses = None
    # An empty set still answers: it moves the poller's marker on past the change.
    return columns_response(request, statuses=statuses, extra={"marker": marker})


# --- Moves --------------------------------------------------------------------------------


def _parse_move(request: HttpRequest, opp: Opportunity) -> dict[str, Any]:
    """The move asked for: from a drag (to, before, after), a card's menu (move=to:<status>,
    up, down, top, bottom) or the move form (to, position: top, bottom or a number)."""
    post = request.POST
    choice = post.get("move", "")
    to = post.get("to") or opp.status
    position: str | int | None = None
    if choice.startswith("to:"):
        to, position = choice[3:], "bottom"
    elif choice in ("up", "down", "top", "bottom"):
        to, position = opp.status, choice
    else:
        raw = (post.get("position") or "").strip()
        position = int(raw) if raw.isdigit() else raw if raw in ("top", "bottom") else None
    refs = {k: post.get(k, "").strip() for k in ("before", "after")}
    ids = dict(
        Opportunity.objects.filter(reference__in=[r for r in refs.values() if r]).values_list(
            "reference", "pk"
        )
    )
    return {
        "to_status": to,
        "position": position,
        "before_id": ids.get(refs["before"]),
        "after_id": ids.get(refs["after"]),
        "confirm_over_limit": post.get("confirm") == "1",
    }


def _move_menu(request: HtmxHttpRequest, opp: Opportunity) -> HttpResponse:
    """The card's menu. It carries the version the card showed, so a move from a card that
    is out of date is refused like a stale drag."""
    filters, _shown, _on_board = board_state(request)
    context = {
        "opportunity": opp,
        "version": _int(request.GET.get("version")) or opp.version,
        "targets": [
            (s.value, s.label) for s in OPEN_STATUSES if s in TRANSITIONS[Status(opp.status)]
        ],
        **board_links(filters),
    }
    return render(request, "opportunities/partials/board_move_menu.html", context)


def _move_page(
    request: HttpRequest,
    opp: Opportunity,
    *,
    error: str = "",
    confirm: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    filters, _shown, _on_board = board_state(request)  # type: ignore[arg-type]
    targets = (
        [(opp.status, Status(opp.status).label + " (reorder)")] if opp.status in OPEN_VALUES else []
    )
    targets += [(s.value, s.label) for s in OPEN_STATUSES if s in TRANSITIONS[Status(opp.status)]]
    context = {
        "opportunity": opp,
        "targets": targets,
        "error": error,
        "confirm": confirm,
        **board_links(filters),
        "board_url": board_url(filters),
        "post": request.POST if request.method == "POST" else {},
    }
    return render(request, "opportunities/board_move.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
@limited("write")
def card_move(request: HtmxHttpRequest, reference: str) -> HttpResponse:
    require(request, Action.MOVE_CARD)
    opp = card_or_404(request, reference)
    if request.method == "GET":
        if request.htmx and request.GET.get("menu"):
            return _move_menu(request, opp)
        return _move_page(request, opp)
    version = _int(request.POST.get("version"))
    move = _parse_move(request, opp)
    from_status = opp.status
    try:
        result = board_move(
            actor=request.user,
            opportunity_id=opp.pk,
            expected_version=version if version is not None else -1,
            **move,
        )
    except ApplicationError as refusal:
        if refusal.extra.get("forbidden"):
            raise PermissionDenied(refusal.message) from refusal
        return _move_refused(request, opp, move, refusal)
    moved = result.opportunity
    label = Status(result.to_status).label
    message = (MSG_MOVED if result.changed_column else MSG_REORDERED).format(
        reference=moved.reference, column=label
    )
    if not request.htmx:
        messages.success(request, message)
        if request.POST.get("return") == "card":
            return redirect("opportunities:board_card", reference=moved.reference)
        filters, _shown, _on_board = board_state(request)
        return redirect(board_url(filters) + f"#card-{moved.reference}")
    response = columns_response(
        request,
        statuses={from_status, result.to_status},
        notice={"level": "success", "text": message},
    )
    return trigger_client_event(response, "board:moved", {"ref": moved.reference}, after="settle")


def _move_refused(
    request: HtmxHttpRequest, opp: Opportunity, move: dict[str, Any], refusal: ApplicationError
) -> HttpResponse:
    current = Opportunity.objects.only("status").get(pk=opp.pk).status
    confirm = None
    if refusal.extra.get("over_limit"):
        confirm = {
            "url": reverse("opportunities:board_move", kwargs={"reference": opp.reference}),
            "fields": {
                "version": request.POST.get("version", ""),
                "to": move["to_status"],
                "position": move["position"] or "",
                "before": request.POST.get("before", ""),
                "after": request.POST.get("after", ""),
                "confirm": "1",
            },
        }
    if not request.htmx:
        return _move_page(request, opp, error=refusal.message, confirm=confirm, status=409)
    statuses = {current, opp.status}
    if move["to_status"] in OPEN_VALUES:
        statuses.add(move["to_status"])
    notice = {"level": "error", "text": refusal.message, "confirm": confirm, "ref": opp.reference}
    return columns_response(request, statuses=statuses, notice=notice, status=409)


# --- Settings -----------------------------------------------------------------------------


def _settings_context(values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    from synergy_portal.models import Role, User

    people = (
        User.objects.filter(is_active=True, groups__name=Role.CI_TEAM.value)
        .distinct()
        .order_by("display_name", "username")
    )
    return {
        "values": values,
        "errors": errors,
        "people": people,
        "columns": [(s.value, s.label) for s in OPEN_STATUSES],
    }


@require_http_methods(["GET", "POST"])
@login_required
@limited("write")
def board_settings_view(request: HtmxHttpRequest) -> HttpResponse:
    """WIP limits per column, the closing-the-loop clock and the CI lead(s) (CI team, admins)."""
    require(request, Action.MOVE_CARD)
    config, limits = board_settings_for_view()
    if request.method == "GET":
        values = {
            "first_response_working_days": str(config.first_response_working_days),
            "update_every_months": str(config.update_every_months),
            "amber_working_days": str(config.amber_working_days),
            "ci_leads": {str(pk) for pk in config.ci_leads.values_list("pk", flat=True)}
            if config.pk
            else set(),
            **{f"wip_{k}": "" if v is None else str(v) for k, v in limits.items()},
        }
        return render(request, "opportunities/board_settings.html", _settings_context(values, {}))
    post = request.POST
    values = {k: post.get(k, "").strip() for k in post if k != "csrfmiddlewaretoken"}
    values["ci_leads"] = set(post.getlist("ci_leads"))
    errors: dict[str, str] = {}
    numbers: dict[str, int] = {}
    for name, label, low, high in (
        ("first_response_working_days", "First response", 1, 60),
        ("update_every_months", "Update interval", 1, 12),
        ("amber_working_days", "Amber warning", 0, 20),
    ):
        n = _int(values.get(name))
        if n is None or not low <= n <= high:
            errors[name] = f"{label} must be a whole number from {low} to {high}"
        else:
            numbers[name] = n
    wip: dict[str, int | None] = {}
    for status in OPEN_VALUES:
        raw = values.get(f"wip_{status}", "")
        n = _int(raw)
        if raw and (n is None or n < 1 or n > 10_000):
            errors[f"wip_{status}"] = (
                f"The limit for “{Status(status).label}” must be a whole number above 0, or blank"
            )
        wip[status] = n if raw else None
    if not errors:
        board_settings_update(
            actor=request.user,
            ci_lead_ids=[int(v) for v in values["ci_leads"] if v.isdigit()],
            wip_limits=wip,
            **numbers,
        )
        messages.success(request, MSG_SETTINGS_SAVED)
        return redirect("opportunities:board_settings")
    return render(
        request, "opportunities/board_settings.html", _settings_context(values, errors), status=400
    )
