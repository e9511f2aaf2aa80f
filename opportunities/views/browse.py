"""Browse and search (/opportunities/): filters and sort in the query string; htmx swaps the
results region and pushes the URL, so every state of the page can be shared."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from opportunities.filters import OpportunityFilter
from opportunities.selectors import opportunity_browse_queryset, opportunity_rows, supported_ids
from synergy_portal.permissions import Action, can
from synergy_portal.ratelimits import limited

PAGE_SIZE = 20


@login_required
@require_GET
@limited("search", method="GET")
def browse(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Action.VIEW):
        raise PermissionDenied
    filterset = OpportunityFilter(
        request.GET or None, queryset=opportunity_browse_queryset(user=request.user)
    )
    paginator = Paginator(filterset.qs.values_list("pk", flat=True), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    rows = opportunity_rows(ids=list(page.object_list))
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "filter": filterset,
        "page_obj": page,
        "rows": rows,
        "supported": supported_ids(user=request.user, opportunity_ids=[r.pk for r in rows]),
        "query_string": params.urlencode(),
        "sort": filterset.current_sort(),
        "active_filters": filterset.active_filters(),
        "page_links": _page_links(page),
        "may_submit": can(request.user, Action.SUBMIT),
    }
    template = "opportunities/browse.html"
    if request.htmx and request.htmx.target == "results":
        template += "#results"
    return render(request, template, context)


def _page_links(page) -> list[int | None]:  # type: ignore[no-untyped-def]
    """Page numbers to link (GOV.UK pagination): first, last, and two either side; None
    marks a gap."""
    last = page.paginator.num_pages
    wanted = {1, last} | set(range(page.number - 1, page.number + 2))
    links: list[int | None] = []
    for number in sorted(n for n in wanted if 1 <= n <= last):
        if links and links[-1] is not None and number - links[-1] > 1:
            links.append(None)
        links.append(number)
    return links
