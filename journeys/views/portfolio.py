"""The application portfolio (``/applications/``): the technical-debt register."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from journeys.selectors import (
    PORTFOLIO_SORTS,
    application_portfolio,
    decommission_candidates,
    journeys_using,
)
from journeys.views import HtmxHttpRequest
from synergy_portal.permissions import Action, can

DEFAULT_SORT = "impact"
SORT_OPTIONS = [
    ("impact", "Impact"),
    ("open", "Open opportunities"),
    ("debt", "Debt rating"),
    ("lifecycle", "Lifecycle"),
    ("name", "Name"),
]


@require_GET
@login_required
def application_portfolio_page(request: HtmxHttpRequest) -> HttpResponse:
    if not can(request.user, Action.VIEW):
        raise PermissionDenied
    sort = request.GET.get("sort", DEFAULT_SORT)
    if sort not in PORTFOLIO_SORTS:
        sort = DEFAULT_SORT
    applications = application_portfolio(user=request.user, sort=sort)
    rows = [(app, journeys_using(app)) for app in applications]
    context = {
        "rows": rows,
        "sort": sort,
        "sort_options": SORT_OPTIONS,
        "candidates": [
            (app, journeys_using(app)) for app in decommission_candidates(applications=applications)
        ],
    }
    return render(request, "journeys/portfolio.html", context)
