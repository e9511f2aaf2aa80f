"""Merging a duplicate into the opportunity it repeats (CI team only).

The duplicate moves to ``duplicate`` with ``merged_into`` set; its supporters and followers
(and its submitter, as a follower) are carried over without double-counting anyone; the
status-change row and the "merged" notification are written in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from opportunities.errors import ApplicationError
from opportunities.models import Comment, Follow, Opportunity, Status, StatusChange, Support
from opportunities.services.workflow import MSG_STALE, TRANSITIONS
from synergy_portal.outbox import outbox_enqueue
from synergy_portal.permissions import Action, can

MSG_MERGE_FORBIDDEN = "Only the CI team can merge opportunities."
MSG_MERGE_SELF = "An opportunity cannot be merged into itself."
MSG_MERGE_STATUS = "{reference} is “{status}”, so it cannot be merged as a duplicate."
MSG_MERGE_CYCLE = (
    "{target} was itself merged into {duplicate}, so merging {duplicate} into it would make a "
    "loop. Nothing was changed."
)
MSG_MERGE_TARGET = (
    "{reference} is “{status}”: merge into an opportunity that is still open or delivered."
)


@dataclass(frozen=True)
class MergeResult:
    duplicate: Opportunity
    target: Opportunity
    status_change: StatusChange


@transaction.atomic
def opportunity_merge(
    *,
    actor: Any,
    duplicate_id: int,
    target_id: int,
    reason: str = "",
    expected_version: int | None = None,
) -> MergeResult:
    if not can(actor, Action.MERGE):
        raise ApplicationError(MSG_MERGE_FORBIDDEN, {"forbidden": True})
    if duplicate_id == target_id:
        raise ApplicationError(MSG_MERGE_SELF)
    # Lock both rows in id order, so two merges of the same pair cannot deadlock.
    locked = {
        o.pk: o
        for o in Opportunity.objects.select_for_update()
        .filter(pk__in=[duplicate_id, target_id])
        .order_by("pk")
    }
    duplicate, target = locked[duplicate_id], locked[target_id]
    if expected_version is not None and duplicate.version != expected_version:
        raise ApplicationError(
            MSG_STALE.format(current=duplicate.get_status_display(), version=duplicate.version)
        )
    if Status.DUPLICATE not in TRANSITIONS[Status(duplicate.status)]:
        raise ApplicationError(
            MSG_MERGE_STATUS.format(
                reference=duplicate.reference, status=duplicate.get_status_display()
            )
        )
    if _merged_into_chain(target) & {duplicate.pk}:
        raise ApplicationError(
            MSG_MERGE_CYCLE.format(target=target.reference, duplicate=duplicate.reference)
        )
    if target.status in (Status.DRAFT, Status.DUPLICATE, Status.WITHDRAWN, Status.REJECTED):
        raise ApplicationError(
            MSG_MERGE_TARGET.format(reference=target.reference, status=target.get_status_display())
        )

    now = timezone.now()
    from_status = duplicate.status
    duplicate.status = Status.DUPLICATE
    duplicate.merged_into = target
    duplicate.version += 1
    duplicate.updated_at = now
    duplicate.status_changed_at = now
    duplicate.next_update_due = None
    duplicate.save(
        update_fields=[
            "status",
            "merged_into",
            "version",
            "updated_at",
            "status_changed_at",
            "next_update_due",
        ]
    )
    reason = reason.strip() or f"Merged into {target.reference}."
    change = StatusChange(
        opportunity=duplicate,
        from_status=from_status,
        to_status=Status.DUPLICATE,
        actor=actor,
        reason=reason,
        created_at=now,
    )
    change.full_clean()
    change.save()

    # Carry over: the duplicate's supporters and its submitter support the target (not its own
    # submitter), and everyone following the duplicate follows the target.
    supporters = set(
        Support.objects.filter(opportunity=duplicate).values_list("user_id", flat=True)
    ) | {duplicate.submitter_id}
    supporters.discard(target.submitter_id)
    Support.objects.bulk_create(
        [Support(opportunity=target, user_id=uid, created_at=now) for uid in supporters],
        ignore_conflicts=True,
    )
    followers = set(
        Follow.objects.filter(opportunity=duplicate).values_list("user_id", flat=True)
    ) | {duplicate.submitter_id}
    Follow.objects.bulk_create(
        [Follow(opportunity=target, user_id=uid, created_at=now) for uid in followers],
        ignore_conflicts=True,
    )
    # Comments are copied (the duplicate's page keeps its own), each naming where it came from.
    Comment.objects.bulk_create(
        [
            Comment(
                opportunity=target,
                author_id=c.author_id,
                body=f"[From {duplicate.reference}] {c.body}",
                created_at=c.created_at,
            )
            for c in Comment.objects.filter(opportunity=duplicate, hidden_at__isnull=True)
            .only("author_id", "body", "created_at")
            .order_by("created_at", "pk")
        ]
    )
    target.supporters_count = Support.objects.filter(opportunity=target).aggregate(n=Count("id"))[
        "n"
    ]
    target.updated_at = now
    target.save(update_fields=["supporters_count", "updated_at"])
    outbox_enqueue(
        topic="opportunity.merged",
        payload={
            "opportunity_id": duplicate.pk,
            "target_id": target.pk,
            "status_change_id": change.pk,
        },
    )
    return MergeResult(duplicate=duplicate, target=target, status_change=change)


def _merged_into_chain(opp: Opportunity, limit: int = 50) -> set[int]:
    """The ids ``opp`` was merged into, following the chain (A into B into C ...)."""
    seen: set[int] = set()
    current = opp.merged_into_id
    while current is not None and current not in seen and len(seen) < limit:
        seen.add(current)
        current = (
            Opportunity.objects.filter(pk=current).values_list("merged_into_id", flat=True).first()
        )
    return seen
