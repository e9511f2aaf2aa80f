"""Reads of opportunities, with permissions applied here so no view can forget them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import connection
from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.functions import Substr
from django.utils import timezone

from opportunities.models import (
    OPEN_STATUSES,
    Attachment,
    Comment,
    Follow,
    Notification,
    Opportunity,
    Score,
    Status,
    StatusChange,
    Support,
)
from opportunities.selectors_scoring import score_explain_context
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
    """Figures for the signed-in home page. The force-wide counts (everything the user's
    kind of reader sees) come from the board's cached per-status counts, read afresh when any
    opportunity changes; the user's own figures and the five newest are read each time, from
    indexes."""
    from opportunities.selectors_board import board_marker, counts_cached

    seer = can_see_restricted(user)
    readable = Opportunity.objects.exclude(status=Status.DRAFT)
    if not seer:
        readable = readable.filter(is_restricted=False)
    per_status = counts_cached(
        readable, marker=board_marker(), scope="home:all" if seer else "home:public"
    )
    shared = {
        "open": sum(per_status.get(s.value, 0) for s in OPEN_STATUSES),
        "delivered": sum(per_status.get(s.value, 0) for s in DELIVERED_STATUSES),
    }
    # The user's own: all of them, and (for readers of public ones only) their restricted
    # ones, which the shared counts leave out.
    hidden = Q(is_restricted=True)
    extra = (
        {}
        if seer
        else {
            "open": Count("id", filter=hidden & Q(status__in=OPEN_STATUSES)),
            "delivered": Count("id", filter=hidden & Q(status__in=DELIVERED_STATUSES)),
        }
    )
    own = Opportunity.objects.filter(submitter_id=user.pk).aggregate(mine=Count("id"), **extra)
    recent = list(
        opportunity_visible_to(user=user)
        .exclude(status=Status.DRAFT)
        .select_related("journey")
        .only("reference", "title", "status", "submitted_at", "journey__name")
        .order_by(F("submitted_at").desc(nulls_last=True), "-id")[:5]
    )
    return {
        "open": shared["open"] + own.get("open", 0),
        "delivered": shared["delivered"] + own.get("delivered", 0),
        "mine": own["mine"],
        "recent": recent,
    }


DELIVERED_STATUSES = (Status.DELIVERED, Status.BENEFITS_REALISED)


# --- Submission, opportunity page, browse, "my opportunities" (issue 4) ----------------------


def supported_ids(*, user: Any, opportunity_ids: list[int]) -> set[int]:
    if not opportunity_ids or not getattr(user, "is_authenticated", False):
        return set()
    return set(
        Support.objects.filter(user_id=user.pk, opportunity_id__in=opportunity_ids).values_list(
            "opportunity_id", flat=True
        )
    )


# --- The opportunity page -------------------------------------------------------------------


@dataclass
class OpportunityPage:
    opportunity: Opportunity
    timeline: list[StatusChange]
    comments: list[Comment]
    attachments: list[Attachment]
    score: Score | None
    score_history: list[Score]
    calibration: Any
    supported: bool
    following: bool
    show_submitter: bool
    extra: dict[str, Any] = field(default_factory=dict)


def opportunity_get(*, user: Any, reference: str) -> Opportunity:
    """The opportunity if the user may see it; DoesNotExist otherwise (no existence leak)."""
    return (
        opportunity_visible_to(user=user)
        .defer("search_vector")
        .select_related("journey", "step", "department", "submitter", "merged_into")
        .get(reference=reference)
    )


def opportunity_page(*, user: Any, reference: str) -> OpportunityPage:
    """Everything the opportunity page shows, in a fixed number of queries."""
    opp = (
        opportunity_visible_to(user=user)
        .defer("search_vector")
        .select_related("journey", "step", "department", "submitter", "merged_into")
        .prefetch_related("applications", "dna_themes")
        .annotate(
            viewer_supports=Exists(
                Support.objects.filter(opportunity=OuterRef("pk"), user_id=user.pk)
            ),
            viewer_follows=Exists(
                Follow.objects.filter(opportunity=OuterRef("pk"), user_id=user.pk)
            ),
        )
        .get(reference=reference)
    )
    timeline = list(
        StatusChange.objects.filter(opportunity=opp)
        .exclude(to_status=Status.DRAFT)
        .order_by("created_at", "id")
    )
    comments = list(
        Comment.objects.filter(opportunity=opp)
        .select_related("author", "hidden_by")
        .order_by("created_at", "id")
    )
    attachments = list(Attachment.objects.filter(opportunity=opp).order_by("created_at", "id"))
    scores = score_explain_context(opportunity=opp)
    return OpportunityPage(
        opportunity=opp,
        timeline=timeline,
        comments=comments,
        attachments=attachments,
        score=scores["score"],
        score_history=scores["score_history"],
        calibration=scores["calibration"],
        supported=opp.viewer_supports,
        following=opp.viewer_follows,
        show_submitter=submitter_name_visible(user=user, opportunity=opp),
    )


def submitter_name_visible(*, user: Any, opportunity: Opportunity) -> bool:
    """Staff see the submitter's name only if the submitter allowed it; the CI team always."""
    return (
        opportunity.show_submitter_name
        or opportunity.submitter_id == getattr(user, "pk", None)
        or can_see_restricted(user)
    )


def typical_days_to_triage(*, window_days: int = 180) -> int | None:
    """Median calendar days from submission to the first triage move, over recent ones."""
    cutoff = timezone.now() - timedelta(days=window_days)
    table_change = StatusChange._meta.db_table
    table_opp = Opportunity._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT percentile_cont(0.5) WITHIN GROUP (
                ORDER BY EXTRACT(EPOCH FROM (c.created_at - o.submitted_at)))
            FROM {table_change} c JOIN {table_opp} o ON o.id = c.opportunity_id
            WHERE c.from_status = %s AND c.created_at >= %s AND o.submitted_at IS NOT NULL
            """,
            [Status.SUBMITTED.value, cutoff],
        )
        row = cursor.fetchone()
    if not row or row[0] is None:
        return None
    return max(1, round(float(row[0]) / 86400))


# --- Browse -------------------------------------------------------------------------------


def opportunity_browse_queryset(*, user: Any) -> QuerySet[Opportunity]:
    """What the browse page lists: every visible opportunity except drafts (even one's own).

    The filters and sort apply to this; the page then takes only ids (an index-only scan on
    the browse indexes, deep pages included) and loads those rows with opportunity_rows.
    """
    return opportunity_visible_to(user=user).exclude(status=Status.DRAFT)


def opportunity_rows(*, ids: list[int]) -> list[Opportunity]:
    """The browse cards for ``ids``, in that order, in one query."""
    rows = (
        Opportunity.objects.filter(pk__in=ids)
        .select_related("journey", "department")
        .only(
            "reference",
            "title",
            "status",
            "supporters_count",
            "current_priority",
            "submitted_at",
            "journey__name",
            "department__name",
        )
        .annotate(excerpt=Substr("problem", 1, 220))
    )
    by_pk = {row.pk: row for row in rows}
    return [by_pk[pk] for pk in ids if pk in by_pk]


# --- My opportunities ---------------------------------------------------------------------

ME_LIST_LIMIT = 50


@dataclass
class MePage:
    submissions: list[Opportunity]
    drafts: list[Opportunity]
    supported: list[Opportunity]
    followed: list[Opportunity]
    notifications: list[Notification]
    unread_count: int


def _me_list(qs: QuerySet[Opportunity]) -> list[Opportunity]:
    return list(
        qs.defer("search_vector", "problem", "better")
        .select_related("journey")
        .order_by("-status_changed_at", "-id")[:ME_LIST_LIMIT]
    )


def me_page(*, user: Any) -> MePage:
    visible = opportunity_visible_to(user=user)
    unread = Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True)
    return MePage(
        submissions=_me_list(visible.filter(submitter_id=user.pk).exclude(status=Status.DRAFT)),
        drafts=_me_list(visible.filter(submitter_id=user.pk, status=Status.DRAFT)),
        supported=_me_list(
            visible.filter(
                Exists(Support.objects.filter(opportunity=OuterRef("pk"), user_id=user.pk))
            )
        ),
        followed=_me_list(
            visible.filter(
                Exists(Follow.objects.filter(opportunity=OuterRef("pk"), user_id=user.pk))
            ).exclude(submitter_id=user.pk)
        ),
        notifications=list(
            unread.select_related("opportunity")
            .only("message", "created_at", "kind", "opportunity__reference", "read_at")
            .order_by("-created_at", "-id")[:ME_LIST_LIMIT]
        ),
        unread_count=unread.count(),
    )


def draft_attachments(*, opportunity: Opportunity) -> list[Attachment]:
    return list(Attachment.objects.filter(opportunity=opportunity).order_by("created_at", "id"))
