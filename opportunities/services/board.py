"""Writes for the triage board: a card's place in its column, and moves between columns.

Order within a column is a string key, ``board_rank`` (collation "C", so the database sorts it
byte by byte exactly as Python compares it). A moved card gets a key strictly between its new
neighbours' keys (fractional indexing), so a move writes one row and no column is ever
renumbered. Keys follow rocicorp's fractional-indexing scheme (an integer part whose first
character says its length, then a fraction that never ends in "0"), so appending at the end
grows keys logarithmically rather than by a character every few moves.

Cards whose keys cannot be placed between (two cards that share a key, such as the model's
default "n", or a key written by something else) are given fresh keys as one small cluster,
just once; ties are broken by id until then.

A move that changes the column goes through the workflow (guards, status change, audit,
notifications); a move within a column is a rank-only write. Both lock the card, check its
version and bump it, so a stale move is refused, never silently applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from opportunities.errors import ApplicationError
from opportunities.models import OPEN_STATUSES, BoardColumn, Opportunity, Status
from opportunities.services.workflow import MSG_STALE, opportunity_transition
from synergy_portal.permissions import Action, can

# --- Keys ---------------------------------------------------------------------------------

DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SMALLEST_INTEGER = "A" + DIGITS[0] * 26
# Longer keys are still correct, but a column that produced one is re-spread locally.
MAX_KEY_LENGTH = 48


class RankError(ValueError):
    """No key can be made between these two (equal, out of order or malformed keys)."""


def _integer_length(head: str) -> int:
    if "a" <= head <= "z":
        return ord(head) - ord("a") + 2
    if "A" <= head <= "Z":
        return ord("Z") - ord(head) + 2
    raise RankError(f"invalid key head {head!r}")


def _integer_part(key: str) -> str:
    length = _integer_length(key[0])
    if length > len(key):
        raise RankError(f"invalid key {key!r}")
    return key[:length]


def rank_is_valid(key: str | None) -> bool:
    """True when ``key`` can be used as a neighbour for :func:`rank_between`."""
    if not key or key == _SMALLEST_INTEGER or any(ch not in DIGITS for ch in key):
        return False
    try:
        integer = _integer_part(key)
    except RankError:
        return False
    return not key[len(integer) :].endswith(DIGITS[0])


def _midpoint(a: str, b: str | None) -> str:
    """A fraction strictly between fractions ``a`` and ``b`` (``None``: above everything)."""
    if b is not None:
        n = 0
        while n < len(b) and (a[n] if n < len(a) else DIGITS[0]) == b[n]:
            n += 1
        if n > 0:
            return b[:n] + _midpoint(a[n:], b[n:])
    digit_a = DIGITS.index(a[0]) if a else 0
    digit_b = DIGITS.index(b[0]) if b is not None else len(DIGITS)
    if digit_b - digit_a > 1:
        return DIGITS[round(0.5 * (digit_a + digit_b))]
    if b is not None and len(b) > 1:
        return b[0]
    return DIGITS[digit_a] + _midpoint(a[1:], None)


def _increment(integer: str) -> str | None:
    head, digits = integer[0], list(integer[1:])
    for i in range(len(digits) - 1, -1, -1):
        d = DIGITS.index(digits[i]) + 1
        if d < len(DIGITS):
            digits[i] = DIGITS[d]
            return head + "".join(digits)
        digits[i] = DIGITS[0]
    if head == "Z":
        return "a" + DIGITS[0]
    if head == "z":
        return None
    new_head = chr(ord(head) + 1)
    if new_head > "a":
        digits.append(DIGITS[0])
    else:
        digits.pop()
    return new_head + "".join(digits)


def _decrement(integer: str) -> str | None:
    head, digits = integer[0], list(integer[1:])
    for i in range(len(digits) - 1, -1, -1):
        d = DIGITS.index(digits[i]) - 1
        if d >= 0:
            digits[i] = DIGITS[d]
            return head + "".join(digits)
        digits[i] = DIGITS[-1]
    if head == "a":
        return "Z" + DIGITS[-1]
    if head == "A":
        return None
    new_head = chr(ord(head) - 1)
    if new_head < "Z":
        digits.append(DIGITS[-1])
    else:
        digits.pop()
    return new_head + "".join(digits)


def rank_between(a: str | None, b: str | None) -> str:
    """A key strictly between ``a`` and ``b`` (``None``: the start or the end of the column)."""
    for key in (a, b):
        if key is not None and not rank_is_valid(key):
            raise RankError(f"invalid key {key!r}")
    if a is not None and b is not None and a >= b:
        raise RankError(f"{a!r} is not before {b!r}")
    if a is None:
        if b is None:
            return "a" + DIGITS[0]
        int_b = _integer_part(b)
        if int_b == _SMALLEST_INTEGER:
            return int_b + _midpoint("", b[len(int_b) :])
        if int_b < b:
            return int_b
        lower = _decrement(int_b)
        if lower is None:
            raise RankError("no key below the smallest")
        return lower
    int_a = _integer_part(a)
    frac_a = a[len(int_a) :]
    if b is None:
        higher = _increment(int_a)
        return int_a + _midpoint(frac_a, None) if higher is None else higher
    int_b = _integer_part(b)
    if int_a == int_b:
        return int_a + _midpoint(frac_a, b[len(int_b) :])
    higher = _increment(int_a)
    if higher is None:
        raise RankError("no key above the largest")
    return higher if higher < b else int_a + _midpoint(frac_a, None)


def ranks_between(a: str | None, b: str | None, n: int) -> list[str]:
    """``n`` increasing keys strictly between ``a`` and ``b``."""
    if n <= 0:
        return []
    if n == 1:
        return [rank_between(a, b)]
    if b is None:
        keys = [rank_between(a, None)]
        for _ in range(n - 1):
            keys.append(rank_between(keys[-1], None))
        return keys
    if a is None:
        keys = [rank_between(None, b)]
        for _ in range(n - 1):
            keys.append(rank_between(None, keys[-1]))
        return keys[::-1]
    mid = n // 2
    c = rank_between(a, b)
    return [*ranks_between(a, c, mid), c, *ranks_between(c, b, n - mid - 1)]


# --- Placing a card in a column -----------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """A card's place in the column order: (rank, id)."""

    rank: str
    id: int


def _column(status: str, exclude_id: int) -> Any:
    return Opportunity.objects.filter(status=status).exclude(pk=exclude_id)


def _after(status: str, slot: Slot | None, exclude_id: int) -> Slot | None:
    """The card directly below ``slot`` (the first card when ``slot`` is None)."""
    qs = _column(status, exclude_id)
    if slot is not None:
        qs = qs.filter(Q(board_rank__gt=slot.rank) | Q(board_rank=slot.rank, pk__gt=slot.id))
    row = qs.order_by("board_rank", "pk").values_list("board_rank", "pk").first()
    return Slot(*row) if row else None


def _before(status: str, slot: Slot | None, exclude_id: int) -> Slot | None:
    """The card directly above ``slot`` (the last card when ``slot`` is None)."""
    qs = _column(status, exclude_id)
    if slot is not None:
        qs = qs.filter(Q(board_rank__lt=slot.rank) | Q(board_rank=slot.rank, pk__lt=slot.id))
    row = qs.order_by("-board_rank", "-pk").values_list("board_rank", "pk").first()
    return Slot(*row) if row else None


def _slot_of(status: str, opportunity_id: int | None, exclude_id: int) -> Slot | None:
    if opportunity_id is None or opportunity_id == exclude_id:
        return None
    row = (
        Opportunity.objects.filter(pk=opportunity_id, status=status)
        .values_list("board_rank", "pk")
        .first()
    )
    return Slot(*row) if row else None


def _respread(status: str, lower: Slot | None, upper: Slot | None, moved_id: int) -> str:
    """Fresh keys for the cards from ``lower`` to ``upper`` (and any neighbours sharing their
    keys or holding malformed ones), with a free key for the moved card between the two."""
    qs = _column(status, moved_id)
    low_key = lower.rank if lower else None
    high_key = upper.rank if upper else None
    window_q = Q()
    if low_key is not None:
        window_q &= Q(board_rank__gte=low_key)
    if high_key is not None:
        window_q &= Q(board_rank__lte=high_key)
    window = [
        Slot(*r)
        for r in qs.filter(window_q).order_by("board_rank", "pk").values_list("board_rank", "pk")
    ]
    # Widen past neighbours whose keys cannot serve as bounds, and past keys that grew long.
    bound_low = _before(status, window[0], moved_id) if window else _before(status, None, moved_id)
    while bound_low is not None and not rank_is_valid(bound_low.rank):
        window[:0] = [
            Slot(*r)
            for r in qs.filter(board_rank=bound_low.rank, pk__lte=bound_low.id)
            .order_by("pk")
            .values_list("board_rank", "pk")
        ]
        bound_low = _before(status, window[0], moved_id)
    bound_high = _after(status, window[-1], moved_id) if window else None
    while bound_high is not None and not rank_is_valid(bound_high.rank):
        window.extend(
            Slot(*r)
            for r in qs.filter(board_rank=bound_high.rank, pk__gte=bound_high.id)
            .order_by("pk")
            .values_list("board_rank", "pk")
        )
        bound_high = _after(status, window[-1], moved_id)
    split = 0
    if lower is not None:
        split = next(i for i, s in enumerate(window) if s.id == lower.id) + 1
    keys = ranks_between(
        bound_low.rank if bound_low else None,
        bound_high.rank if bound_high else None,
        len(window) + 1,
    )
    moved_key = keys.pop(split)
    changed = [
        Opportunity(pk=slot.id, board_rank=key)
        for slot, key in zip(window, keys, strict=True)
        if slot.rank != key
    ]
    Opportunity.objects.bulk_update(changed, ["board_rank"], batch_size=500)
    return moved_key


def _column_lock(status: str) -> None:
    """Serialise placements in one column (two drops between the same neighbours would
    otherwise compute the same key) and make the WIP count exact."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext('board-column'), hashtext(%s))", [status]
        )


def rank_for_slot(status: str, moved_id: int, lower: Slot | None) -> str:
    """The key that puts the card directly below ``lower`` (at the top when None)."""
    upper = _after(status, lower, moved_id)
    try:
        key = rank_between(lower.rank if lower else None, upper.rank if upper else None)
    except RankError:
        return _respread(status, lower, upper, moved_id)
    if len(key) > MAX_KEY_LENGTH:
        return _respread(status, lower, upper, moved_id)
    return key


def rank_at_bottom(*, status: str, opportunity_id: int) -> str:
    """The key for a card joining the end of a column (used by every workflow transition)."""
    _column_lock(status)
    return rank_for_slot(status, opportunity_id, _before(status, None, opportunity_id))


# --- Moves --------------------------------------------------------------------------------

POSITIONS = ("top", "bottom", "up", "down")

MSG_MOVE_FORBIDDEN = "Only the CI team can move cards on the board."
MSG_NOT_A_COLUMN = "“{status}” is not a column on the board."
MSG_OVER_LIMIT = (
    "“{column}” has a work-in-progress limit of {limit} and already holds {count}. "
    "Move it there anyway?"
)
MSG_NOT_ON_BOARD = "{reference} is “{status}”, so it is no longer on the board."


@dataclass(frozen=True)
class MoveResult:
    opportunity: Opportunity
    from_status: str
    to_status: str

    @property
    def changed_column(self) -> bool:
        return self.from_status != self.to_status


def wip_limits() -> dict[str, int]:
    rows = BoardColumn.objects.filter(wip_limit__isnull=False).values_list("status", "wip_limit")
    return dict(rows)


def _check_limit(to: Status, moved_id: int, confirmed: bool) -> None:
    limit = wip_limits().get(to.value)
    if limit is None or confirmed:
        return
    count = _column(to.value, moved_id).count()
    if count >= limit:
        raise ApplicationError(
            MSG_OVER_LIMIT.format(column=to.label, limit=limit, count=count),
            {"over_limit": True, "limit": limit, "count": count, "column": to.value},
        )


def _target_slot(
    status: str,
    moved: Opportunity,
    *,
    before_id: int | None,
    after_id: int | None,
    position: str | int | None,
) -> Slot | None:
    """Resolve where the card goes into "directly below this card" (None: at the top)."""
    if before_id is not None:
        slot = _slot_of(status, before_id, moved.pk)
        if slot is not None:
            return slot
    if after_id is not None:
        slot = _slot_of(status, after_id, moved.pk)
        if slot is not None:
            return _before(status, slot, moved.pk)
    here = Slot(moved.board_rank, moved.pk) if moved.status == status else None
    if position == "top":
        return None
    if position == "up" and here is not None:
        above = _before(status, here, moved.pk)
        return _before(status, above, moved.pk) if above is not None else None
    if position == "down" and here is not None:
        below = _after(status, here, moved.pk)
        return below if below is not None else _before(status, None, moved.pk)
    if isinstance(position, int) and position >= 1:
        if position == 1:
            return None
        row = (
            _column(status, moved.pk)
            .order_by("board_rank", "pk")
            .values_list("board_rank", "pk")[position - 2 : position - 1]
            .first()
        )
        return Slot(*row) if row else _before(status, None, moved.pk)
    if here is not None and position is None and before_id is None and after_id is None:
        return _before(status, here, moved.pk)
    return _before(status, None, moved.pk)


@transaction.atomic
def board_move(
    *,
    actor: Any,
    opportunity_id: int,
    to_status: str,
    expected_version: int,
    before_id: int | None = None,
    after_id: int | None = None,
    position: str | int | None = None,
    confirm_over_limit: bool = False,
) -> MoveResult:
    """Put a card in a column at a place: after ``before_id``, else before ``after_id``, else
    at ``position`` (top, bottom, up, down or a 1-based number). Changing column goes through
    the workflow; either way the card's version must match and is bumped."""
    if not can(actor, Action.MOVE_CARD):
        raise ApplicationError(MSG_MOVE_FORBIDDEN, {"forbidden": True})
    try:
        to = Status(to_status)
    except ValueError:
        raise ApplicationError(MSG_NOT_A_COLUMN.format(status=to_status)) from None
    if to not in OPEN_STATUSES:
        raise ApplicationError(MSG_NOT_A_COLUMN.format(status=to.label))
    opp = Opportunity.objects.select_for_update().get(pk=opportunity_id)
    if opp.version != expected_version:
        raise ApplicationError(
            MSG_STALE.format(current=opp.get_status_display(), version=opp.version),
            {"current_status": opp.status, "current_version": opp.version, "stale": True},
        )
    from_status = opp.status
    if from_status not in OPEN_STATUSES:
        raise ApplicationError(
            MSG_NOT_ON_BOARD.format(reference=opp.reference, status=opp.get_status_display())
        )
    _column_lock(to.value)
    if from_status != to.value:
        _check_limit(to, opp.pk, confirm_over_limit)
        opp = opportunity_transition(
            actor=actor,
            opportunity_id=opp.pk,
            to_status=to.value,
            expected_version=expected_version,
        ).opportunity
        fields = ["board_rank"]
    else:
        opp.version += 1
        opp.updated_at = timezone.now()
        fields = ["board_rank", "version", "updated_at"]
    # Resolved after the transition, which may have re-spread keys in the new column.
    slot = _target_slot(to.value, opp, before_id=before_id, after_id=after_id, position=position)
    opp.board_rank = rank_for_slot(to.value, opp.pk, slot)
    opp.save(update_fields=fields)
    return MoveResult(opportunity=opp, from_status=from_status, to_status=to.value)
