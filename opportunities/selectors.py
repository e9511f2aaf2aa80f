"""Reads of opportunities, with permissions applied here so no view can forget them."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from opportunities.models import OPEN_STATUSES, Opportunity, Status
from synergy_portal.permissions import can_see_restricted


def opportunity_visible_to(*, user: Any) -> QuerySet[Opportunity]:
    """Every opportunity the user may see: not drafts (but their own), not restricted ones
    (unless they submitted it or are CI team / admin)."""
    qs = Opportunity.objects.all()
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    own = Q(submitter_id=user.pk)
    if can_see_restricted(user):
        return qs.filter(~Q(status=Status.DRAFT) | own)
    return qs.filter((~Q(status=Status.DRAFT) & Q(is_restricted=False)) | own)


def home_summary(*, user: Any) -> dict[str, Any]:
    """Figures for the signed-in home page, in two queries."""
    visible = opportunity_visible_to(user=user)
    counts = visible.aggregate(
        open=Count("id", filter=Q(status__in=OPEN_STATUSES)),
        delivered=Count("id", filter=Q(status__in=[Status.DELIVERED, Status.BENEFITS_REALISED])),
        mine=Count("id", filter=Q(submitter_id=user.pk)),
    )
    recent = list(
        visible.exclude(status=Status.DRAFT)
        .select_related("journey")
        .only("reference", "title", "status", "submitted_at", "journey__name")
        .order_by("-submitted_at")[:5]
    )
    return {**counts, "recent": recent}
