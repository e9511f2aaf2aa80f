"""The dashboards (/dashboards/): one page per section, its figures region for htmx, and a CSV
of every figure. Managers, the CI team and admins only; every CSV is a security event."""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass, replace
from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from reporting.dashboards.charts import Section
from reporting.dashboards.filters import (
    PERIODS,
    DashboardFilterForm,
    DashboardFilters,
    FilterOptions,
    period_dates,
)
from reporting.dashboards.selectors import SECTIONS, options_get, section_get
from reporting.dashboards.selectors.base import (
    Batch,
    Context,
    batch_latest,
    refresh_minutes,
    reporting_snapshot,
)
from reporting.dashboards.selectors.overview import SLUG as OVERVIEW
from synergy_portal.permissions import Action, can
from synergy_portal.security_log import security_event

BODY_ID = "dashboard-body"
MSG_UNAVAILABLE = (
    "The reporting data cannot be read just now, so the figures cannot be shown. The rest of "
    "the portal is working; try again in a few minutes."
)

logger = logging.getLogger(__name__)


@dataclass
class Loaded:
    batch: Batch | None
    form: DashboardFilterForm | None = None
    filters: DashboardFilters | None = None
    options: FilterOptions | None = None
    section: Section | None = None
    unavailable: bool = False


def _load(request: HttpRequest, slug: str) -> Loaded:
    """The latest batch, the filters from the query string, and the section's figures, all
    read in one snapshot of the reporting database; ``unavailable`` when that database
    cannot be reached (the rest of the portal goes on working)."""
    try:
        return _read(request, slug)
    except OperationalError:
        logger.warning("The reporting database cannot be read", exc_info=True)
        return Loaded(batch=None, unavailable=True)


def _read(request: HttpRequest, slug: str) -> Loaded:
    with reporting_snapshot() as cursor:
        batch = batch_latest(cursor)
        if batch is None:
            return Loaded(batch=None)
        options = options_get(cursor, batch)
        form = DashboardFilterForm(request.GET or None, options=options, as_of=batch.as_of)
        filters = form.filters()
        section = section_get(slug, Context(cursor, filters, options, batch))
    return Loaded(batch, form, filters, options, section)


def _section_slug(section: str | None) -> str:
    slug = section or OVERVIEW
    if slug not in SECTIONS:
        raise Http404("No such dashboard.")
    return slug


QUICK_PERIODS = ("fq", "lfq", "fy", "12m")


def _stale(batch: Batch | None) -> bool:
    """The latest batch is older than two refresh intervals (and a few minutes' run time):
    a refresh has probably failed, and the figures are older than the caption promises."""
    if batch is None:
        return False
    allowed = timedelta(minutes=2 * refresh_minutes() + 10)
    return timezone.now() - batch.finished_at > allowed


def _quick_periods(loaded: Loaded) -> list[tuple[str, str, bool]]:
    """(label, query string, current) for one-click periods, keeping the other filters."""
    if loaded.filters is None or loaded.batch is None:
        return []
    links = []
    for period in QUICK_PERIODS:
        start, end = period_dates(period, loaded.batch.as_of)
        chosen = replace(loaded.filters, period=period, start=start, end=end)
        links.append((PERIODS[period], chosen.query_string(), loaded.filters.period == period))
    return links


@login_required
@require_GET
def dashboard_page(request: HttpRequest, section: str | None = None) -> HttpResponse:
    if not can(request.user, Action.VIEW_DASHBOARDS):
        raise PermissionDenied
    slug = _section_slug(section)
    loaded = _load(request, slug)
    context = {
        "info": SECTIONS[slug],
        "sections": SECTIONS.values(),
        "loaded": loaded,
        "batch": loaded.batch,
        "section": loaded.section,
        "form": loaded.form,
        "filters": loaded.filters,
        "query_string": loaded.filters.query_string() if loaded.filters else "",
        "described": loaded.filters.describe(loaded.options) if loaded.filters else "",
        "quick_periods": _quick_periods(loaded),
        "stale": _stale(loaded.batch),
        "refresh_minutes": refresh_minutes(),
        "may_download": can(request.user, Action.DOWNLOAD_CSV),
        "unavailable_message": MSG_UNAVAILABLE,
    }
    template = "reporting/dashboards/dashboard.html"
    if request.htmx and request.htmx.target == BODY_ID:
        template += "#body"
    return render(request, template, context, status=503 if loaded.unavailable else 200)


@login_required
@require_GET
def dashboard_csv(request: HttpRequest, section: str, chart: str) -> HttpResponse:
    if not can(request.user, Action.DOWNLOAD_CSV):
        raise PermissionDenied
    slug = _section_slug(section)
    loaded = _load(request, slug)
    if loaded.unavailable:
        return HttpResponse(MSG_UNAVAILABLE, status=503, content_type="text/plain; charset=utf-8")
    figure = loaded.section.chart(chart) if loaded.section else None
    if figure is None or loaded.batch is None or loaded.filters is None:
        raise Http404("No such figure.")
    security_event(
        "export.csv",
        request=request,
        chart=f"{slug}/{figure.slug}",
        batch_id=loaded.batch.batch_id,
        filters=loaded.filters.query_string(),
        rows=len(figure.rows),
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="synergy-{slug}-{figure.slug}-{loaded.batch.as_of:%Y-%m-%d}.csv"'
    )
    # A byte-order mark, so Excel reads the £ signs in the headings as UTF-8.
    response.write("\ufeff")
    writer = csv.writer(response, lineterminator="\r\n")
    writer.writerows(figure.csv_rows())
    return response
