"""Writes for taking part: support ("me too"), follow, comments and their moderation.

Support is once per person (the unique constraint ``support_once_per_person``); the counter on
the opportunity moves with an F() update in the same transaction as the row, so concurrent
clicks can neither double-count nor lose a count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from opportunities.errors import ApplicationError
from opportunities.models import Comment, Follow, Opportunity, Status, Support
from synergy_portal.outbox import outbox_enqueue
from synergy_portal.permissions import Action, can

COMMENT_EDIT_WINDOW = timedelta(minutes=15)
COMMENT_MAX_LENGTH = 5000

MSG_CANNOT_SEE = "You cannot see that opportunity."
MSG_SUPPORT_OWN = "You raised this opportunity, so it already counts your view."
MSG_SUPPORT_CLOSED = "{reference} is {status}, so it cannot be supported any more."
MSG_COMMENT_EMPTY = "Write a comment."
MSG_COMMENT_TOO_LONG = "Comments must be {limit} characters or fewer."
MSG_COMMENT_NOT_YOURS = "You can only edit your own comments."
MSG_COMMENT_EDIT_EXPIRED = "Comments can only be edited for 15 minutes after they are posted."
MSG_COMMENT_HIDDEN = "This comment has been hidden by the CI team and cannot be edited."
MSG_HIDE_FORBIDDEN = "Only the CI team can hide comments."
MSG_HIDE_NEEDS_REASON = "Say why the comment is being hidden."
MSG_CLOSED_FOR_COMMENTS = "{reference} is a draft, so it cannot take comments yet."

UNSUPPORTABLE = frozenset({Status.DRAFT, Status.DUPLICATE, Status.WITHDRAWN})


@dataclass(frozen=True)
class SupportResult:
    opportunity: Opportunity
    supported: bool
    changed: bool
    supporters_count: int


def _opportunity_for(actor: Any, opportunity_id: int, action: Action) -> Opportunity:
    opp = Opportunity.objects.get(pk=opportunity_id)
    if not can(actor, action, opp):
        raise ApplicationError(MSG_CANNOT_SEE, {"forbidden": True})
    return opp


def _count(opportunity_id: int) -> int:
    return Opportunity.objects.values_list("supporters_count", flat=True).get(pk=opportunity_id)


@transaction.atomic
def opportunity_support(*, actor: Any, opportunity_id: int) -> SupportResult:
    """Add the actor's "me too" (once; a second call changes nothing). Also follows it."""
    opp = _opportunity_for(actor, opportunity_id, Action.SUPPORT)
    if opp.submitter_id == actor.pk:
        raise ApplicationError(MSG_SUPPORT_OWN)
    if opp.status in UNSUPPORTABLE:
        raise ApplicationError(
            MSG_SUPPORT_CLOSED.format(
                reference=opp.reference, status=opp.get_status_display().lower()
            )
        )
    try:
        with transaction.atomic():
            _, created = Support.objects.get_or_create(opportunity_id=opp.pk, user_id=actor.pk)
    except IntegrityError:
        # Lost a race with the same person's other click: theirs counted, this one does not.
        created = False
    if created:
        Opportunity.objects.filter(pk=opp.pk).update(supporters_count=F("supporters_count") + 1)
        _follow(opp.pk, actor.pk)
    return SupportResult(opp, supported=True, changed=created, supporters_count=_count(opp.pk))


@transaction.atomic
def opportunity_unsupport(*, actor: Any, opportunity_id: int) -> SupportResult:
    opp = _opportunity_for(actor, opportunity_id, Action.VIEW)
    deleted, _ = Support.objects.filter(opportunity_id=opp.pk, user_id=actor.pk).delete()
    if deleted:
        Opportunity.objects.filter(pk=opp.pk, supporters_count__gt=0).update(
            supporters_count=F("supporters_count") - 1
        )
    return SupportResult(
        opp, supported=False, changed=bool(deleted), supporters_count=_count(opp.pk)
    )


def _follow(opportunity_id: int, user_id: int) -> bool:
    try:
        with transaction.atomic():
            _, created = Follow.objects.get_or_create(
                opportunity_id=opportunity_id, user_id=user_id
            )
    except IntegrityError:
        created = False
    return created


@transaction.atomic
def opportunity_follow(*, actor: Any, opportunity_id: int) -> bool:
    """Follow an opportunity (idempotent). True when the actor was not following it before."""
    opp = _opportunity_for(actor, opportunity_id, Action.FOLLOW)
    return _follow(opp.pk, actor.pk)


@transaction.atomic
def opportunity_unfollow(*, actor: Any, opportunity_id: int) -> bool:
    opp = _opportunity_for(actor, opportunity_id, Action.VIEW)
    deleted, _ = Follow.objects.filter(opportunity_id=opp.pk, user_id=actor.pk).delete()
    return bool(deleted)


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise ApplicationError(MSG_COMMENT_EMPTY, {"field": "body"})
    if len(body) > COMMENT_MAX_LENGTH:
        raise ApplicationError(
            MSG_COMMENT_TOO_LONG.format(limit=f"{COMMENT_MAX_LENGTH:,}"), {"field": "body"}
        )
    return body


@transaction.atomic
def comment_add(*, actor: Any, opportunity_id: int, body: str) -> Comment:
    """Post a comment; the submitter and followers hear about it (batched e-mail)."""
    opp = _opportunity_for(actor, opportunity_id, Action.COMMENT)
    if opp.status == Status.DRAFT:
        raise ApplicationError(MSG_CLOSED_FOR_COMMENTS.format(reference=opp.reference))
    comment = Comment(
        opportunity=opp, author=actor, body=_clean_body(body), created_at=timezone.now()
    )
    comment.full_clean()
    comment.save()
    outbox_enqueue(topic="opportunity.commented", payload={"comment_id": comment.pk})
    return comment


def comment_editable(comment: Comment, actor: Any, *, now: Any = None) -> bool:
    now = now or timezone.now()
    return (
        comment.author_id == getattr(actor, "pk", None)
        and comment.hidden_at is None
        and now - comment.created_at <= COMMENT_EDIT_WINDOW
    )


@transaction.atomic
def comment_edit(*, actor: Any, comment_id: int, body: str) -> Comment:
    comment = Comment.objects.select_for_update().get(pk=comment_id)
    if comment.author_id != actor.pk:
        raise ApplicationError(MSG_COMMENT_NOT_YOURS, {"forbidden": True})
    if comment.hidden_at is not None:
        raise ApplicationError(MSG_COMMENT_HIDDEN)
    if not comment_editable(comment, actor):
        raise ApplicationError(MSG_COMMENT_EDIT_EXPIRED)
    body = _clean_body(body)
    if body != comment.body:
        comment.body = body
        comment.edited_at = timezone.now()
        comment.full_clean()
        comment.save(update_fields=["body", "edited_at"])
    return comment


@transaction.atomic
def comment_hide(*, actor: Any, comment_id: int, reason: str) -> Comment:
    """Moderation: the CI team hides a comment, with a reason everyone sees in its place."""
    comment = Comment.objects.select_for_update().select_related("opportunity").get(pk=comment_id)
    if not can(actor, Action.MODERATE_COMMENT) or not can(actor, Action.VIEW, comment.opportunity):
        raise ApplicationError(MSG_HIDE_FORBIDDEN, {"forbidden": True})
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(MSG_HIDE_NEEDS_REASON, {"field": "reason"})
    comment.hidden_at = timezone.now()
    comment.hidden_by = actor
    comment.hidden_reason = reason[:200]
    comment.full_clean()
    comment.save(update_fields=["hidden_at", "hidden_by", "hidden_reason"])
    return comment
