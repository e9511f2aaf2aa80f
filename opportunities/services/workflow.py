"""The opportunity workflow: one state machine for the board, the pages and the API.

It owns the allowed transitions and their guards. Every transition locks the card, checks
its version (optimistic locking: a stale move is refused, never silently applied), writes a
status-change row and enqueues the notification in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from opportunities.errors import ApplicationError
from opportunities.models import OPEN_STATUSES, Opportunity, Status, StatusChange
from synergy_portal.outbox import outbox_enqueue
from synergy_portal.permissions import Action, can

S = Status

# A draft was never submitted, so it is not withdrawn: its author deletes it (and the model's
# check constraint wants a submission time on everything but a draft).
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.DRAFT: frozenset({S.SUBMITTED}),
    S.SUBMITTED: frozenset({S.TRIAGE, S.REJECTED, S.DUPLICATE, S.WITHDRAWN}),
    S.TRIAGE: frozenset({S.ASSESSING, S.BACKLOG, S.REJECTED, S.DUPLICATE, S.WITHDRAWN}),
    S.ASSESSING: frozenset({S.TRIAGE, S.BACKLOG, S.REJECTED, S.DUPLICATE, S.WITHDRAWN}),
    S.BACKLOG: frozenset({S.ASSESSING, S.IN_DELIVERY, S.REJECTED, S.DUPLICATE, S.WITHDRAWN}),
    S.IN_DELIVERY: frozenset({S.BACKLOG, S.DELIVERED}),
    S.DELIVERED: frozenset({S.BENEFITS_REALISED}),
    S.BENEFITS_REALISED: frozenset(),
    S.REJECTED: frozenset({S.TRIAGE}),
    S.DUPLICATE: frozenset(),
    S.WITHDRAWN: frozenset(),
}

# Moves the submitter makes themselves; every other move is the CI team's.
SUBMITTER_MOVES = frozenset({S.SUBMITTED, S.WITHDRAWN})

MSG_NOT_ALLOWED = "An opportunity cannot move from “{from_}” to “{to}”."
MSG_STALE = (
    "Someone else changed this opportunity while you were looking at it: it is now "
    "“{current}” (version {version}). Nothing was changed; check it and try again."
)
MSG_FORBIDDEN = "You do not have permission to move this opportunity to “{to}”."
MSG_NEEDS_SCORE = "Score it before it goes into the backlog."
MSG_NEEDS_OWNER_AND_CYCLE = "Give it an owner and a delivery cycle before delivery starts."
MSG_NEEDS_DELIVERY_NOTE = "Write a delivery note saying what was delivered."
MSG_NEEDS_BENEFIT = "Record the realised benefit first."
MSG_NEEDS_REASON = "Give a reason the submitter will read."
MSG_DUPLICATE_USES_MERGE = "Use “merge” to mark an opportunity as a duplicate."


@dataclass(frozen=True)
class TransitionResult:
    opportunity: Opportunity
    status_change: StatusChange


def allowed_targets(status: str) -> frozenset[Status]:
    return TRANSITIONS[Status(status)]


def _check_guards(opp: Opportunity, to: Status, reason: str, delivery_note: str) -> None:
    if to is S.BACKLOG and opp.current_score_id is None:
        raise ApplicationError(MSG_NEEDS_SCORE, {"field": "score"})
    if to is S.IN_DELIVERY and (opp.owner_id is None or opp.delivery_cycle_id is None):
        raise ApplicationError(MSG_NEEDS_OWNER_AND_CYCLE, {"field": "owner"})
    if to is S.DELIVERED and not (delivery_note or opp.delivery_note).strip():
        raise ApplicationError(MSG_NEEDS_DELIVERY_NOTE, {"field": "delivery_note"})
    if to is S.BENEFITS_REALISED and not opp.benefits.exists():
        raise ApplicationError(MSG_NEEDS_BENEFIT, {"field": "benefit"})
    if to is S.REJECTED and not reason.strip():
        raise ApplicationError(MSG_NEEDS_REASON, {"field": "reason"})


def _may_move(actor: Any, opp: Opportunity, to: Status) -> bool:
    if to in SUBMITTER_MOVES and opp.submitter_id == actor.pk:
        return to is not S.WITHDRAWN or can(actor, Action.WITHDRAW, opp)
    return can(actor, Action.MOVE_CARD, opp)


def _board_on_transition(opp: Opportunity, to: Status, now: Any) -> list[str]:
    """The board's share of every move: the deadlines it implies and, for a card joining a
    board column, a place at the end of that column. Returns the fields it set."""
    # Imported here: both modules build on this one.
    from opportunities.services import board, deadlines

    fields = deadlines.deadlines_on_transition(opp, to, now)
    if to in OPEN_STATUSES:
        opp.board_rank = board.rank_at_bottom(status=to.value, opportunity_id=opp.pk)
        fields.append("board_rank")
    return fields


@transaction.atomic
def opportunity_transition(
    *,
    actor: Any,
    opportunity_id: int,
    to_status: str,
    expected_version: int | None = None,
    reason: str = "",
    delivery_note: str = "",
) -> TransitionResult:
    """Move an opportunity to ``to_status``, or raise ApplicationError changing nothing."""
    to = Status(to_status)
    opp = Opportunity.objects.select_for_update().get(pk=opportunity_id)
    if expected_version is not None and opp.version != expected_version:
        raise ApplicationError(
            MSG_STALE.format(current=opp.get_status_display(), version=opp.version),
            {"current_status": opp.status, "current_version": opp.version},
        )
    from_ = Status(opp.status)
    if not _may_move(actor, opp, to):
        raise ApplicationError(MSG_FORBIDDEN.format(to=to.label), {"forbidden": True})
    if to not in TRANSITIONS[from_]:
        raise ApplicationError(MSG_NOT_ALLOWED.format(from_=from_.label, to=to.label))
    if to is S.DUPLICATE:
        raise ApplicationError(MSG_DUPLICATE_USES_MERGE)
    _check_guards(opp, to, reason, delivery_note)

    now = timezone.now()
    opp.status = to
    opp.version += 1
    opp.updated_at = now
    opp.status_changed_at = now
    fields = ["status", "version", "updated_at", "status_changed_at"]
    if to is S.SUBMITTED and opp.submitted_at is None:
        opp.submitted_at = now
        fields.append("submitted_at")
    if to is S.REJECTED:
        opp.rejection_reason = reason.strip()
        fields.append("rejection_reason")
    if to is S.DELIVERED and delivery_note.strip():
        opp.delivery_note = delivery_note.strip()
        fields.append("delivery_note")
    fields += _board_on_transition(opp, to, now)
    opp.save(update_fields=fields)

    change = StatusChange(
        opportunity=opp,
        from_status=from_,
        to_status=to,
        actor=actor,
        reason=reason.strip(),
        created_at=now,
    )
    change.full_clean()
    change.save()
    outbox_enqueue(
        topic="opportunity.status_changed",
        payload={"opportunity_id": opp.pk, "status_change_id": change.pk},
    )
    return TransitionResult(opportunity=opp, status_change=change)
