"""The admins' extract page: recent batches, their timings and failures, and "run now"."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from reporting.selectors import batch_list, batch_summary
from reporting.services.requests import extract_request
from synergy_portal.permissions import Action, can

PAGE_SIZE = 50
MSG_QUEUED = "The extract has been queued. Refresh this page to follow it."
MSG_FULL_QUEUED = "A full rebuild has been queued. Refresh this page to follow it."
MSG_UNAVAILABLE = (
    "The reporting database cannot be reached, so the batches cannot be listed. Extracts "
    "will fail until it is back; the rest of the portal is working."
)


@login_required
@require_GET
def extracts_page(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Action.RUN_EXTRACT):
        raise PermissionDenied
    try:
        batches = list(batch_list()[:PAGE_SIZE])
    except OperationalError:
        return render(
            request,
            "reporting/extracts.html",
            {"batches": [], "unavailable": MSG_UNAVAILABLE},
            status=503,
        )
    return render(
        request,
        "reporting/extracts.html",
        {"batches": batches, **batch_summary(batches)},
    )


@login_required
@require_POST
def extract_run_now(request: HttpRequest) -> HttpResponse:
    full = request.POST.get("full") == "1"
    extract_request(actor=request.user, full=full)
    messages.success(request, MSG_FULL_QUEUED if full else MSG_QUEUED)
    return redirect("reporting:extracts")
