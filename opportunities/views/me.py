"""My opportunities (/me/): submissions, drafts, supported and followed, and notifications."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from opportunities.selectors import me_page
from opportunities.services.notifications import notifications_mark_read
from synergy_portal.permissions import Action, can
from synergy_portal.ratelimits import limited


@login_required
@require_GET
def me(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Action.VIEW):
        raise PermissionDenied
    return render(request, "opportunities/me.html", {"me": me_page(user=request.user)})


@login_required
@require_POST
@limited("write")
def notifications_read(request: HttpRequest) -> HttpResponse:
    """Mark one notification (``id``) or all of them read."""
    if not can(request.user, Action.VIEW):
        raise PermissionDenied
    raw = request.POST.get("id", "")
    ids = [int(raw)] if raw.isdigit() else None
    notifications_mark_read(actor=request.user, ids=ids)
    if request.htmx:
        return render(
            request, "opportunities/me.html#notifications", {"me": me_page(user=request.user)}
        )
    return redirect("opportunities:me")
